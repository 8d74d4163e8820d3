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
from collections import deque
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
    # the fields the file has a column (or key) for: what a merge changes of a stored product
    # (see catalog.merging)
    mentions: frozenset[str] = frozenset()

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


def _blank(row: list[str]) -> bool:
    return not row or all(not cell.strip() for cell in row)


def _header_row(rows: Iterator[list[str]]) -> list[str]:
    """The first row that is not blank: spreadsheet exports may start with an empty line."""
    return next((row for row in rows if not _blank(row)), [])


def read_header(path: Path) -> list[str]:
    with open_text(path) as fh:
        return _header_row(csv.reader(fh))


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


class _Lines:
    """The file's physical lines for ``csv.reader``, numbered, keeping those of the record being
    parsed: when a record turns out broken, all but its first line are read again."""

    def __init__(self, fh: io.TextIOWrapper) -> None:
        self.fh = fh
        self.again: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []
        self.count = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.again:
            number, text = self.again.popleft()
        else:
            text = self.fh.readline()
            if not text:
                raise StopIteration
            self.count += 1
            number = self.count
        self.taken.append((number, text))
        return text

    def next_line(self) -> int:
        """The number of the line the next record starts on."""
        return self.again[0][0] if self.again else self.count + 1


def _broken_record(line: int, error: csv.Error, *, lines: int) -> RowProblem:
    """What the parser's error means; a value that outgrows the limit over several lines is a
    quote that was never closed (the limit bounds how much of the file is read again)."""
    if "NUL" in str(error):
        return nul_in_text(line, None)
    if "field larger" in str(error) and lines == 1:
        return RowProblem(
            line=line,
            code="field_too_large",
            message=N_("A value in this row is longer than {limit} characters."),
            params={"limit": CSV_FIELD_LIMIT},
        )
    return RowProblem(
        line=line,
        code="unterminated_quote",
        message=N_(
            'A quoted value in this row is not closed (a " without its pair): the row was '
            "skipped and reading went on at the next line."
        ),
    )


def csv_records(
    path: Path,
    on_bad: Callable[[int, str], RowProblem],
    header_name: Callable[[str], str] = str.strip,
) -> tuple[list[str], Iterator[tuple[int, list[str]] | RowProblem]]:
    """The header, and the data rows as (line the row starts on, cells padded to the header).

    A row with bad UTF-8 or a NUL character in any cell becomes a RowProblem naming the column.
    A row the CSV parser cannot read (a quote never closed, which would otherwise swallow the
    rows after it) becomes a RowProblem on its first line, and reading goes on at the next one.
    """
    fh = open_text(path)
    lines = _Lines(fh)
    # strict: a quote that closes a value followed by more text is an error, not a guess
    reader = csv.reader(lines, strict=True)
    header = [header_name(h) for h in _header_row(reader)]
    check_cells = not file_is_utf8(path) or _has_nul(path)

    def rows() -> Iterator[tuple[int, list[str]] | RowProblem]:
        width = len(header)
        with fh:
            while True:
                line = lines.next_line()
                lines.taken.clear()
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield _broken_record(line, exc, lines=len(lines.taken))
                    lines.again.extendleft(reversed(lines.taken[1:]))
                    continue
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if check_cells and (problem := _bad_cell(row, line, header, on_bad)):
                    yield problem
                    continue
                if len(row) < width:
                    row += [""] * (width - len(row))
                yield line, row

    return header, rows()


def _bad_cell(
    row: list[str], line: int, header: list[str], on_bad: Callable[[int, str], RowProblem]
) -> RowProblem | None:
    def column(index: int) -> str:
        return header[index] if index < len(header) else f"column {index + 1}"

    joined = "".join(row)
    if invalid_utf8(joined):
        return on_bad(line, column(next(i for i, c in enumerate(row) if invalid_utf8(c))))
    if "\x00" in joined:
        return nul_in_text(line, column(next(i for i, c in enumerate(row) if "\x00" in c)))
    return None


def _has_nul(path: Path, chunk_size: int = 1 << 20) -> bool:
    with path.open("rb") as fh:
        return any(b"\x00" in chunk for chunk in iter(lambda: fh.read(chunk_size), b""))


def holds_nul(value: Any) -> bool:
    """Whether a decoded JSON value has a NUL character in any string (keys too); iterative, as
    a value may nest deeply."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def nul_in_text(line: int, column: str | None) -> RowProblem:
    """A row holding a NUL character, which no text can store (the API refuses it likewise)."""
    return RowProblem(
        line=line,
        code="invalid_text",
        message=N_("Text cannot contain NUL characters (\\u0000)."),
        column=column,
    )


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


def mentioned_columns(
    header: Any, columns: dict[str, str], attribute_columns: tuple[str, ...]
) -> frozenset[str]:
    """The fields a platform export's header has columns for (see catalog.merging)."""
    return frozenset(
        [f for f, c in columns.items() if c in header]
        + [f"attributes:{c}" for c in attribute_columns if c in header]
    )


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
