"""A tenant's glossary compiled for matching: which terms a source text uses, what its
translation must then contain, and what no translation may contain.

For a source text and a target locale:

- every ``translate`` term found in the source needs its target for that locale (or one of
  the allowed variants) in the translation, at least as often as the term occurs;
- every ``keep`` term found in the source appears verbatim in the translation as often;
- no ``forbidden`` word of the target locale appears in the translation at all.

A term's targets are looked up from the most specific locale to the language (``de-AT``,
then ``de``); a term with no target for a locale is not enforced there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shoplingo.glossary.matcher import TermFinder
from shoplingo.qa.issues import Issue

TRANSLATE, KEEP, FORBIDDEN = "translate", "keep", "forbidden"


@dataclass(frozen=True, slots=True)
class TermTarget:
    text: str | None
    variants: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        return ((self.text,) if self.text else ()) + self.variants


@dataclass(frozen=True, slots=True)
class Term:
    id: str
    text: str
    kind: str
    case_sensitive: bool = False
    targets: Mapping[str, TermTarget] | None = None

    def target_for(self, locale: str) -> TermTarget | None:
        if not self.targets:
            return None
        for candidate in locale_candidates(locale):
            if candidate in self.targets:
                return self.targets[candidate]
        return None


def locale_candidates(locale: str) -> tuple[str, ...]:
    """``zh-Hant-TW`` -> ``zh-Hant-TW``, ``zh-Hant``, ``zh`` (most specific first)."""
    parts = locale.split("-")
    return tuple("-".join(parts[:n]) for n in range(len(parts), 0, -1))


@dataclass(frozen=True, slots=True)
class _LocaleRules:
    required: dict[str, TermTarget]  # translate term id -> its target here
    finder: TermFinder[str]  # targets, variants, keep terms and forbidden words -> term id


class Glossary:
    def __init__(self, terms: Iterable[Term], version: int = 0) -> None:
        self.version = version
        self.terms = {term.id: term for term in terms}
        self._source = TermFinder(
            (t.text, t.case_sensitive, t.id) for t in self.terms.values() if t.kind != FORBIDDEN
        )
        self._locales: dict[str, _LocaleRules] = {}

    def __len__(self) -> int:
        return len(self.terms)

    def _rules(self, locale: str) -> _LocaleRules:
        rules = self._locales.get(locale)
        if rules is None:
            required: dict[str, TermTarget] = {}
            needles: list[tuple[str, bool, str]] = []
            for term in self.terms.values():
                if term.kind == KEEP:
                    needles.append((term.text, term.case_sensitive, term.id))
                    continue
                target = term.target_for(locale)
                if target is None:
                    continue
                if term.kind == TRANSLATE and target.text:
                    required[term.id] = target
                needles += [(form, term.case_sensitive, term.id) for form in target.forms]
            rules = self._locales[locale] = _LocaleRules(required, TermFinder(needles))
        return rules

    def found_in(self, source: str) -> list[Term]:
        """The translate and keep terms a source text uses, each once, in text order."""
        seen: dict[str, Term] = {}
        for match in self._source.find(source):
            for term_id in match.payloads:
                seen.setdefault(term_id, self.terms[term_id])
        return list(seen.values())

    def provider_terms(self, source: str, locale: str) -> tuple[tuple[str, str], ...]:
        """``(source term, required target)`` pairs for the terms this text uses: what Qwen-MT
        gets as ``terms`` (a keep term maps to itself)."""
        rules = self._rules(locale)
        pairs: list[tuple[str, str]] = []
        for term in self.found_in(source):
            if term.kind == KEEP:
                pairs.append((term.text, term.text))
            elif (target := rules.required.get(term.id)) is not None and target.text:
                pairs.append((term.text, target.text))
        return tuple(pairs)

    def check(self, source: str, target: str, locale: str) -> list[Issue]:
        rules = self._rules(locale)
        used = self._source.count(source)
        if not used and rules.finder.empty:
            return []
        present = rules.finder.count(target)
        issues: list[Issue] = []
        for term_id, times in used.items():
            term = self.terms[term_id]
            found = present.get(term_id, 0)
            if term.kind == KEEP and found < times:
                issues.append(
                    Issue(
                        "glossary.keep",
                        "error",
                        f'Keep "{term.text}" exactly as written.',
                        {"term": term.text, "required": times, "found": found},
                    )
                )
            elif (expected := rules.required.get(term_id)) and found < times:
                issues.append(
                    Issue(
                        "glossary.missing_target",
                        "error",
                        f'Translate "{term.text}" as "{expected.text}".',
                        {
                            "term": term.text,
                            "expected": expected.text,
                            "variants": list(expected.variants),
                            "required": times,
                            "found": found,
                        },
                    )
                )
        for term_id in present:
            term = self.terms[term_id]
            if term.kind == FORBIDDEN:
                issues.append(
                    Issue(
                        "glossary.forbidden",
                        "error",
                        f'Do not use "{_written(term, locale)}".',
                        {"term": term.text, "words": list(_forms(term, locale))},
                    )
                )
        return issues


def _forms(term: Term, locale: str) -> tuple[str, ...]:
    target = term.target_for(locale)
    return target.forms if target else ()


def _written(term: Term, locale: str) -> str:
    return " / ".join(_forms(term, locale)) or term.text
