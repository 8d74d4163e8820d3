"""HTML attributes, tag by tag: what a translation may change in them and what it may not.

Tags are paired by name and position (the second ``<a>`` of the source with the second ``<a>``
of the translation). In a pair the attributes are the same ones; ``alt``, ``title``,
``aria-label`` and ``placeholder`` may be translated; ``href``/``src`` may differ only where the
tenant allows localized links; everything else keeps its value. An event handler (``on*``) or a
script URL (``javascript:``, ``vbscript:``, ``data:``) the source does not have is unsafe.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

_START_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*?)?)/?>")
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_SCRIPT_URL = re.compile(r"^(?:javascript|vbscript|data):", re.IGNORECASE)
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]+")

TRANSLATABLE = frozenset({"alt", "title", "aria-label", "placeholder"})
LINKS = frozenset({"href", "src", "srcset", "action", "formaction", "poster", "cite"})


@dataclass(frozen=True, slots=True)
class Problem:
    tag: str
    attribute: str
    kind: str  # "unsafe", "added", "removed", "changed"


def start_tags(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    for name, raw in _START_TAG.findall(text):
        attributes: dict[str, str] = {}
        for key, value in _ATTRIBUTE.findall(raw):
            attributes.setdefault(key.lower(), html.unescape(value.strip("\"'")))
        yield name.lower(), attributes


def unsafe(attribute: str, value: str) -> bool:
    if attribute.startswith("on"):
        return True
    return bool(_SCRIPT_URL.match(_IGNORED_IN_URL.sub("", value)))


def compare(source: str, target: str, *, localized_links: bool) -> list[Problem]:
    """What the translation's tags do to the source's attributes (a tag the source does not
    have counts all its attributes as added; the html check reports the tag itself)."""
    by_name: defaultdict[str, list[dict[str, str]]] = defaultdict(list)
    for name, attributes in start_tags(source):
        by_name[name].append(attributes)
    seen: defaultdict[str, int] = defaultdict(int)
    problems: list[Problem] = []
    for name, attributes in start_tags(target):
        index, seen[name] = seen[name], seen[name] + 1
        original = by_name[name][index] if index < len(by_name[name]) else {}
        for key, value in attributes.items():
            before = original.get(key)
            if before == value:
                continue
            if unsafe(key, value):
                problems.append(Problem(name, key, "unsafe"))
            elif before is None:
                problems.append(Problem(name, key, "added"))
            elif key in TRANSLATABLE or (key in LINKS and localized_links):
                continue
            else:
                problems.append(Problem(name, key, "changed"))
        problems += [Problem(name, key, "removed") for key in original if key not in attributes]
    return problems
