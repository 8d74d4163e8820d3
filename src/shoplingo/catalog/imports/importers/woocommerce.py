"""WooCommerce's product CSV export: variations are rows of their own that name their parent.

Variations can come anywhere in the file, so the file is read twice: first to collect the
variations under their parents (small: SKU, price, options), then to emit the products.
"""

from __future__ import annotations

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
from shoplingo.core.i18n import N_

VARIANT_COLUMNS = {"sku": "SKU", "price": "Regular price", "options": "Attribute 1 value(s)"}
COLUMNS = {
    "sku": "SKU",
    "title": "Name",
    "description_html": "Description",
    "price": "Regular price",
    "tags": "Tags",
}
ATTRIBUTE_COLUMNS = ("Short description", "Categories")
MAX_ATTRIBUTE_SLOTS = 50


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
        for item in csv_rows(path, bad_utf8):
            if isinstance(item, RowProblem):
                continue  # reported in the second pass
            values = item.values
            if not _is_variation(values):
                if values.get("ID", "").strip() and values.get("SKU", "").strip():
                    sku_by_id[values["ID"].strip()] = values["SKU"].strip()
                continue
            # only what the file has columns for: a merge leaves the rest of a variant as is
            variant: dict[str, Any] = {}
            if "SKU" in values:
                variant["sku"] = values["SKU"].strip() or None
            if "Attribute 1 name" in values:
                variant["options"] = [{"name": n, "value": v} for n, v in _attributes(values)]
            if "Regular price" in values:
                variant["price"] = values["Regular price"].strip() or None
            by_parent[values.get("Parent", "").strip()].append((item.line, variant))
        return by_parent, sku_by_id

    def _product(self, row: CsvRow) -> SourceProduct:
        raw = map_columns(row.values, COLUMNS, ATTRIBUTE_COLUMNS)
        mentions = mentioned_columns(row.values, COLUMNS, ATTRIBUTE_COLUMNS)
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
        for item in csv_rows(path, bad_utf8):
            if isinstance(item, RowProblem):
                yield item
                continue
            if _is_variation(item.values):
                continue
            product = self._product(item)
            sku = str(product.raw["sku"]).strip()
            keys = [sku, f"id:{item.values.get('ID', '').strip()}"]
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
