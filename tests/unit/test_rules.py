"""Product rules: table-driven checks of validation and canonical form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shoplingo.catalog.money import format_price
from shoplingo.catalog.validation import ProductData, validate_product


def _validate(**raw: Any) -> tuple[ProductData | None, list[tuple[str, str]]]:
    data, errors = validate_product({"sku": "A", "title": "T", **raw}, default_locale="en-US")
    return data, [(e.field, e.code) for e in errors]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"sku": ""}, ("sku", "required")),
        ({"sku": "a/b"}, ("sku", "invalid_sku")),
        ({"sku": "x" * 256}, ("sku", "too_long")),
        ({"source_locale": "xx-YY"}, ("source_locale", "invalid_locale")),
        ({"currency": "EURO"}, ("currency", "unknown_currency")),
        ({"price": "1,5", "currency": "EUR"}, ("price", "invalid_price")),
        ({"price": "NaN", "currency": "EUR"}, ("price", "invalid_price")),
        ({"price": "1e20", "currency": "EUR"}, ("price", "invalid_price")),
        ({"price": "0.001", "currency": "BHD"}, None),  # three-decimal currency
        ({"price": "0.0001", "currency": "BHD"}, ("price", "too_many_decimals")),
        ({"price": "100", "currency": "JPY"}, None),
        ({"price": "100.00", "currency": "JPY"}, None),  # integral value, written with zeros
        ({"tags": "a, b, a"}, None),
        ({"tags": [1, 2]}, ("tags", "invalid")),
        ({"attributes": {"Material": 3}}, ("attributes.Material", "invalid")),
        ({"legal": {"warranty": "x" * 10_001}}, ("legal.warranty", "too_long")),
        ({"variants": [{"options": [{"name": "Size"}]}]}, ("variants.0.options.0", "invalid")),
        ({"variants": "S,M"}, ("variants", "invalid")),
    ],
)
def test_validation_table(raw: dict[str, Any], expected: tuple[str, str] | None) -> None:
    data, errors = _validate(**raw)
    if expected is None:
        assert errors == []
        assert data is not None
    else:
        assert expected in errors
        assert data is None


def test_canonical_form() -> None:
    data, _ = _validate(
        sku="  A  ",
        title=" Shirt ",
        source_locale="zh_hant_tw",
        currency="eur",
        price="5",
        tags="b, a, b",
        description_html="<p>x</p><script>y</script>",
    )
    assert data is not None
    assert data.sku == "A"
    assert data.title == "Shirt"
    assert data.source_locale == "zh-Hant-TW"
    assert data.currency == "EUR"
    assert data.tags == ("b", "a")
    assert data.description_html == "<p>x</p>"


def test_content_hash_ignores_how_a_price_is_written_but_not_what_it_is() -> None:
    a, _ = _validate(price="25", currency="EUR")
    b, _ = _validate(price=Decimal("25.00"), currency="EUR")
    c, _ = _validate(price="25.01", currency="EUR")
    assert a is not None
    assert b is not None
    assert c is not None
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != c.content_hash()


@pytest.mark.parametrize(
    ("price", "currency", "text"),
    [(Decimal("25"), "EUR", "25.00"), (Decimal("1200"), "JPY", "1200"), (None, "EUR", None)],
)
def test_format_price(price: Decimal | None, currency: str, text: str | None) -> None:
    assert format_price(price, currency) == text
