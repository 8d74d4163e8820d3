"""What in a text is prose: everything but markup, placeholders, entities, links, e-mail
addresses, SKU-like codes and numbers. The language and unchanged checks both count letters of
prose only."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shoplingo.qa.icu import icu_message, words_of

# an e-mail address starts where its run of address characters starts (the lookbehind): tried
# from every character of a long run instead, the search was quadratic ("a-a-a-..." took
# seconds)
LINK = re.compile(
    r"""
      (?:https?|ftp)://[^\s<>"']*[^\s<>"'.,;:!?)\]}]
    | www\.[^\s<>"']*[^\s<>"'.,;:!?)\]}]
    | (?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+
    """,
    re.VERBOSE,
)

NOT_PROSE = re.compile(
    r"""
      <[^<>]*>                                   # a tag
    | &(?:\w+|\#[0-9]+|\#x[0-9a-fA-F]+);         # an entity
    | \{[^{}]*\}                                 # a brace placeholder (or ICU branch)
    | %\S*                                       # a printf conversion
    | """
    + LINK.pattern
    + r"""
    | (?<![\w-])[\w-]*[0-9][\w-]*                # a code or number: RMS-200, X1000, 4K, 1299
    | [0-9]+(?:[.,][0-9]+)*                      # a number with its separators (1,299.99)
    """,
    re.VERBOSE,
)


def prose(text: str, keep: Iterable[str] = ()) -> str:
    """``text`` without what is not prose, and without the ``keep`` terms (brand names the
    glossary says stay as they are). An ICU message counts by its branches' words, not its
    syntax ("plural", "one", "other")."""
    if (message := icu_message(text)) is not None:
        text = words_of(message)
    for term in keep:
        text = text.replace(term, " ")
    return NOT_PROSE.sub(" ", text)


def letters(text: str) -> int:
    return sum(char.isalpha() for char in text)
