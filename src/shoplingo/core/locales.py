"""Locale identifiers: the one place that turns user input into a canonical BCP 47 tag."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError

from shoplingo.core.errors import FieldError
from shoplingo.core.i18n import N_


class InvalidLocaleError(ValueError):
    pass


def parse_locale(tag: str) -> Locale:
    """Parse ``de-AT``, ``de_AT`` or ``zh-Hant-TW`` into a Babel locale CLDR knows."""
    cleaned = tag.strip().replace("_", "-")
    if not cleaned or cleaned.lower() in {"und", "root"}:
        raise InvalidLocaleError(tag)
    try:
        return Locale.parse(cleaned, sep="-")
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise InvalidLocaleError(tag) from exc


def to_tag(locale: Locale) -> str:
    return str(locale).replace("_", "-")


@lru_cache(maxsize=4096)
def canonical_locale(tag: str) -> str:
    """``de_at`` -> ``de-AT``; ``zh-CN`` -> ``zh-Hans-CN``; raises InvalidLocaleError."""
    return to_tag(parse_locale(tag))


def locale_field_error(field: str, value: str) -> FieldError:
    return FieldError(
        field=field,
        code="invalid_locale",
        message=N_("{value} is not a known locale (use a tag like de-AT)."),
        params={"value": value},
    )
