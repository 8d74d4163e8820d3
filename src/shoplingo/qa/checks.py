"""The QA check registry: one small pure function per rule.

Each check has a stable id and a severity: an ``error`` keeps a machine translation from being
published (it goes to review), a ``warning`` is shown with it. Tenants may switch warnings off
(``QaConfig.disabled``); errors always run.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shoplingo.core.language import detect_language, language_of
from shoplingo.qa.issues import Issue, Severity

# Shopify's limits for the fields that have one; a tenant can set its own per field.
DEFAULT_MAX_LENGTH: Mapping[str, int] = {"title": 255, "seo_title": 70, "seo_description": 320}


@dataclass(frozen=True, slots=True)
class Pair:
    source: str
    target: str
    source_locale: str
    target_locale: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class QaConfig:
    disabled: frozenset[str] = frozenset()
    max_length: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_LENGTH))


@dataclass(frozen=True, slots=True)
class Finding:
    message: str
    params: dict[str, Any] = field(default_factory=dict)


CheckFunction = Callable[[Pair, QaConfig], Finding | None]


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    severity: Severity
    description: str
    run: CheckFunction


CHECKS: dict[str, Check] = {}


def check(id: str, severity: Severity, description: str) -> Callable[[CheckFunction], Check]:
    def register(function: CheckFunction) -> Check:
        CHECKS[id] = Check(id, severity, description, function)
        return CHECKS[id]

    return register


def run_checks(pair: Pair, config: QaConfig) -> list[Issue]:
    if not pair.target.strip():
        # nothing else is worth saying about an empty translation
        found = CHECKS["empty"].run(pair, config)
        return [Issue("empty", "error", found.message)] if found else []
    issues = []
    for rule in CHECKS.values():
        if rule.id in config.disabled and rule.severity == "warning":
            continue
        found = rule.run(pair, config)
        if found is not None:
            issues.append(Issue(rule.id, rule.severity, found.message, found.params))
    return issues


def _difference(source: Counter[str], target: Counter[str]) -> dict[str, list[str]]:
    return {
        "missing": sorted((source - target).elements()),
        "unexpected": sorted((target - source).elements()),
    }


# --- placeholders

_PLACEHOLDER = re.compile(
    r"""
      \{\{\s*[\w.]+\s*\}\}                                       # {{name}}
    | \{\s*[\w.]+\s*,\s*(?:plural|selectordinal|select|number|date|time)\b  # ICU argument head
    | \{\s*[A-Za-z_][\w.]*\s*\}                                  # {name}
    | \{[0-9]+\}                                                 # {0}
    | %(?:\([^()\s]+\)|[0-9]+\$)?[-+\#0]*(?:[0-9]+|\*)?(?:\.[0-9]+)?[sdifFeEgGxXoucr]  # printf
    """,
    re.VERBOSE,
)


def placeholders(text: str) -> Counter[str]:
    return Counter(re.sub(r"\s+", "", found) for found in _PLACEHOLDER.findall(text))


@check("placeholders", "error", "Placeholders and ICU arguments are kept exactly")
def same_placeholders(pair: Pair, config: QaConfig) -> Finding | None:
    source, target = placeholders(pair.source), placeholders(pair.target)
    if source == target:
        return None
    diff = _difference(source, target)
    return Finding(
        "Placeholders differ from the source: missing {}, unexpected {}.".format(
            diff["missing"] or "none", diff["unexpected"] or "none"
        ),
        diff,
    )


# --- HTML

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)\b[^<>]*?(/?)>")
_VOID = frozenset(
    {
        *("area", "base", "br", "col", "embed", "hr", "img", "input"),
        *("link", "meta", "param", "source", "track", "wbr"),
    }
)


def tags(text: str) -> Counter[str]:
    return Counter(
        f"</{name.lower()}>" if closing else f"<{name.lower()}>"
        for closing, name, _ in _TAG.findall(text)
    )


def _badly_nested(text: str) -> str | None:
    """The first tag closed out of order or left open, if any."""
    stack: list[str] = []
    for closing, name, self_closing in _TAG.findall(text):
        name = str(name).lower()
        if name in _VOID or self_closing:
            continue
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return name
    return stack[-1] if stack else None


@check("html", "error", "The same HTML tags, well nested")
def same_tags(pair: Pair, config: QaConfig) -> Finding | None:
    source, target = tags(pair.source), tags(pair.target)
    if source != target:
        return Finding("HTML tags differ from the source.", _difference(source, target))
    if source and (tag := _badly_nested(pair.target)) and not _badly_nested(pair.source):
        return Finding(f"The <{tag}> tag is not closed in the right place.", {"tag": tag})
    return None


# --- URLs and e-mail addresses

_LINK = re.compile(
    r"""
      (?:https?|ftp)://[^\s<>"']*[^\s<>"'.,;:!?)\]}]
    | www\.[^\s<>"']*[^\s<>"'.,;:!?)\]}]
    | [A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+
    """,
    re.VERBOSE,
)


@check("urls", "error", "URLs and e-mail addresses are kept exactly")
def same_links(pair: Pair, config: QaConfig) -> Finding | None:
    source, target = Counter(_LINK.findall(pair.source)), Counter(_LINK.findall(pair.target))
    if source == target:
        return None
    return Finding("URLs or e-mail addresses differ from the source.", _difference(source, target))


# --- numbers and units

# grouping separators a locale may put between thousands ("1.000", "1 000", "1'000")
_NUMBER = re.compile(r"[0-9]+(?:[.,'\u00a0\u202f\u2009][0-9]+)*")
_GROUP = re.compile(r"[.,'\u00a0\u202f\u2009](?=[0-9]{3}(?![0-9]))")
_UNIT = re.compile(
    r"(?<=[0-9])\s?(mm|cm|km|m|mg|kg|g|ml|l|mAh|kWh|Wh|kW|W|V|A|GHz|MHz|Hz|KB|MB|GB|TB|°C|°F|oz|lb|%)"
    r"(?![A-Za-z])"
)


def numbers(text: str) -> Counter[str]:
    """Numbers with their grouping removed, split at the decimal mark: "1,299.99" and
    "1.299,99" both give 1299 and 99, so locale formatting is not a difference."""
    found: Counter[str] = Counter()
    for number in _NUMBER.findall(text):
        found.update(re.split(r"[.,]", _GROUP.sub("", number)))
    return found


@check("numbers", "warning", "Numbers and units match the source")
def same_numbers(pair: Pair, config: QaConfig) -> Finding | None:
    source, target = numbers(pair.source), numbers(pair.target)
    if source != target:
        return Finding("Numbers differ from the source.", _difference(source, target))
    units, target_units = Counter(_UNIT.findall(pair.source)), Counter(_UNIT.findall(pair.target))
    if units != target_units:
        return Finding("Units differ from the source.", _difference(units, target_units))
    return None


# --- whitespace, empty and unchanged output


@check("whitespace", "warning", "Leading and trailing whitespace as in the source")
def same_outer_whitespace(pair: Pair, config: QaConfig) -> Finding | None:
    def outer(text: str) -> tuple[str, str]:
        return text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]

    if outer(pair.source) == outer(pair.target):
        return None
    return Finding("Leading or trailing whitespace differs from the source.")


@check("empty", "error", "The translation is not empty")
def not_empty(pair: Pair, config: QaConfig) -> Finding | None:
    if pair.target.strip() or not pair.source.strip():
        return None
    return Finding("The translation is empty.")


@check("unchanged", "warning", "The translation is not a copy of the source")
def not_unchanged(pair: Pair, config: QaConfig) -> Finding | None:
    if language_of(pair.source_locale) == language_of(pair.target_locale):
        return None
    source = pair.source.strip()
    if pair.target.strip() != source or sum(c.isalpha() for c in source) < 4:
        return None
    return Finding("The translation is the same as the source.")


# --- length


@check("max_length", "error", "Within the field's length limit")
def within_length(pair: Pair, config: QaConfig) -> Finding | None:
    if pair.field is None or (limit := config.max_length.get(pair.field)) is None:
        return None
    if len(pair.target) <= limit:
        return None
    return Finding(
        f"The {pair.field} is {len(pair.target)} characters long; the limit is {limit}.",
        {"field": pair.field, "length": len(pair.target), "limit": limit},
    )


# --- output language

# only text long enough to tell, and only a confident verdict, counts
_MIN_LETTERS = 20
_MIN_CONFIDENCE = 0.7
_NOT_PROSE = re.compile(r"<[^<>]*>|&\w+;|\{[^{}]*\}|%\S*|" + _LINK.pattern, re.VERBOSE)


@check("language", "warning", "The translation is in the target language")
def in_target_language(pair: Pair, config: QaConfig) -> Finding | None:
    prose = _NOT_PROSE.sub(" ", pair.target)
    if sum(c.isalpha() for c in prose) < _MIN_LETTERS:
        return None
    detected = detect_language(prose)
    if detected is None or detected.confidence < _MIN_CONFIDENCE:
        return None
    expected = language_of(pair.target_locale)
    if detected.code == expected:
        return None
    return Finding(
        f"The translation looks like {detected.name}, not the target language.",
        {"detected": detected.code, "confidence": round(detected.confidence, 2)},
    )
