"""Which texts are legal statements: by field and by content, on both sides of a
translation, under a tenant's rules.

Pure and fast. A tenant's rules compile once per rules version; within that, one regular
expression per ordered set of languages (each pattern an alternative in a named group: the
first language's patterns, then the others', then the language-independent ``*`` ones), so
classifying a text is a field lookup and one ``search`` per side.

- Field: every ``legal.<name>`` field of a product is legal (the catalog's ``legal`` object
  holds nothing else), and so is an attribute whose name matches a field of the tenant's list
  by words: the field's own name or one of its default aliases (``Warranty info``,
  ``Garantie``, ``保修`` -> ``warranty``; ``Safety warnings`` -> ``safety_warning``).
- Content: every text is read as :func:`shoplingo.legal.normalize.normalize` makes it (tags,
  invisible characters and compatibility forms gone). Each side of a segment, the source text
  and the target text (a translation, machine or human), is read with the rules of the
  segment's two languages, of every language the shop sells (its source locale and target
  locales: a German warning left untranslated in a French text is still a warning) and of
  ``*``; the side's own language comes first, so its rule names the reason when two match at
  one place. Either side makes the segment legal. Patterns are matched case-insensitively;
  ``(?-i:CE)`` makes a part case-sensitive.

Two engines: the built-in rules (ours, vetted, some with lookbehind) are Python regular
expressions; a tenant's own patterns are RE2 (``google-re2``), whose matching time is linear in
the text whatever the pattern, so no tenant-written pattern can stall the process. Each reading
order has one expression per engine; the earlier match wins, and at one place the rule listed
first (:func:`check_tenant_pattern` is what a new tenant pattern must pass).

The default rules are data: ``legal/rules/default.toml`` (see :mod:`shoplingo.legal.defaults`).
The reason is stored on the segment: ``field warranty``, ``content: refund (en)`` (the source
text) or ``translation: refund (de)`` (the target text).
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import re2

from shoplingo.core.versioned import VersionedCache
from shoplingo.legal.defaults import defaults
from shoplingo.legal.normalize import normalize
from shoplingo.models import Tenant

ANY_LANGUAGE = "*"
_DEFAULTS = defaults()
DEFAULT_FIELDS: tuple[str, ...] = _DEFAULTS.fields
# the other names of each field, matched by words (legal/rules/default.toml)
DEFAULT_ALIASES: Mapping[str, tuple[str, ...]] = _DEFAULTS.aliases
# (name, pattern) per language, from legal/rules/default.toml
DEFAULT_PATTERNS: Mapping[str, tuple[tuple[str, str], ...]] = _DEFAULTS.patterns

FLAGS = re.IGNORECASE
# compiled expressions kept per classifier (one per reading order of a shop's languages; the
# shared default classifier serves every shop without its own rules)
_COMPILED_MAX = 512


@dataclass(frozen=True, slots=True)
class LegalPattern:
    name: str
    pattern: str


@dataclass(frozen=True, slots=True)
class LegalRules:
    """A tenant's legal rules: field names, and content patterns per language."""

    fields: tuple[str, ...] = DEFAULT_FIELDS
    patterns: Mapping[str, tuple[LegalPattern, ...]] = field(
        default_factory=lambda: {
            lang: tuple(LegalPattern(n, p) for n, p in items)
            for lang, items in DEFAULT_PATTERNS.items()
        }
    )
    # bumped by every change; compiled classifiers are cached per (tenant, version)
    version: int = 0
    # other names of the fields (not a tenant setting: the defaults' aliases of the fields
    # the tenant lists)
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_ALIASES)

    @classmethod
    def with_additions(
        cls,
        fields: Sequence[str],
        patterns: Mapping[str, Sequence[LegalPattern]],
        version: int,
    ) -> LegalRules:
        """The built-in rules plus a tenant's own. The built-in ones are the floor: the law does
        not change with a tenant's settings, so no key (an admin's included) can switch them
        off; a tenant adds fields and patterns, and takes away only what it added."""
        floor = BUILT_IN_RULES
        merged = {lang: list(items) for lang, items in floor.patterns.items()}
        for lang, items in patterns.items():
            have = set(merged.setdefault(lang, []))
            merged[lang] += [p for p in dict.fromkeys(items) if p not in have]
        return cls(
            fields=tuple(dict.fromkeys([*floor.fields, *fields])),
            patterns={lang: tuple(items) for lang, items in merged.items()},
            version=version,
        )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> LegalRules:
        """The rules stored in ``tenants.settings['legal']`` (the tenant's additions) on top of
        the built-in ones."""
        stored = (settings or {}).get("legal") or {}
        return cls.with_additions(
            stored.get("fields") or (),
            {
                lang: tuple(LegalPattern(p["name"], p["pattern"]) for p in items)
                for lang, items in (stored.get("patterns") or {}).items()
            },
            int(stored.get("version", 0)),
        )

    def to_settings(self) -> dict[str, Any]:
        """What is stored: only the tenant's additions (the built-in rules follow the code)."""
        floor = BUILT_IN_RULES
        patterns = {
            lang: [
                {"name": p.name, "pattern": p.pattern}
                for p in items
                if p not in floor.patterns.get(lang, ())
            ]
            for lang, items in self.patterns.items()
        }
        return {
            "version": self.version,
            "fields": [f for f in self.fields if f not in floor.fields],
            "patterns": {lang: items for lang, items in patterns.items() if items},
        }


# the floor every tenant's rules include
BUILT_IN_RULES = LegalRules()
_BUILT_IN = frozenset((lang, p) for lang, items in BUILT_IN_RULES.patterns.items() for p in items)


def _built_in(language: str, pattern: LegalPattern) -> bool:
    return (language, pattern) in _BUILT_IN


def field_key(name: str) -> str:
    """``Safety warning`` -> ``safety_warning``: how a field list names its fields."""
    return re.sub(r"[\s\-]+", "_", name.strip()).lower()


def language_of(locale: str) -> str:
    """``en-US`` -> ``en``, ``zh-Hans-CN`` -> ``zh``."""
    return re.split(r"[-_]", locale, maxsplit=1)[0].lower()


def shop_locales(source_locale: str | None, target_locales: Iterable[str]) -> tuple[str, ...]:
    """Every locale a shop sells (its source locale and target locales), for
    :func:`classifier_for`."""
    return (*([source_locale] if source_locale else []), *target_locales)


@functools.lru_cache(maxsize=4096)
def _languages(locales: tuple[str, ...]) -> tuple[str, ...]:
    """Locales or languages -> their languages, deduplicated and sorted (one order per set)."""
    return tuple(sorted({language_of(locale) for locale in locales} - {ANY_LANGUAGE}))


# English is read in every shop: the language claims are left untranslated in most often
ALWAYS_READ = "en"


@functools.lru_cache(maxsize=4096)
def _reading(locale: str, other: str, shop: tuple[str, ...]) -> tuple[str, ...]:
    """The languages one side is read with: its own first, then the segment's other language
    and the shop's, sorted (so a shop's sources share one expression whatever the target)."""
    own = language_of(locale)
    rest = {language_of(other), *shop, ALWAYS_READ} - {own, ANY_LANGUAGE}
    return (own, *sorted(rest))


# scripts that name their language: a text showing one is read with that language's rules too,
# whether or not the shop sells it (a Russian warranty in an en-US product)
_SCRIPT_LANGUAGES = (
    (re.compile("[\u0400-\u04ff]"), "ru"),
    (re.compile("[\u0600-\u06ff]"), "ar"),
    (re.compile("[\u1100-\u11ff\uac00-\ud7af]"), "ko"),
    (re.compile("[\u3040-\u30ff]"), "ja"),
    (re.compile("[\u4e00-\u9fff]"), "zh"),  # Japanese text shows kana as well
)
_ANY_SCRIPT_SHOWN = re.compile(
    "[\u0400-\u04ff\u0600-\u06ff\u1100-\u11ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]"
)


def _with_scripts_shown(text: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    """``languages`` (a reading order) and the languages of the scripts ``text`` shows."""
    if not _ANY_SCRIPT_SHOWN.search(text):
        return languages
    shown = {
        language
        for script, language in _SCRIPT_LANGUAGES
        if language not in languages and script.search(text)
    }
    if not shown:
        return languages
    own, *rest = languages
    return (own, *sorted({*rest, *shown}))


def _alternatives(patterns: Sequence[tuple[int, str]]) -> str:
    """``patterns`` (index, pattern) as one alternation; the matching group is ``p<index>``."""
    return "|".join(f"(?P<p{i}>{pattern})" for i, pattern in patterns)


def _re2_options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


_RE2_OPTIONS = _re2_options()
PatternProblem = Literal["unsupported", "too_large", "invalid"]


class PatternRefused(ValueError):
    """A tenant pattern RE2 cannot run: ``problem`` says why, ``reason`` is the engine's word."""

    def __init__(self, problem: PatternProblem, reason: str) -> None:
        super().__init__(reason)
        self.problem: PatternProblem = problem
        self.reason = reason


def check_tenant_pattern(pattern: str) -> None:
    """Raise :class:`PatternRefused` unless RE2 runs ``pattern`` as a tenant rule: lookaround,
    backreferences and named groups are unsupported (Python's syntax has them, RE2's does not),
    a program over RE2's memory budget is too large, anything else RE2 refuses is invalid."""
    try:
        compiled = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        if "too large" in reason:
            raise PatternRefused("too_large", reason) from None
        try:
            re.compile(pattern)
        except re.error:
            raise PatternRefused("invalid", reason) from None
        raise PatternRefused("unsupported", reason) from None
    if compiled.groupindex:
        # the combined expression names its groups p<index>
        raise PatternRefused("unsupported", "named group")


class _TenantPatterns:
    """A tenant's own patterns on RE2: one combined expression, or each on its own when RE2 can
    not hold them together. A stored pattern RE2 cannot run at all (saved before patterns were
    checked against RE2) matches every text at its start: it holds texts for review rather
    than letting legal text through unread."""

    __slots__ = ("_combined", "_each", "_groups")

    def __init__(self, patterns: Sequence[tuple[int, str]]) -> None:
        self._groups = {f"p{i}": i for i, _ in patterns}
        self._each: tuple[tuple[int, Any], ...] = ()
        try:
            self._combined: Any = re2.compile(_alternatives(patterns), _RE2_OPTIONS)
        except re2.error:
            self._combined = None
            self._each = tuple((i, _re2_or_none(p)) for i, p in patterns)

    def first(self, text: str) -> tuple[int, int] | None:
        """(start, index) of the first match in ``text``: leftmost, then the lowest index."""
        if self._combined is not None:
            match = self._combined.search(text)
            if match is None:
                return None
            found = match.groupdict()
            index = min(i for name, i in self._groups.items() if found.get(name) is not None)
            return match.start(), index
        hits = [
            (0, i) if regex is None else (m.start(), i)
            for i, regex in self._each
            if regex is None or (m := regex.search(text)) is not None
        ]
        return min(hits, default=None)


def _re2_or_none(pattern: str) -> Any:
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error:
        return None


def _built_in_regex(patterns: Sequence[tuple[int, str]]) -> re.Pattern[str] | None:
    return re.compile(_alternatives(patterns), FLAGS) if patterns else None


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A reading order's rules: ``labels[i]`` is (name, language) of the rule in group ``p<i>``
    of either expression (built-in rules on Python ``re``, a tenant's own on RE2)."""

    built_in: re.Pattern[str] | None
    tenant: _TenantPatterns | None
    labels: list[tuple[str, str]]

    def first(self, text: str) -> tuple[str, str] | None:
        hits: list[tuple[int, int]] = []
        if self.built_in is not None and (match := self.built_in.search(text)):
            assert match.lastgroup is not None
            hits.append((match.start(), int(match.lastgroup[1:])))
        if self.tenant is not None and (hit := self.tenant.first(text)):
            hits.append(hit)
        return self.labels[min(hits)[1]] if hits else None


# scripts written without spaces between words: an alias in them matches as a substring
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# the last word of an alias this long may begin a longer word (German compounds)
PREFIX_MIN = 5
_NAME_CACHE_SIZE = 4096


def name_words(name: str) -> tuple[str, ...]:
    """``Warranty-Info (EU)`` -> ``("warranty", "info", "eu")``: normalized, case-folded."""
    return tuple(w for w in re.split(r"[\W_]+", normalize(name).casefold()) if w)


@dataclass(frozen=True, slots=True)
class _FieldNames:
    key: str
    phrases: tuple[tuple[str, ...], ...]
    substrings: tuple[str, ...]

    def matches(self, folded: str, words: tuple[str, ...]) -> bool:
        if any(s in folded for s in self.substrings):
            return True
        for phrase in self.phrases:
            *head, last = phrase
            for i in range(len(words) - len(phrase) + 1):
                word = words[i + len(head)]
                if list(words[i : i + len(head)]) == head and (
                    word == last or (len(last) >= PREFIX_MIN and word.startswith(last))
                ):
                    return True
        return False


def _field_names(key: str, aliases: Sequence[str]) -> _FieldNames:
    names = [key.replace("_", " "), *aliases]
    return _FieldNames(
        key=key,
        phrases=tuple(w for n in names if not _UNSPACED.search(n) and (w := name_words(n))),
        substrings=tuple(normalize(n).casefold() for n in names if _UNSPACED.search(n)),
    )


class Classifier:
    """Compiled legal rules. ``reason()`` is the only call on the hot path."""

    __slots__ = ("_by_languages", "_fields", "_names", "_rules", "_shop")

    def __init__(self, rules: LegalRules) -> None:
        self._rules = rules
        self._shop: tuple[str, ...] = ()
        self._fields = tuple(
            _field_names(key, rules.aliases.get(key, ()))
            for key in dict.fromkeys(field_key(name) for name in rules.fields)
        )
        self._names: dict[str, str | None] = {}
        self._by_languages: dict[tuple[str, ...], _Compiled] = {}

    def for_shop(self, locales: Iterable[str]) -> Classifier:
        """These rules for a shop selling ``locales`` (or languages): every text is also read
        with their languages' rules. Shares the compiled expressions; cheap."""
        shop = _languages(tuple(locales))
        if shop == self._shop:
            return self
        bound = object.__new__(Classifier)
        bound._rules, bound._fields, bound._names = self._rules, self._fields, self._names
        bound._by_languages, bound._shop = self._by_languages, shop
        return bound

    @property
    def shop_languages(self) -> tuple[str, ...]:
        return self._shop

    def _compiled(self, languages: tuple[str, ...]) -> _Compiled:
        found = self._by_languages.get(languages)
        if found is None:
            order = [*dict.fromkeys(lang for lang in languages if lang != ANY_LANGUAGE)]
            labelled = [
                (lang, p)
                for lang in [*order, ANY_LANGUAGE]
                for p in self._rules.patterns.get(lang, ())
            ]
            ours = [(i, p.pattern) for i, (lang, p) in enumerate(labelled) if _built_in(lang, p)]
            theirs = [
                (i, p.pattern) for i, (lang, p) in enumerate(labelled) if not _built_in(lang, p)
            ]
            found = _Compiled(
                built_in=_built_in_regex(ours),
                tenant=_TenantPatterns(theirs) if theirs else None,
                labels=[(p.name, lang) for lang, p in labelled],
            )
            if len(self._by_languages) >= _COMPILED_MAX:
                del self._by_languages[next(iter(self._by_languages))]
            self._by_languages[languages] = found
        return found

    def _attribute_field(self, name: str) -> str | None:
        if name in self._names:
            return self._names[name]
        folded = normalize(name).casefold()
        words = name_words(name)
        found = next((f.key for f in self._fields if f.matches(folded, words)), None)
        if len(self._names) < _NAME_CACHE_SIZE:
            self._names[name] = found
        return found

    def field_reason(self, field_name: str) -> str | None:
        kind, _, name = field_name.partition(".")
        if kind == "legal" and name:
            return f"field {name}"
        if kind == "attributes" and name and (key := self._attribute_field(name)):
            return f"field {key}"
        return None

    def _hit(self, text: str, languages: tuple[str, ...]) -> tuple[str, str] | None:
        """(rule name, its language) of the first rule ``text`` (normalized here) matches."""
        normalized = normalize(text)
        if not normalized.isascii():
            languages = _with_scripts_shown(normalized, languages)
        return self._compiled(languages).first(normalized)

    def _shop_with(self, shop_languages: Sequence[str]) -> tuple[str, ...]:
        if not shop_languages:
            return self._shop
        return _languages((*self._shop, *shop_languages))

    def content_reason(
        self, text: str, locale: str, *, shop_languages: Sequence[str] = ()
    ) -> str | None:
        """One text in one language (a support policy): its language's rules, the shop's
        languages' and ``*``."""
        hit = self._hit(text, _reading(locale, locale, self._shop_with(shop_languages)))
        return f"content: {hit[0]} ({hit[1]})" if hit else None

    def reason(
        self,
        field_name: str,
        source_text: str,
        source_locale: str,
        target_locale: str | None = None,
        target_text: str | None = None,
        *,
        shop_languages: Sequence[str] = (),
    ) -> str | None:
        """Why this segment is legal (stored on it), or None when it is not: the one
        classification of a source text and its translation into ``target_locale`` (the
        target text when there is one). Every caller that sets or re-reads a segment's or a
        reply's text asks this. ``shop_languages`` (locales or languages) are read besides
        the segment's and the shop's this classifier is for (:meth:`for_shop`)."""
        if found := self.field_reason(field_name):
            return found
        shop = self._shop_with(shop_languages)
        target = target_locale or source_locale
        if hit := self._hit(source_text, _reading(source_locale, target, shop)):
            return f"content: {hit[0]} ({hit[1]})"
        if target_text and (hit := self._hit(target_text, _reading(target, source_locale, shop))):
            return f"translation: {hit[0]} ({hit[1]})"
        return None


DEFAULT_CLASSIFIER = Classifier(BUILT_IN_RULES)
_cache: VersionedCache[Classifier] = VersionedCache(1024)


def classifier_for(
    tenant_id: uuid.UUID, settings: Mapping[str, Any] | None, locales: Iterable[str]
) -> Classifier:
    """The classifier for a tenant's settings (compiled once per rules version) for the shop
    selling ``locales`` (:func:`shop_locales`: every text is read with their rules too)."""
    stored = (settings or {}).get("legal")
    if not stored:
        return DEFAULT_CLASSIFIER.for_shop(locales)
    version = int(stored.get("version", 0))
    found = _cache.get(tenant_id, version)
    if found is None:
        found = _cache.put(tenant_id, version, Classifier(LegalRules.from_settings(settings)))
    return found.for_shop(locales)


def tenant_classifier(tenant_id: uuid.UUID, tenant: Tenant | None) -> Classifier:
    """:func:`classifier_for` a tenant as stored: its rules, for the locales its shop sells
    (the default rules when the tenant is gone)."""
    if tenant is None:
        return classifier_for(tenant_id, None, ())
    return classifier_for(
        tenant_id, tenant.settings, shop_locales(tenant.source_locale, tenant.target_locales)
    )
