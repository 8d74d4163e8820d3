"""Finding glossary terms in text: one Aho-Corasick automaton per term set.

Rules (the same on the source and the target side):

- words of space-separated scripts match only between word boundaries ("USB" is not found in
  "USBs" or "aUSB"); terms in scripts written without spaces (Chinese, Japanese, Thai, ...)
  match anywhere;
- on overlaps the longest match wins, then the leftmost ("USB-C cable" over "USB");
- a case-insensitive term matches any casing (Unicode case folding); a case-sensitive one only
  as written.

Everything here is pure and compiled once per glossary version (see ``glossary.cache``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import ahocorasick

P = TypeVar("P", bound=Hashable)

# Scripts written without spaces between words: terms match there without boundaries.
UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
)


def is_word_char(char: str) -> bool:
    """A letter or digit of a script that separates words with spaces (a boundary matters)."""
    return (char.isalnum() or char == "_") and UNSPACED.match(char) is None


@dataclass(frozen=True, slots=True)
class Match(Generic[P]):
    start: int
    end: int  # exclusive
    payloads: tuple[P, ...]  # every entry written this way (several terms may share a target)


@dataclass(frozen=True, slots=True)
class _Entry(Generic[P]):
    payload: P
    text: str
    case_sensitive: bool


class TermFinder(Generic[P]):
    """Finds a fixed set of strings in texts; each string carries a payload (e.g. a term id)."""

    def __init__(self, entries: Iterable[tuple[str, bool, P]]) -> None:
        grouped: dict[str, list[_Entry[P]]] = {}
        for text, case_sensitive, payload in entries:
            if text.strip():
                grouped.setdefault(text.casefold(), []).append(
                    _Entry(payload, text, case_sensitive)
                )
        self._automaton = ahocorasick.Automaton()
        for key, group in grouped.items():
            bounded = (is_word_char(key[0]), is_word_char(key[-1]))
            self._automaton.add_word(key, (len(key), bounded, tuple(group)))
        self.empty = not grouped
        if not self.empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[Match[P]]:
        """Non-overlapping matches, longest first then leftmost, in text order."""
        if self.empty or not text:
            return []
        folded = text.casefold()
        original = text if len(folded) == len(text) else _unfold(text)
        candidates: list[tuple[int, int, tuple[P, ...]]] = []
        last = len(folded) - 1
        for end, (length, (left, right), group) in self._automaton.iter(folded):
            start = end - length + 1
            if left and start > 0 and is_word_char(folded[start - 1]):
                continue
            if right and end < last and is_word_char(folded[end + 1]):
                continue
            payloads = tuple(
                entry.payload
                for entry in group
                if not entry.case_sensitive or original[start : end + 1] == entry.text
            )
            if payloads:
                candidates.append((start, end + 1, payloads))
        if len(candidates) < 2:
            return [Match(s, e, p) for s, e, p in candidates]
        candidates.sort(key=lambda c: (c[0] - c[1], c[0]))  # longest, then leftmost
        taken: list[tuple[int, int, tuple[P, ...]]] = []
        for candidate in candidates:
            start, end, _ = candidate
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append(candidate)
        taken.sort()
        return [Match(s, e, p) for s, e, p in taken]

    def count(self, text: str) -> Counter[P]:
        counts: Counter[P] = Counter()
        for match in self.find(text):
            counts.update(match.payloads)
        return counts


def _unfold(text: str) -> str:
    """The original text stretched to the length of its case folding ("ß" folds to "ss"), so
    positions found in the folded text slice the original. A character whose folding is longer
    is repeated; a case-sensitive term containing it then cannot match, which is correct."""
    return "".join(char * len(char.casefold()) for char in text)
