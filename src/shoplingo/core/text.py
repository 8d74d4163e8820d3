"""Character classes shared by the glossary matcher and the pseudo-localizer, and the hash of
an approved text."""

from __future__ import annotations

import hashlib
import re

# Scripts written without spaces between words: terms match there without boundaries.
UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
)


def is_word_char(char: str) -> bool:
    """A letter or digit of a script that separates words with spaces (a boundary matters)."""
    return (char.isalnum() or char == "_") and UNSPACED.match(char) is None


def text_sha256(text: str) -> str:
    """The hex SHA-256 of a text's UTF-8 bytes, exactly as written (no normalisation): what an
    approval stores, and what the database's legal gate recomputes with
    ``encode(sha256(convert_to(text, 'UTF8')), 'hex')``."""
    return hashlib.sha256(text.encode()).hexdigest()
