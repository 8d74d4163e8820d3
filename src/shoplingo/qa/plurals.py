"""A language's CLDR plural categories (Babel's plural rules): Polish one/few/many/other,
German one/other, Japanese other only."""

from __future__ import annotations

from functools import lru_cache

from shoplingo.core.locales import InvalidLocaleError, parse_locale


@lru_cache(maxsize=256)
def plural_categories(locale: str, *, ordinal: bool = False) -> frozenset[str] | None:
    """The categories a plural (or selectordinal) message in ``locale`` needs; None for a
    locale CLDR does not know."""
    try:
        parsed = parse_locale(locale)
    except InvalidLocaleError:
        return None
    rules = parsed.ordinal_form if ordinal else parsed.plural_form
    return frozenset(rules.tags) | {"other"}
