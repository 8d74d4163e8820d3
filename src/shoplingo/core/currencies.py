"""Which ISO 4217 codes are money a shop charges in, and the field error for one that is not.

Below the catalog (prices) and the tenants (a shop's default currency), which both check codes.
"""

from __future__ import annotations

from functools import lru_cache

from babel.numbers import is_currency

from shoplingo.core.errors import FieldError
from shoplingo.core.i18n import N_

# ISO 4217 codes that are no money a shop charges in: "no currency", testing, precious metals,
# bond-market units and special drawing rights
NOT_MONEY = frozenset(
    {"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA"}
)


@lru_cache(maxsize=512)
def known_currency(code: str) -> bool:
    return len(code) == 3 and code not in NOT_MONEY and is_currency(code)


def currency_field_error(field: str, value: str) -> FieldError:
    return FieldError(
        field=field,
        code="unknown_currency",
        message=N_("{value} is not an ISO 4217 currency code."),
        params={"value": value},
    )
