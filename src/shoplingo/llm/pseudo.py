"""Pseudo-localization: the "translation" the offline fake LLM answers with.

Text comes back visibly processed and about 30% longer (``Hello`` → ``[Ĥéľľó··]``) while
everything a real translation must keep stays byte for byte: placeholders, ICU selectors,
HTML, numbers, URLs, e-mail addresses, and glossary targets in place of their source terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from shoplingo.core.text import is_word_char

_PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ACCENTED = "áƀçđéƒĝĥíĵķľɱñóþǫŕšţúṽŵẋýžÅƁÇĐÉƑĜĤÎĴĶĽṀÑÖÞǪŔŠŢÛṼŴẊÝŽ"
_ACCENTS = str.maketrans(_PLAIN, _ACCENTED)

FILLER = "·"
EXPANSION_PERCENT = 30

# Kept verbatim wherever they start; the leftmost match wins, so an e-mail address is not
# cut into a word and a URL's query string is not read as placeholders.
_PROTECTED = re.compile(
    r"""
      (?:https?|ftp)://[^\s<>"']*[^\s<>"'.,;:!?)\]}]    # URL, minus trailing punctuation
    | www\.[^\s<>"']*[^\s<>"'.,;:!?)\]}]
    | [A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+   # e-mail address
    | <!--.*?-->                                        # HTML comment
    | </?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>         # HTML tag with its attributes
    | &(?:\#[0-9]+|\#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});   # HTML entity
    | %(?:\([^()\s]+\)|[0-9]+\$)?[-+\#0]*(?:[0-9]+|\*)?(?:\.[0-9]+)?[sdifFeEgGxXoucr%]  # printf
    """,
    re.VERBOSE | re.DOTALL,
)
# Inside running text: digits (12.99, 1,000) and a temperature unit glued to them (30°C).
_NUMBER = re.compile(r"[0-9](?:[0-9.,]*[0-9])?(?:\s?°[CF]?)?")
_ICU_HEAD = re.compile(r"\s*[\w.]+\s*,\s*(?:plural|selectordinal|select)\s*,", re.ASCII)
_ICU_OFFSET = re.compile(r"\s*offset\s*:\s*[0-9]+")
_ICU_SELECTOR = re.compile(r"\s*(?:=[0-9]+|[^\s{}]+)\s*(?=\{)")


def pseudo_localize(text: str, *, terms: Mapping[str, str] = {}) -> str:
    """Pseudo-localize ``text``, writing ``terms[source]`` wherever a source term occurs."""
    if not text:
        return text
    return f"[{_localize(text, _TermMatcher(terms))}]"


class _TermMatcher:
    """Finds glossary source terms case-insensitively, longest first."""

    def __init__(self, terms: Mapping[str, str]) -> None:
        ordered = sorted((s for s in terms if s.strip()), key=lambda s: (-len(s), s))
        self._targets = [terms[source] for source in ordered]
        self._regex = (
            re.compile("|".join(f"({_term_pattern(s)})" for s in ordered), re.IGNORECASE)
            if ordered
            else None
        )

    def split(self, text: str) -> Iterator[tuple[str, bool]]:
        """Yield ``(piece, is_target)``: running text and replaced terms in order."""
        last = 0
        if self._regex is not None:
            for match in self._regex.finditer(text):
                yield text[last : match.start()], False
                yield self._targets[(match.lastindex or 1) - 1], True
                last = match.end()
        yield text[last:], False


def _term_pattern(source: str) -> str:
    pattern = re.escape(source)
    # the glossary's own boundary rule: none in scripts written without spaces
    if is_word_char(source[0]):
        pattern = r"(?<!\w)" + pattern
    if is_word_char(source[-1]):
        pattern += r"(?!\w)"
    return pattern


def _localize(text: str, terms: _TermMatcher) -> str:
    """Localize one message (no brackets): running text is accented and expanded."""
    pieces = list(_split(text, terms))
    runs = [i for i, (piece, is_text) in enumerate(pieces) if is_text]
    filler = FILLER * _expansion(sum(len(pieces[i][0]) for i in runs))
    out = [_localize_run(piece, terms) if is_text else piece for piece, is_text in pieces]
    # the filler goes at the end of the last run that has words, so it stays inside any markup
    worded = [i for i in runs if any(c.isalpha() for c in pieces[i][0])]
    if worded and filler:
        last = out[worded[-1]]
        stripped = last.rstrip()
        out[worded[-1]] = stripped + filler + last[len(stripped) :]
    return "".join(out)


def _expansion(length: int) -> int:
    return (length * EXPANSION_PERCENT + 50) // 100


def _split(text: str, terms: _TermMatcher) -> Iterator[tuple[str, bool]]:
    """Yield ``(piece, is_text)``: running text, and kept pieces (already final)."""
    start = position = 0
    while position < len(text):
        brace = text.find("{", position)
        match = _PROTECTED.search(text, position)
        if brace < 0 and match is None:
            break
        if match is None or 0 <= brace < match.start():
            close = _matching_brace(text, brace)
            if close is None:  # a lone brace is just a character
                position = brace + 1
                continue
            yield text[start:brace], True
            yield _localize_braces(text[brace : close + 1], terms), False
            start = position = close + 1
        else:
            yield text[start : match.start()], True
            yield match.group(), False
            start = position = match.end()
    yield text[start:], True


def _matching_brace(text: str, open_at: int) -> int | None:
    depth = 0
    for index in range(open_at, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def _localize_braces(block: str, terms: _TermMatcher) -> str:
    """``{x}``, ``{{x}}`` and ``{n, number}`` stay; ICU plural/select messages are localized."""
    inner = block[1:-1]
    head = _ICU_HEAD.match(inner)
    if head is None:
        return block
    out = [head.group()]
    position = head.end()
    offset = _ICU_OFFSET.match(inner, position)
    if offset is not None:
        out.append(offset.group())
        position = offset.end()
    while position < len(inner):
        selector = _ICU_SELECTOR.match(inner, position)
        if selector is None:
            break
        close = _matching_brace(inner, selector.end())
        if close is None:
            return block
        out += [selector.group(), "{", _localize(inner[selector.end() + 1 : close], terms), "}"]
        position = close + 1
    if inner[position:].strip():  # not ICU after all: keep it untouched
        return block
    out.append(inner[position:])
    return "{" + "".join(out) + "}"


def _localize_run(run: str, terms: _TermMatcher) -> str:
    return "".join(piece if is_target else _accent(piece) for piece, is_target in terms.split(run))


def _accent(text: str) -> str:
    out: list[str] = []
    last = 0
    for number in _NUMBER.finditer(text):
        out += [text[last : number.start()].translate(_ACCENTS), number.group()]
        last = number.end()
    out.append(text[last:].translate(_ACCENTS))
    return "".join(out)
