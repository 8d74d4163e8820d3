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

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Generic, TypeVar

import ahocorasick

from shoplingo.core.text import is_word_char

P = TypeVar("P", bound=Hashable)

_cached_is_word_char = cache(is_word_char)


@dataclass(frozen=True, slots=True)
class Match(Generic[P]):
    start: int
    end: int  # exclusive
    payloads: tuple[P, ...]  # every entry written this way (several terms may share a target)


Span = tuple[int, int, tuple[P, ...]]


class TermFinder(Generic[P]):
    """Finds a fixed set of strings in texts; each string carries a payload (e.g. a term id)."""

    def __init__(self, entries: Iterable[tuple[str, bool, P]]) -> None:
        # folded key -> payloads of any casing, and (exact text, payload) of case-sensitive ones
        grouped: dict[str, tuple[list[P], list[tuple[str, P]]]] = {}
        for text, case_sensitive, payload in entries:
            if text.strip():
                loose, strict = grouped.setdefault(text.casefold(), ([], []))
                if case_sensitive:
                    strict.append((text, payload))
                else:
                    loose.append(payload)
        self._automaton = ahocorasick.Automaton()
        for key, (loose, strict) in grouped.items():
            self._automaton.add_word(
                key,
                (
                    len(key),
                    is_word_char(key[0]),
                    is_word_char(key[-1]),
                    tuple(loose),
                    tuple(strict),
                ),
            )
        self.empty = not grouped
        if not self.empty:
            self._automaton.make_automaton()

    def _spans(self, text: str) -> list[Span[P]]:
        if self.empty or not text:
            return []
        folded = text.casefold()
        # where each folded character came from, when folding changed the length ("ß" -> "ss")
        origin = None if len(folded) == len(text) else _origins(text)
        spans: list[Span[P]] = []
        last = len(folded) - 1
        word = _cached_is_word_char
        for end, (length, left, right, loose, strict) in self._automaton.iter(folded):
            start = end - length + 1
            if left and start and word(folded[start - 1]):
                continue
            if right and end < last and word(folded[end + 1]):
                continue
            payloads = loose
            if strict:
                written = (
                    text[start : end + 1]
                    if origin is None
                    else text[origin[start] : origin[end] + 1]
                )
                payloads += tuple(payload for exact, payload in strict if exact == written)
                if not payloads:
                    continue
            spans.append((start, end + 1, payloads))
        if len(spans) < 2 or all(
            spans[i - 1][1] <= spans[i][0] for i in range(1, len(spans))
        ):  # found in order of their ends: no neighbour overlaps means none do
            return spans
        spans.sort(key=lambda span: (span[0] - span[1], span[0]))  # longest, then leftmost
        taken: list[Span[P]] = []
        for span in spans:
            start, end, _ = span
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append(span)
        taken.sort()
        return taken

    def find(self, text: str) -> list[Match[P]]:
        """Non-overlapping matches, longest first then leftmost, in text order."""
        return [Match(start, end, payloads) for start, end, payloads in self._spans(text)]

    def count(self, text: str) -> dict[P, int]:
        """How often each payload is found."""
        counts: dict[P, int] = {}
        for _, _, payloads in self._spans(text):
            for payload in payloads:
                counts[payload] = counts.get(payload, 0) + 1
        return counts


def _origins(text: str) -> list[int]:
    """For each character of ``text.casefold()``, the index of the character it came from."""
    return [index for index, char in enumerate(text) for _ in char.casefold()]
