"""What every catalog file reader produces, and the helpers they share.

A reader turns a file into a stream of :class:`SourceProduct` (raw values, ready for
``catalog.validation.validate_product``) or :class:`PendingProduct` (rows read but not yet mapped
to raw values, for a reader with a quick path) and :class:`RowProblem` (a row that cannot even
become a product: bad encoding, unreadable JSON, a variation without its parent).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import msgspec

from shoplingo.catalog.quick import QuickProduct
from shoplingo.core.i18n import N_

# Field values an importer may hand to validate_product are bounded by the rules; this bound
# only protects the CSV parser from a runaway quoted field.
CSV_FIELD_LIMIT = 1024 * 1024
csv.field_size_limit(CSV_FIELD_LIMIT)

_SURROGATE = re.compile("[\udc80-\udcff]")
_ENCODER = msgspec.json.Encoder(order="sorted")


@dataclass(slots=True)
class SourceProduct:
    line: int
    raw: dict[str, Any]
    # line of each variant's row, for errors about variants.N.*
    variant_lines: list[int] = field(default_factory=list)
    rows: int = 1

    def fingerprint(self, context: bytes) -> str:
        """Hash of the raw input (and the import's own settings, like the currency)."""
        return hashlib.sha256(_ENCODER.encode(self.raw) + context).hexdigest()


@dataclass(slots=True, frozen=True)
class RowProblem:
    line: int
    code: str
    message: str
    column: str | None = None
    sku: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    rows: int = 1


class PendingProduct(Protocol):
    """A product read from a file whose cells are not yet mapped to raw values: most products
    are valid as written, and :meth:`quick` gives their stored form without the mapping."""

    @property
    def sku(self) -> str:
        """As it will be stored (stripped); "" when missing."""
        ...

    @property
    def line(self) -> int: ...

    @property
    def rows(self) -> int: ...

    def fingerprint(self, context: bytes) -> str:
        """Hash of the rows as written (and ``context``: the import's own settings)."""
        ...

    def quick(self, default_locale: str, default_currency: str | None) -> QuickProduct | None:
        """The product's canonical form when it is valid as written and has no variants,
        else None (then ``source()`` and ``validate_product`` decide)."""
        ...

    def source(self) -> SourceProduct:
        """Raw values for ``validate_product`` (which then names what is wrong)."""
        ...


Item = SourceProduct | PendingProduct | RowProblem


class Reader(Protocol):
    name: str

    def read(self, path: Path) -> Iterator[Item]: ...

    def column_for(self, field: str) -> str:
        """The file's column that holds a product field (``title`` -> ``Name``)."""
        ...


def open_text(path: Path) -> io.TextIOWrapper:
    """UTF-8 with or without BOM, any line ending; bad bytes survive as surrogates to report."""
    return io.TextIOWrapper(
        path.open("rb"), encoding="utf-8-sig", errors="surrogateescape", newline=""
    )


def invalid_utf8(value: str) -> bool:
    return _SURROGATE.search(value) is not None


def read_header(path: Path) -> list[str]:
    with open_text(path) as fh:
        return next(csv.reader(fh), [])


@dataclass(slots=True)
class CsvRow:
    line: int
    values: dict[str, str]


def file_is_utf8(path: Path, chunk_size: int = 1 << 20) -> bool:
    """One fast pass in C; when it holds (the usual case) no cell needs checking."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(chunk_size):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def csv_records(
    path: Path,
    on_bad: Callable[[int, str], RowProblem],
    header_name: Callable[[str], str] = str.strip,
) -> tuple[list[str], Iterator[tuple[int, list[str]] | RowProblem]]:
    """The header, and the data rows as (line the row starts on, cells padded to the header).

    A row with bad UTF-8 in any cell becomes a RowProblem naming the column.
    """
    fh = open_text(path)
    reader = csv.reader(fh)
    header = [header_name(h) for h in next(reader, [])]
    check_cells = not file_is_utf8(path)

    def rows() -> Iterator[tuple[int, list[str]] | RowProblem]:
        width = len(header)
        start = reader.line_num + 1
        with fh:
            for row in reader:
                line, start = start, reader.line_num + 1
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if check_cells and invalid_utf8("".join(row)):
                    index = next(i for i, cell in enumerate(row) if invalid_utf8(cell))
                    yield on_bad(line, header[index] if index < width else f"column {index + 1}")
                    continue
                if len(row) < width:
                    row += [""] * (width - len(row))
                yield line, row

    return header, rows()


def csv_rows(
    path: Path,
    on_bad: Callable[[int, str], RowProblem],
    *,
    header_name: Callable[[str], str] = str.strip,
) -> Iterator[CsvRow | RowProblem]:
    """Data rows as {column: value}, with the line each row starts on."""
    header, records = csv_records(path, on_bad, header_name)
    for item in records:
        if isinstance(item, RowProblem):
            yield item
        else:
            yield CsvRow(line=item[0], values=dict(zip(header, item[1], strict=False)))


def map_columns(
    values: dict[str, str], columns: dict[str, str], attribute_columns: tuple[str, ...]
) -> dict[str, Any]:
    """Raw product values from a row: ``columns`` maps product fields to the file's columns;
    ``attribute_columns`` are kept as attributes under their own names."""
    raw: dict[str, Any] = {f: values[c] for f, c in columns.items() if values.get(c)}
    raw["sku"] = values.get(columns["sku"], "")
    attributes = {c: values[c] for c in attribute_columns if values.get(c, "").strip()}
    if attributes:
        raw["attributes"] = attributes
    return raw


def export_column(field: str, columns: dict[str, str], variant_columns: dict[str, str]) -> str:
    """The column of a platform export (Shopify, WooCommerce) that holds a product field:
    ``variant_columns`` maps ``sku``, ``price`` and ``options`` of a variant."""
    head, _, rest = field.partition(".")
    if head == "attributes":
        return rest
    if head == "variants":
        leaf = field.rsplit(".", 1)[-1]
        return variant_columns.get(leaf, variant_columns["options"])
    return columns.get(field, field)


def bad_utf8(line: int, column: str) -> RowProblem:
    return RowProblem(
        line=line,
        code="invalid_utf8",
        message=N_("This row is not valid UTF-8 (in {column}): save the file as UTF-8."),
        column=column,
        params={"column": column},
    )
