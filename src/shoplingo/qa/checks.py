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
from shoplingo.qa import attributes
from shoplingo.qa.icu import POUND, Argument, Message, icu_error, icu_message
from shoplingo.qa.issues import Issue, Severity
from shoplingo.qa.plurals import plural_categories
from shoplingo.qa.prose import LINK, letters, prose

# Shopify's limits for the fields that have one; a tenant can set its own per field.
DEFAULT_MAX_LENGTH: Mapping[str, int] = {"title": 255, "seo_title": 70, "seo_description": 320}


@dataclass(frozen=True, slots=True)
class Pair:
    source: str
    target: str
    source_locale: str
    target_locale: str
    field: str | None = None
    # the tenant's keep terms this source uses: brand names that rightly stay as they are
    keep: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QaConfig:
    disabled: frozenset[str] = frozenset()
    max_length: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_LENGTH))
    # a translation may point href/src at a localized page (tenant setting qa.localized_links)
    localized_links: bool = False


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


def _flat(text: str) -> Counter[str]:
    return Counter(re.sub(r"\s+", "", found) for found in _PLACEHOLDER.findall(text))


def _tokens(message: Message, plural: str | None = None) -> Counter[str]:
    """The placeholders of one level of an ICU message: a plural/select argument is one token
    (its branches are compared branch by branch); ``#`` and ``{n}`` inside a plural on ``n``
    are both the number."""
    found: Counter[str] = Counter()
    for node in message:
        if isinstance(node, str):
            found += _flat(node)
        elif node is POUND or (
            isinstance(node, Argument) and node.name == plural and not node.type
        ):
            found["#"] += 1
        elif isinstance(node, Argument):
            found[f"{{{node.name},{node.type}}}" if node.type else f"{{{node.name}}}"] += 1
    return found


def placeholders(text: str) -> Counter[str]:
    message = icu_message(text)
    return _flat(text) if message is None else _tokens(message)


def _plurals_made_from_plain(source: Counter[str], target: Counter[str], text: str) -> Counter[str]:
    """The translation's placeholders where a plain ``{count}`` of the source became
    ``{count, plural, ...}``: that counts as the ``{count}``, and what its ``other`` branch
    holds counts as the rest of the message."""
    adjusted = Counter(target)
    for node in icu_message(text) or ():
        if not (isinstance(node, Argument) and node.type == "plural"):
            continue
        if source[f"{{{node.name},plural}}"] or not source[f"{{{node.name}}}"]:
            continue
        adjusted[f"{{{node.name},plural}}"] -= 1
        adjusted[f"{{{node.name}}}"] += 1
        inner = _tokens(node.branch("other") or (), node.name)
        inner.pop("#", None)
        adjusted.update(inner)
    return +adjusted


@check("placeholders", "error", "Placeholders and ICU arguments are kept exactly")
def same_placeholders(pair: Pair, config: QaConfig) -> Finding | None:
    source, target = placeholders(pair.source), placeholders(pair.target)
    if source != target and "plural" in pair.target:
        target = _plurals_made_from_plain(source, target, pair.target)
    if source == target:
        return None
    diff = _difference(source, target)
    return Finding(
        "Placeholders differ from the source: missing {}, unexpected {}.".format(
            diff["missing"] or "none", diff["unexpected"] or "none"
        ),
        diff,
    )


_UNNUMBERED = re.compile(r"%%|%[-+#0]*(?:[0-9]+|\*)?(?:\.[0-9]+)?[sdifFeEgGxXoucr]")


def _unnumbered(text: str) -> list[str]:
    return [found for found in _UNNUMBERED.findall(text) if found != "%%"]


@check("placeholder_order", "error", "Unnumbered printf conversions (%s, %d) keep their order")
def same_printf_order(pair: Pair, config: QaConfig) -> Finding | None:
    if "%" not in pair.source:
        return None
    source, target = _unnumbered(pair.source), _unnumbered(pair.target)
    if source == target or Counter(source) != Counter(target):
        return None  # the same order, or different placeholders (the placeholders check says so)
    return Finding(
        f"Unnumbered placeholders must keep the source's order {source}; number them (%1$s) "
        "to move them.",
        {"expected": source, "found": target},
    )


def _unbalanced_at(text: str) -> int | None:
    depth = 0
    for at, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return at
    return len(text) if depth else None


@check("braces", "error", "Braces are balanced where the source uses brace placeholders")
def balanced_braces(pair: Pair, config: QaConfig) -> Finding | None:
    if "{" not in pair.source and "{" not in pair.target and "}" not in pair.target:
        return None
    if not any(p.startswith("{") for p in placeholders(pair.source)):
        return None
    if _unbalanced_at(pair.source) is not None or (at := _unbalanced_at(pair.target)) is None:
        return None
    return Finding(f"A brace is unbalanced at character {at}.", {"position": at})


# --- ICU plural and select


def _compare_level(source: Message, target: Message, locale: str) -> list[str]:
    """Problems of the plural/select arguments of one level of the translation, against the
    argument of the same name in the source (arguments without one: the placeholders check)."""
    by_name = {n.name: n for n in source if isinstance(n, Argument)}
    problems: list[str] = []
    for node in target:
        if not isinstance(node, Argument) or node.type not in ("plural", "select", "selectordinal"):
            continue
        original = by_name.get(node.name)
        if original is None or original.type not in (node.type, None):
            continue
        problems += _compare_argument(original, node, locale)
    return problems


def _compare_argument(source: Argument, target: Argument, locale: str) -> list[str]:
    name, keys, problems = target.name, set(target.keys), []
    if "other" not in keys:
        problems.append(f"{{{name}}} has no other branch.")
    if target.type == "select":
        if keys != set(source.keys):
            problems.append(
                f"{{{name}}} must have the source's select keys {sorted(source.keys)}, "
                f"not {sorted(keys)}."
            )
    else:
        categories = {k for k in keys if not k.startswith("=")}
        needed = plural_categories(locale, ordinal=target.type == "selectordinal")
        if needed is None:
            pass  # a locale CLDR does not know: its categories cannot be checked
        elif categories - needed:
            problems.append(
                f"{{{name}}}: {sorted(categories - needed)} not a plural category of the "
                f"target language (it has {sorted(needed)})."
            )
        if needed is not None and needed - categories:
            problems.append(f"{{{name}}} needs the {sorted(needed - categories)} branches.")
        exact = {k for k in source.keys if k.startswith("=")} - keys
        if exact:
            problems.append(f"{{{name}}} drops the {sorted(exact)} branches.")
    if source.type is None:  # a plain {count} the translation made a plural
        reference: Message | None = target.branch("other")
    else:
        reference = source.branch("other")
    plural = name if target.type != "select" else None
    for key, branch in target.branches:
        expected = source.branch(key) if source.type else None
        expected = expected if expected is not None else reference
        if expected is None:
            continue
        want, got = _tokens(expected, plural), _tokens(branch, plural)
        want.pop("#", None), got.pop("#", None)
        if want != got:
            diff = _difference(want, got)
            problems.append(
                f"{{{name}}} branch {key}: placeholders missing {diff['missing'] or 'none'}, "
                f"unexpected {diff['unexpected'] or 'none'}."
            )
        problems += _compare_level(expected, branch, locale)
    other = target.branch("other")
    counted = source.type and "#" in _tokens(source.branch("other") or (), plural)
    if counted and other is not None and "#" not in _tokens(other, plural):
        problems.append(f"{{{name}}} branch other: the number (#) is missing.")
    return problems


@check("icu", "error", "ICU plural and select messages are well formed and fit the language")
def icu_messages(pair: Pair, config: QaConfig) -> Finding | None:
    if "{" not in pair.target:
        return None
    target = icu_message(pair.target)
    if target is None:
        error = icu_error(pair.target)
        if error is None:
            return None
        return Finding(f"The ICU message is not well formed: {error}.", {"error": error})
    source = icu_message(pair.source)
    if source is None:
        # a plain source: the translation may turn its {count} into a plural
        source = tuple(
            Argument(p[1:-1]) for p in placeholders(pair.source) if p[1:-1].isidentifier()
        )
    problems = _compare_level(source, target, pair.target_locale)
    if not problems:
        return None
    return Finding(" ".join(problems), {"problems": problems})


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


_PROBLEM = {
    "unsafe": "The translation adds a script to <{tag}>: {attribute} is not allowed.",
    "added": "The translation adds the {attribute} attribute to <{tag}>.",
    "removed": "The translation drops the {attribute} attribute of <{tag}>.",
    "changed": "The translation changes the {attribute} of <{tag}>.",
}


@check("html_attributes", "error", "HTML attributes as in the source (alt and title translated)")
def same_attributes(pair: Pair, config: QaConfig) -> Finding | None:
    if "<" not in pair.target:
        return None
    problems = attributes.compare(pair.source, pair.target, localized_links=config.localized_links)
    if not problems:
        return None
    first = problems[0]
    return Finding(
        _PROBLEM[first.kind].format(tag=first.tag, attribute=first.attribute),
        {"problems": [[p.tag, p.attribute, p.kind] for p in problems]},
    )


# --- URLs and e-mail addresses


@check("urls", "error", "URLs and e-mail addresses are kept exactly")
def same_links(pair: Pair, config: QaConfig) -> Finding | None:
    source, target = Counter(LINK.findall(pair.source)), Counter(LINK.findall(pair.target))
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
    if pair.target.strip() != source or letters(prose(source, pair.keep)) < 4:
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
_SAMPLE = 2_000


@check("language", "warning", "The translation is in the target language")
def in_target_language(pair: Pair, config: QaConfig) -> Finding | None:
    text = prose(pair.target)
    if letters(text) < _MIN_LETTERS:
        return None
    # a sample tells as well as the whole, and lingua takes seconds on one 100,000-letter word
    detected = detect_language(text[:_SAMPLE])
    if detected is None or detected.confidence < _MIN_CONFIDENCE:
        return None
    expected = language_of(pair.target_locale)
    if detected.code == expected:
        return None
    return Finding(
        f"The translation looks like {detected.name}, not the target language.",
        {"detected": detected.code, "confidence": round(detected.confidence, 2)},
    )
