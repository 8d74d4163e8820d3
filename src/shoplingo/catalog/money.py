"""Money: a currency's minor units and how a price is written (which codes are known:
``core.currencies``, re-exported here).

The one :func:`format_price`: the exact amount the catalog stores and the API sends, or (with a
locale) the amount as a shopper in that locale reads it (the storefront's ``formatted``).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import overload

from babel import Locale
from babel.numbers import format_currency, format_decimal, get_currency_precision

from shoplingo.core.currencies import NOT_MONEY, currency_field_error, known_currency
from shoplingo.core.locales import parse_locale


@lru_cache(maxsize=512)
def currency_digits(currency: str | None) -> int:
    return get_currency_precision(currency) if currency else 2


@lru_cache(maxsize=512)
def minor_unit(currency: str | None) -> Decimal:
    return Decimal(1).scaleb(-currency_digits(currency))


def written_price(text: str) -> bool:
    """Whether a price's text uses the digits a price is written with: ASCII only (Python's
    Decimal also reads Arabic-Indic, full-width and other digits, which no export means)."""
    return text.isascii()


@overload
def format_price(price: None, currency: str | None, locale: str | None = None) -> None: ...
@overload
def format_price(price: Decimal, currency: str | None, locale: str | None = None) -> str: ...
def format_price(
    price: Decimal | None, currency: str | None, locale: str | None = None
) -> str | None:
    """A price as text. Without ``locale``: the exact amount with the currency's minor units,
    as stored, hashed and sent by the API (``25`` EUR -> ``"25.00"``); with a locale tag: as a
    shopper there reads it (``12,99 €`` for de-DE; without a currency, a localized number)."""
    if price is None:
        return None
    if locale is None:
        return str(price.quantize(minor_unit(currency)))
    return _localized(price, currency, locale)


@lru_cache(maxsize=4096)
def _localized(amount: Decimal, currency: str | None, tag: str) -> str:
    # cached: Babel takes tens of microseconds, and a catalog repeats its prices
    if currency is None:
        return format_decimal(amount, locale=_babel_locale(tag))
    return format_currency(amount, currency, locale=_babel_locale(tag))


@lru_cache(maxsize=1024)
def _babel_locale(tag: str) -> Locale:
    return parse_locale(tag)


__all__ = [
    "NOT_MONEY",
    "currency_digits",
    "currency_field_error",
    "format_price",
    "known_currency",
    "minor_unit",
    "written_price",
]
