"""Which language a text is written in (lingua), and the language part of a locale.

The detector runs in lingua's low-accuracy mode over every language it knows: its models
load on first use (about half a second, ~90 MB) and a text takes about 0.1 ms, where the
high-accuracy models would take ~1 GB. That is plenty for "is this German?" and for telling a
customer's language from a message of a sentence or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from lingua import LanguageDetector, LanguageDetectorBuilder

from shoplingo.core.locales import InvalidLocaleError, parse_locale

# lingua names Norwegian Bokmål "nb"; a plain "no" locale means the same language
_SAME_LANGUAGE = {"no": "nb"}


@dataclass(frozen=True, slots=True)
class Detected:
    code: str  # ISO 639-1, e.g. "de"
    name: str  # English name, e.g. "German"
    confidence: float  # 0..1


@cache
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def detect_language(text: str) -> Detected | None:
    """The most likely language of ``text`` with lingua's confidence, or None if it has no
    letters to go by."""
    if not any(char.isalpha() for char in text):
        return None
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    return Detected(code=code, name=best.language.name.title(), confidence=best.value)


@lru_cache(maxsize=1024)
def language_of(locale: str) -> str:
    """``de-AT`` -> ``de``; ``zh-Hant-TW`` -> ``zh``; an unparseable tag -> its first part."""
    try:
        language = parse_locale(locale).language
    except InvalidLocaleError:
        language = locale.split("-")[0].lower()
    return _SAME_LANGUAGE.get(language, language)
