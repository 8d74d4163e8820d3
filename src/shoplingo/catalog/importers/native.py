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
    Item,
    RowProblem,
    SourceProduct,
    bad_utf8,
    csv_records,
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


def _header_name(column: str) -> str:
    """Case-insensitive names, except what follows ``attribute:`` / ``legal:``."""
    prefix, colon, rest = column.strip().partition(":")
    return f"{prefix.strip().lower()}:{rest.strip()}" if colon else prefix.strip().lower()


class _Layout:
    """Where each product value sits in a native CSV row, worked out once from the header."""

    def __init__(self, header: list[str]) -> None:
        self.fields: list[tuple[int, str]] = []
        self.attributes: list[tuple[int, str]] = []
        self.legal: list[tuple[int, str]] = []
        for index, column in enumerate(header):
            if column in PRODUCT_COLUMNS:
                self.fields.append((index, PRODUCT_COLUMNS[column]))
            elif column.startswith("attribute:"):
                self.attributes.append((index, column.split(":", 1)[1]))
            elif column.startswith("legal:") or column in LEGAL_COLUMNS:
                self.legal.append((index, column.split(":", 1)[-1]))
        position = {column: index for index, column in enumerate(header)}
        self.sku = position.get("sku")
        self.variant_sku = position.get("variant_sku")
        self.variant_price = position.get("variant_price")
        self.options = [
            (position.get(f"option{n}_name"), position[f"option{n}_value"])
            for n in OPTION_SLOTS
            if f"option{n}_value" in position
        ]

    def sku_of(self, row: list[str]) -> str:
        return row[self.sku].strip() if self.sku is not None else ""

    def product(self, line: int, row: list[str]) -> SourceProduct:
        raw: dict[str, Any] = {key: row[i] for i, key in self.fields if row[i].strip()}
        raw["sku"] = row[self.sku] if self.sku is not None else ""
        if attributes := {key: row[i] for i, key in self.attributes if row[i].strip()}:
            raw["attributes"] = attributes
        if legal := {key: row[i] for i, key in self.legal if row[i].strip()}:
            raw["legal"] = legal
        product = SourceProduct(line=line, raw=raw)
        self.add_variant(product, line, row)
        return product

    def add_variant(self, product: SourceProduct, line: int, row: list[str]) -> None:
        options = [
            {"name": row[n].strip() if n is not None else "", "value": row[v].strip()}
            for n, v in self.options
            if row[v].strip()
        ]
        sku = row[self.variant_sku].strip() if self.variant_sku is not None else ""
        price = row[self.variant_price].strip() if self.variant_price is not None else ""
        if options or sku or price:
            product.raw.setdefault("variants", []).append(
                {"sku": sku or None, "options": options, "price": price or None}
            )
            product.variant_lines.append(line)


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

    def read(self, path: Path) -> Iterator[Item]:
        header, records = csv_records(path, bad_utf8, _header_name)
        layout = _Layout(header)
        current: SourceProduct | None = None
        current_sku = ""
        for item in records:
            if isinstance(item, RowProblem):
                yield item
                continue
            line, row = item
            sku = layout.sku_of(row)
            if current is not None and sku and sku == current_sku:
                layout.add_variant(current, line, row)
                current.rows += 1
                continue
            if current is not None:
                yield current
            current, current_sku = layout.product(line, row), sku
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
