"""WooCommerce's product CSV export: variations are rows of their own that name their parent.

Variations can come anywhere in the file, so the file is read twice: first to collect the
variations under their parents (small: SKU, price, options), then to emit the products.

The column names may be in the site's admin language (``woocommerce_columns``). A product
without a SKU is identified as ``id:<ID>`` (the form ``Parent`` uses too). The price is the
sale price when one is set, else the regular price (kept as ``compare_at_price`` beside a sale
price). ``Categories`` become tags (each level of ``Clothing > Tshirts``), beside the file's
``Tags``; ``Short description`` is the product's ``short_description``; ``Published`` other
than 1 (a draft, -1, or private, 0) makes the product unpublished.
"""

from __future__ import annotations

import re
from collections import defaultdict
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
from shoplingo.catalog.imports.importers.woocommerce_columns import english_column
from shoplingo.core.i18n import N_

VARIANT_COLUMNS = {"sku": "SKU", "price": "Regular price", "options": "Attribute 1 value(s)"}
COLUMNS = {
    "sku": "SKU",
    "title": "Name",
    "description_html": "Description",
    "short_description": "Short description",
    "price": "Regular price",
    "tags": "Tags",
    "published": "Published",
}
ATTRIBUTE_COLUMNS: tuple[str, ...] = ()
MAX_ATTRIBUTE_SLOTS = 50
# WooCommerce writes a comma inside a category name as "\,"
_CATEGORY_SEPARATOR = re.compile(r"(?<!\\),")


def _sku(values: dict[str, str]) -> str:
    """The row's SKU; a product without one is ``id:<ID>`` (WooCommerce's own id)."""
    sku = values.get("SKU", "").strip()
    if not sku and (product_id := values.get("ID", "").strip()):
        return f"id:{product_id}"
    return sku


def _price(values: dict[str, str]) -> str | None:
    """The price a shopper pays: the sale price when set, else the regular price."""
    sale = values.get("Sale price", "").strip()
    return sale or values.get("Regular price", "").strip() or None


def _category_tags(value: str) -> list[str]:
    tags: list[str] = []
    for path in _CATEGORY_SEPARATOR.split(value):
        for level in path.split(">"):
            name = level.replace("\\,", ",").strip()
            if name and name not in tags:
                tags.append(name)
    return tags


def _attributes(values: dict[str, str]) -> list[tuple[str, str]]:
    pairs = []
    for n in range(1, MAX_ATTRIBUTE_SLOTS + 1):
        name_column = f"Attribute {n} name"
        if name_column not in values:
            break
        name = values[name_column].strip()
        value = values.get(f"Attribute {n} value(s)", "").strip()
        if name and value:
            pairs.append((name, value))
    return pairs


def _is_variation(values: dict[str, str]) -> bool:
    return values.get("Type", "").strip().lower() == "variation"


class WooCommerceReader:
    name = "woocommerce"

    def column_for(self, field: str) -> str:
        return export_column(field, COLUMNS, VARIANT_COLUMNS)

    def _collect_variations(
        self, path: Path
    ) -> tuple[dict[str, list[tuple[int, dict[str, Any]]]], dict[str, str]]:
        by_parent: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        sku_by_id: dict[str, str] = {}
        for item in csv_rows(path, bad_utf8, header_name=english_column):
            if isinstance(item, RowProblem):
                continue  # reported in the second pass
            values = item.values
            if not _is_variation(values):
                if values.get("ID", "").strip():
                    sku_by_id[values["ID"].strip()] = _sku(values)
                continue
            # only what the file has columns for: a merge leaves the rest of a variant as is
            variant: dict[str, Any] = {}
            if "SKU" in values:
                variant["sku"] = values["SKU"].strip() or None
            if "Attribute 1 name" in values:
                variant["options"] = [{"name": n, "value": v} for n, v in _attributes(values)]
            if "Regular price" in values or "Sale price" in values:
                variant["price"] = _price(values)
            by_parent[values.get("Parent", "").strip()].append((item.line, variant))
        return by_parent, sku_by_id

    def _product(self, row: CsvRow) -> SourceProduct:
        raw = map_columns(row.values, COLUMNS, ATTRIBUTE_COLUMNS)
        raw["sku"] = _sku(row.values)
        mentions = mentioned_columns(row.values, COLUMNS, ATTRIBUTE_COLUMNS)
        if "Sale price" in row.values:
            # on sale: the sale price, and the regular price kept as the compare-at ("was")
            raw.pop("price", None)
            if price := _price(row.values):
                raw["price"] = price
            regular = row.values.get("Regular price", "").strip()
            if row.values["Sale price"].strip() and regular:
                raw["compare_at_price"] = regular
            mentions |= {"price", "compare_at_price"}
        if categories := _category_tags(row.values.get("Categories", "")):
            tags = [t.strip() for t in raw.get("tags", "").split(",") if t.strip()]
            raw["tags"] = list(dict.fromkeys([*tags, *categories]))
        if "Categories" in row.values:
            mentions |= {"tags"}
        if any(c in row.values for c in VARIANT_COLUMNS.values()):
            mentions |= {"variants"}
        if options := _attributes(row.values):
            raw.setdefault("attributes", {}).update(options)
        # an "Attribute N name" names an attribute of this product: its value sets or clears it
        named = [
            row.values[f"Attribute {n} name"].strip()
            for n in range(1, MAX_ATTRIBUTE_SLOTS + 1)
            if row.values.get(f"Attribute {n} name", "").strip()
        ]
        if named:
            mentions |= {f"attributes:{name}" for name in named}
        return SourceProduct(line=row.line, raw=raw, mentions=mentions)

    def read(self, path: Path) -> Iterator[Item]:
        variations, sku_by_id = self._collect_variations(path)
        parents_seen: set[str] = set()
        for item in csv_rows(path, bad_utf8, header_name=english_column):
            if isinstance(item, RowProblem):
                yield item
                continue
            if _is_variation(item.values):
                continue
            product = self._product(item)
            sku = str(product.raw["sku"]).strip()
            keys = list(dict.fromkeys([sku, f"id:{item.values.get('ID', '').strip()}"]))
            for key in keys:
                for line, variant in variations.pop(key, []):
                    product.raw.setdefault("variants", []).append(variant)
                    product.variant_lines.append(line)
                    product.rows += 1
            parents_seen.add(sku)
            yield product
        for parent, orphans in variations.items():
            parent_sku = sku_by_id.get(parent.removeprefix("id:"), parent)
            for line, variant in orphans:
                yield RowProblem(
                    line=line,
                    code="unknown_parent",
                    message=N_("This variation's parent {parent} is not in the file."),
                    column="Parent",
                    sku=variant["sku"],
                    params={"parent": parent_sku or "(empty)"},
                )
