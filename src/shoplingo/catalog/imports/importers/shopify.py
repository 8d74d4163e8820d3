"""Shopify's product CSV: one product per Handle, one row per variant (or extra image).

Only a product's first row fills the product columns; option names come from that row too.
A product whose ``Status`` is draft or archived, or whose ``Published`` is FALSE, is imported
unpublished.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shoplingo.catalog.imports.importers.base import (
    CsvRow,
    Item,
    RowProblem,
    SourceProduct,
    bad_utf8,
    csv_rows,
    export_column,
    map_columns,
    mentioned_columns,
)

VARIANT_COLUMNS = {"sku": "Variant SKU", "price": "Variant Price", "options": "Option1 Value"}
# Shopify's product status: only an active product is for sale
SELLING_STATUSES = ("", "active")
COLUMNS = {
    "sku": "Handle",
    "title": "Title",
    "description_html": "Body (HTML)",
    "vendor": "Vendor",
    "tags": "Tags",
    "seo_title": "SEO Title",
    "seo_description": "SEO Description",
}
ATTRIBUTE_COLUMNS = ("Type", "Product Category")
OPTION_SLOTS = (1, 2, 3)
# Shopify's placeholder for a product without options
DEFAULT_OPTION = ("Title", "Default Title")


def _variant_columns(header: Any) -> tuple[bool, bool, bool]:
    """Whether the file has columns for a variant's SKU, price and options."""
    return (
        "Variant SKU" in header,
        "Variant Price" in header,
        any(f"Option{n} Value" in header for n in OPTION_SLOTS),
    )


class ShopifyReader:
    name = "shopify"

    def __init__(self) -> None:
        self._mentions: frozenset[str] | None = None
        self._variant_columns = (True, True, True)

    def column_for(self, field: str) -> str:
        return export_column(field, COLUMNS, VARIANT_COLUMNS)

    def _start(self, row: CsvRow) -> tuple[SourceProduct, list[str]]:
        values = row.values
        raw = map_columns(values, COLUMNS, ATTRIBUTE_COLUMNS)
        # a draft or archived product (or one not published to the online store) is imported
        # unpublished: never served on the storefront, translated only on request
        if "Status" in values or "Published" in values:
            selling = values.get("Status", "").strip().lower() in SELLING_STATUSES
            raw["published"] = selling and values.get("Published", "").strip().lower() != "false"
        option_names = [values.get(f"Option{n} Name", "").strip() for n in OPTION_SLOTS]
        if self._mentions is None:  # every row has the header's columns
            self._variant_columns = _variant_columns(values)
            self._mentions = mentioned_columns(values, COLUMNS, ATTRIBUTE_COLUMNS) | (
                {"variants"} if any(self._variant_columns) else set()
            )
            if "Status" in values or "Published" in values:
                self._mentions |= {"published"}
        return SourceProduct(line=row.line, raw=raw, mentions=self._mentions), option_names

    def _add_variant(self, product: SourceProduct, option_names: list[str], row: CsvRow) -> None:
        values = row.values
        options = []
        for n, name in zip(OPTION_SLOTS, option_names, strict=True):
            value = values.get(f"Option{n} Value", "").strip()
            if value and (name, value) != DEFAULT_OPTION:
                options.append({"name": name or f"Option {n}", "value": value})
        sku = values.get("Variant SKU", "").strip()
        price = values.get("Variant Price", "").strip()
        if not (options or sku or price):
            return  # an image-only row
        has_sku, has_price, has_options = self._variant_columns
        # only what the file has columns for: a merge leaves the rest of a variant as is
        variant: dict[str, Any] = {}
        if has_sku:
            variant["sku"] = sku or None
        if has_options:
            variant["options"] = options
        if has_price:
            variant["price"] = price or None
        product.raw.setdefault("variants", []).append(variant)
        product.variant_lines.append(row.line)

    def read(self, path: Path) -> Iterator[Item]:
        current: SourceProduct | None = None
        option_names: list[str] = []
        for item in csv_rows(path, bad_utf8):
            if isinstance(item, RowProblem):
                yield item
                continue
            handle = item.values.get("Handle", "").strip()
            if current is not None and handle == current.raw["sku"].strip():
                self._add_variant(current, option_names, item)
                current.rows += 1
                continue
            if current is not None:
                yield current
            current, option_names = self._start(item)
            self._add_variant(current, option_names, item)
        if current is not None:
            yield current
