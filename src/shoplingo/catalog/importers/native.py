"""Shoplingo's own formats: CSV (one row per product, extra rows for variants) and JSON Lines.

CSV columns (header names are case-insensitive):
    sku, title, description_html, source_locale, price, currency, vendor, tags (comma
    separated), seo_title, seo_description; ``attribute:<Name>`` for attributes; the legal
    fields legal_notice, warranty, safety_warning, return_policy, compliance, or
    ``legal:<field>`` for any other; variant_sku, variant_price, option1_name, option1_value
    ... option3_value for variants. Rows that repeat the previous row's sku add variants.

JSON Lines: one product per line, the same object ``PUT /v1/products/{sku}`` takes plus "sku".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from shoplingo.catalog.importers.base import (
    CsvRow,
    Item,
    RowProblem,
    SourceProduct,
    bad_utf8,
    csv_rows,
)
from shoplingo.core.i18n import N_

LEGAL_COLUMNS = ("legal_notice", "warranty", "safety_warning", "return_policy", "compliance")
PRODUCT_COLUMNS = {
    "sku": "sku",
    "title": "title",
    "description_html": "description_html",
    "description": "description_html",
    "source_locale": "source_locale",
    "locale": "source_locale",
    "price": "price",
    "currency": "currency",
    "vendor": "vendor",
    "tags": "tags",
    "seo_title": "seo_title",
    "seo_description": "seo_description",
}
OPTION_SLOTS = (1, 2, 3)


def _variant_from(values: dict[str, str]) -> dict[str, Any] | None:
    options = [
        {"name": values.get(f"option{n}_name", "").strip(), "value": value.strip()}
        for n in OPTION_SLOTS
        if (value := values.get(f"option{n}_value", "")).strip()
    ]
    sku = values.get("variant_sku", "").strip()
    price = values.get("variant_price", "").strip()
    if not (options or sku or price):
        return None
    return {"sku": sku or None, "options": options, "price": price or None}


def _header_name(column: str) -> str:
    """Case-insensitive names, except what follows ``attribute:`` / ``legal:``."""
    prefix, colon, rest = column.strip().partition(":")
    return f"{prefix.strip().lower()}:{rest.strip()}" if colon else prefix.strip().lower()


class NativeCsvReader:
    name = "csv"

    def column_for(self, field: str) -> str:
        head, _, rest = field.partition(".")
        if head == "attributes":
            return f"attribute:{rest}"
        if head == "legal":
            return rest if rest in LEGAL_COLUMNS else f"legal:{rest}"
        if head == "variants":
            leaf = field.rsplit(".", 1)[-1]
            return {"sku": "variant_sku", "price": "variant_price"}.get(leaf, "option1_value")
        return field

    def _product(self, row: CsvRow) -> SourceProduct:
        raw: dict[str, Any] = {}
        attributes: dict[str, str] = {}
        legal: dict[str, str] = {}
        for column, value in row.values.items():
            key = column
            if key in PRODUCT_COLUMNS:
                if value.strip():
                    raw[PRODUCT_COLUMNS[key]] = value
            elif key.startswith("attribute:"):
                if value.strip():
                    attributes[column.split(":", 1)[1]] = value
            elif (key.startswith("legal:") or key in LEGAL_COLUMNS) and value.strip():
                legal[key.split(":", 1)[-1]] = value
        raw["sku"] = row.values.get("sku", raw.get("sku", ""))
        if attributes:
            raw["attributes"] = attributes
        if legal:
            raw["legal"] = legal
        product = SourceProduct(line=row.line, raw=raw)
        self._add_variant(product, row)
        return product

    @staticmethod
    def _add_variant(product: SourceProduct, row: CsvRow) -> None:
        variant = _variant_from(row.values)
        if variant is not None:
            product.raw.setdefault("variants", []).append(variant)
            product.variant_lines.append(row.line)

    def read(self, path: Path) -> Iterator[Item]:
        current: SourceProduct | None = None
        for item in csv_rows(path, bad_utf8, header_name=_header_name):
            if isinstance(item, RowProblem):
                yield item
                continue
            sku = item.values.get("sku", "").strip()
            if current is not None and sku and sku == str(current.raw.get("sku", "")).strip():
                self._add_variant(current, item)
                current.rows += 1
                continue
            if current is not None:
                yield current
            current = self._product(item)
        if current is not None:
            yield current


class JsonLinesReader:
    name = "jsonl"

    def column_for(self, field: str) -> str:
        return field

    def read(self, path: Path) -> Iterator[Item]:
        decoder = msgspec.json.Decoder()
        with path.open("rb") as fh:
            for line_no, line in enumerate(fh, start=1):
                if line_no == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                if not line.strip():
                    continue
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError:
                    yield bad_utf8(line_no, "line")
                    continue
                try:
                    raw = decoder.decode(text)
                except msgspec.DecodeError as exc:
                    yield RowProblem(
                        line=line_no,
                        code="invalid_json",
                        message=N_("This line is not a JSON object: {reason}"),
                        params={"reason": str(exc)},
                    )
                    continue
                if not isinstance(raw, dict):
                    yield RowProblem(
                        line=line_no,
                        code="invalid_json",
                        message=N_("This line is not a JSON object: {reason}"),
                        params={"reason": type(raw).__name__},
                    )
                    continue
                yield SourceProduct(
                    line=line_no,
                    raw=raw,
                    variant_lines=[line_no] * len(raw.get("variants") or []),
                )
