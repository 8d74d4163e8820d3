"""Shoplingo's own formats: CSV (one row per product, extra rows for variants) and JSON Lines.

CSV columns (header names are case-insensitive):
    sku, title, description_html, source_locale, price, currency, vendor, tags (comma
    separated), seo_title, seo_description; ``attribute:<Name>`` for attributes; the legal
    fields legal_notice, warranty, safety_warning, return_policy, compliance, or
    ``legal:<field>`` for any other; variant_sku, variant_price, option1_name, option1_value
    ... option3_value for variants. Rows that repeat the previous row's sku add variants.
    On a re-import the columns the file has are what it changes (catalog.merging).

JSON Lines: one product per line, the same object ``PUT /v1/products/{sku}`` takes plus "sku".
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from shoplingo.catalog.imports.importers.base import (
    Item,
    RowProblem,
    SourceProduct,
    bad_utf8,
    csv_records,
    holds_nul,
    nul_in_text,
)
from shoplingo.catalog.quick import QUICK_FIELDS, QuickProduct, quick_product
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
_ENCODER = msgspec.json.Encoder()


def _header_name(column: str) -> str:
    """Case-insensitive names, except what follows ``attribute:`` / ``legal:``."""
    prefix, colon, rest = column.strip().partition(":")
    return f"{prefix.strip().lower()}:{rest.strip()}" if colon else prefix.strip().lower()


class _Layout:
    """Where each product value sits in a native CSV row, worked out once from the header."""

    def __init__(self, header: list[str]) -> None:
        # what the rows' cells mean: part of every row's import fingerprint
        self.signature = _ENCODER.encode(header)
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
        self.variant_cells = [
            i for i in (self.variant_sku, self.variant_price) if i is not None
        ] + [v for _, v in self.options]
        self.mentions = frozenset(
            [key for _, key in self.fields]
            + [f"attributes:{key}" for _, key in self.attributes]
            + [f"legal:{key}" for _, key in self.legal]
            + (["variants"] if self.variant_cells else [])
        )
        # the quick path reads each field from one column; a header that names a field twice
        # (description and description_html) leaves every row to the general path
        sources = [key for _, key in self.fields]
        self.quick_ok = len(sources) == len(set(sources))
        where = {key: index for index, key in self.fields}
        self.width = len(header)
        self.quick_cells = operator.itemgetter(*(where.get(f, self.width) for f in QUICK_FIELDS))

    def sku_of(self, row: list[str]) -> str:
        return row[self.sku].strip() if self.sku is not None else ""

    def quick(
        self, row: list[str], default_locale: str, default_currency: str | None
    ) -> QuickProduct | None:
        """The product of a one-row product's row when it is valid as written and has no
        variant (see ``catalog.quick.quick_product``), else None."""
        if not self.quick_ok or (
            self.variant_cells and any(row[i].strip() for i in self.variant_cells)
        ):
            return None
        return quick_product(
            self.quick_cells(row),  # a column the file lacks reads the row's padding cell
            [(key, row[i]) for i, key in self.attributes if row[i].strip()]
            if self.attributes
            else (),
            [(key, row[i]) for i, key in self.legal if row[i].strip()] if self.legal else (),
            default_locale,
            default_currency,
        )

    def product(self, line: int, row: list[str]) -> SourceProduct:
        raw: dict[str, Any] = {key: row[i] for i, key in self.fields if row[i].strip()}
        raw["sku"] = row[self.sku] if self.sku is not None else ""
        if attributes := {key: row[i] for i, key in self.attributes if row[i].strip()}:
            raw["attributes"] = attributes
        if legal := {key: row[i] for i, key in self.legal if row[i].strip()}:
            raw["legal"] = legal
        product = SourceProduct(line=line, raw=raw, mentions=self.mentions)
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
            # only what the file has columns for: a merge leaves the rest of a variant as is
            variant: dict[str, Any] = {}
            if self.variant_sku is not None:
                variant["sku"] = sku or None
            if self.options:
                variant["options"] = options
            if self.variant_price is not None:
                variant["price"] = price or None
            product.raw.setdefault("variants", []).append(variant)
            product.variant_lines.append(line)


@dataclass(slots=True)
class NativeProduct:
    """A product of a native CSV as read: its first row and one more per variant.

    Most products are valid as written, and :meth:`quick` turns their cells straight into
    the stored form; only the others are mapped to raw values (:meth:`source`) for
    ``validate_product`` to name their errors.
    """

    layout: _Layout
    sku: str  # stripped
    line: int
    cells: list[list[str]]
    lines: list[int]

    @property
    def rows(self) -> int:
        return len(self.cells)

    def fingerprint(self, context: bytes) -> str:
        """Hash of the rows as written, what their columns mean, and ``context`` (the import's
        own settings)."""
        return hashlib.sha256(
            _ENCODER.encode(self.cells) + self.layout.signature + context
        ).hexdigest()

    def quick(self, default_locale: str, default_currency: str | None) -> QuickProduct | None:
        if len(self.cells) > 1:
            return None
        return self.layout.quick(self.cells[0], default_locale, default_currency)

    def source(self) -> SourceProduct:
        product = self.layout.product(self.line, self.cells[0])
        for line, row in zip(self.lines[1:], self.cells[1:], strict=True):
            self.layout.add_variant(product, line, row)
        product.rows = len(self.cells)
        return product


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
        current: NativeProduct | None = None
        for item in records:
            if isinstance(item, RowProblem):
                yield item
                continue
            line, row = item
            # cells past the header's end dropped, and one empty cell there instead: where a
            # column the file lacks is read
            row[layout.width :] = [""]
            sku = layout.sku_of(row)
            if current is not None and sku and sku == current.sku:
                current.cells.append(row)
                current.lines.append(line)
                continue
            if current is not None:
                yield current
            current = NativeProduct(layout, sku, line, [row], [line])
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
                except RecursionError:
                    yield RowProblem(
                        line=line_no,
                        code="too_deep",
                        message=N_("This line nests values too deeply to be a product."),
                    )
                    continue
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
                if holds_nul(raw):
                    yield nul_in_text(line_no, None)
                    continue
                variants = raw.get("variants")
                yield SourceProduct(
                    line=line_no,
                    raw=raw,
                    variant_lines=[line_no] * (len(variants) if isinstance(variants, list) else 0),
                    mentions=frozenset(raw),
                )
