"""The merge rules of a re-import, as pure functions (catalog.merging)."""

from __future__ import annotations

from typing import Any

from shoplingo.catalog.merging import merge_product

STORED: dict[str, Any] = {
    "sku": "P",
    "title": "Lamp",
    "description_html": "<p>Brass</p>",
    "attributes": {"Material": "Brass", "Colour": "Gold"},
    "legal": {"warranty": "2 years"},
    "price": "10.00",
    "currency": "EUR",
    "variants": [
        {"sku": "P-S", "options": [{"name": "Size", "value": "S"}], "price": "10.00"},
        {"sku": None, "options": [{"name": "Size", "value": "M"}], "price": "11.00"},
        {"sku": None, "options": [], "price": "12.00"},
    ],
}


def test_what_the_file_does_not_mention_stays() -> None:
    merged, origin = merge_product(
        STORED, {"sku": "P", "title": "Desk lamp"}, frozenset({"sku", "title"})
    )
    assert merged == {**STORED, "title": "Desk lamp"}
    assert origin == [None, None, None]


def test_a_mentioned_field_left_empty_is_cleared() -> None:
    merged, _ = merge_product(STORED, {"sku": "P"}, frozenset({"sku", "description_html", "price"}))
    assert merged["description_html"] is None
    assert merged["price"] is None
    assert merged["title"] == "Lamp"


def test_keyed_columns_set_or_remove_one_entry_and_a_whole_key_replaces_all() -> None:
    row = {"sku": "P", "attributes": {"Colour": "Silver", "Size": "L"}}
    mentions = frozenset({"sku", "attributes:Colour", "attributes:Size", "legal:warranty"})
    merged, _ = merge_product(STORED, row, mentions)
    assert merged["attributes"] == {"Material": "Brass", "Colour": "Silver", "Size": "L"}
    assert merged["legal"] == {}

    merged, _ = merge_product(STORED, row, frozenset({"sku", "attributes"}))
    assert merged["attributes"] == {"Colour": "Silver", "Size": "L"}


def test_variants_match_by_sku_then_options_then_place_and_the_rest_are_added() -> None:
    row = {
        "sku": "P",
        "variants": [
            {"sku": "P-S", "price": "9.00"},  # by SKU: its options stay
            {"options": [{"name": "Size", "value": "M"}], "price": "10.50"},  # by options
            {"price": "11.50"},  # neither: the stored variant in the same place
            {"sku": "P-XL", "options": [], "price": "13.00"},  # new
        ],
    }
    merged, origin = merge_product(STORED, row, frozenset({"sku", "variants"}))
    assert merged["variants"] == [
        {**STORED["variants"][0], "price": "9.00"},
        {**STORED["variants"][1], "price": "10.50"},
        {**STORED["variants"][2], "price": "11.50"},
        {"sku": "P-XL", "options": [], "price": "13.00"},
    ]
    assert origin == [0, 1, 2, 3]


def test_variants_are_left_alone_when_the_row_has_none() -> None:
    merged, _ = merge_product(STORED, {"sku": "P", "variants": []}, frozenset({"sku", "variants"}))
    assert merged["variants"] == STORED["variants"]
