"""Money: a currency's minor units, which currency codes are known, and how a price is written.

The one :func:`format_price`: the exact amount the catalog stores and the API sends, or (with a
locale) the amount as a shopper in that locale reads it (the storefront's ``formatted``).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import overload

from babel import Locale
from babel.numbers import format_currency, format_decimal, get_currency_precision, is_currency

from shoplingo.core.errors import FieldError
from shoplingo.core.i18n import N_
from shoplingo.core.locales import parse_locale


@lru_cache(maxsize=512)
def currency_digits(currency: str | None) -> int:
    return get_currency_precision(currency) if currency else 2


@lru_cache(maxsize=512)
def minor_unit(currency: str | None) -> Decimal:
    return Decimal(1).scaleb(-currency_digits(currency))


# ISO 4217 codes that are no money a shop charges in: "no currency", testing, precious metals,
# bond-market units and special drawing rights
NOT_MONEY = frozenset(
    {"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA"}
)


@lru_cache(maxsize=512)
def known_currency(code: str) -> bool:
    return len(code) == 3 and code not in NOT_MONEY and is_currency(code)


def written_price(text: str) -> bool:
    """Whether a price's text uses the digits a price is written with: ASCII only (Python's
    Decimal also reads Arabic-Indic, full-width and other digits, which no export means)."""
    return text.isascii()


def currency_field_error(field: str, value: str) -> FieldError:
    return FieldError(
        field=field,
        code="unknown_currency",
        message=N_("{value} is not an ISO 4217 currency code."),
        params={"value": value},
    )


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
