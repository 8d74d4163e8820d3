"""Turning an import file into chunks of COPY records and row errors.

This is the CPU-heavy part of an import (reading, validating, sanitizing, hashing); it runs in
a child process of the worker (:class:`ChunkProcess`) and imports nothing of the database
stack (SQLAlchemy, asyncpg), so that the processes forked for it stay small.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import multiprocessing.process
import operator
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec
import structlog

from shoplingo.catalog.imports.importers import reader_for
from shoplingo.catalog.imports.importers.base import (
    Item,
    PendingProduct,
    Reader,
    RowProblem,
    SourceProduct,
)
from shoplingo.catalog.merging import merge_product
from shoplingo.catalog.validation import RULES_VERSION, ProductData, validate_product
from shoplingo.core.i18n import N_
from shoplingo.ids import uuid7_texts

log = structlog.get_logger(__name__)
_json = msgspec.json.Encoder()


@dataclass(slots=True)
class Chunk:
    # products new to the catalog without variants: COPYed straight into products
    new_records: list[tuple[Any, ...]] = field(default_factory=list)
    # the others: COPYed into the stage table, then upserted
    records: list[tuple[Any, ...]] = field(default_factory=list)
    errors: list[tuple[int, str | None, str | None, str, str, dict[str, Any]]] = field(
        default_factory=list
    )
    # rows of products already in the catalog, to merge with the stored product (mode merge)
    # before they are validated: (row, fingerprint); see finish_partials
    partials: list[tuple[SourceProduct, str]] = field(default_factory=list)
    rows: int = 0
    failed: int = 0
    skipped_unchanged: int = 0


class ChunkBuilder:
    """Turns reader items into COPY records and error rows, chunk by chunk (pure CPU work)."""

    def __init__(
        self,
        reader: Reader,
        items: Iterator[Item],
        *,
        tenant_id: uuid.UUID,
        default_locale: str,
        currency: str | None,
        known: dict[str, str | None],
        chunk_rows: int,
        mode: str = "merge",
    ) -> None:
        self.reader = reader
        self.items = items
        self.tenant_id = tenant_id
        self.default_locale = default_locale
        self.currency = currency
        # every SKU of the tenant's catalog -> the fingerprint of the row it was last imported
        # from (None: written otherwise since, or deleted)
        self.known = known
        self.chunk_rows = chunk_rows
        self.merge = mode == "merge"
        self.context = (
            f"{RULES_VERSION}|{reader.name}|{default_locale}|{currency or ''}|{mode}".encode()
        )
        self.seen: set[str] = set()
        self.ids = uuid7_texts()

    def next_chunk(self) -> Chunk | None:
        chunk = Chunk()
        for item in self.items:
            chunk.rows += item.rows
            if isinstance(item, RowProblem):
                chunk.failed += 1
                chunk.errors.append(
                    (item.line, item.sku, item.column, item.code, item.message, item.params)
                )
            elif isinstance(item, SourceProduct):
                self._add(chunk, item)
            else:
                self._add_pending(chunk, item)
            if chunk.rows >= self.chunk_rows:
                return chunk
        return chunk if chunk.rows else None

    def _first_time(self, chunk: Chunk, sku: str, line: int) -> bool:
        """False (and the row reported) for a SKU seen earlier in the file."""
        if sku and sku in self.seen:
            chunk.failed += 1
            chunk.errors.append(
                (
                    line,
                    sku,
                    self.reader.column_for("sku"),
                    "duplicate_sku",
                    N_("The SKU {sku} appears twice in this file; the first one was kept."),
                    {"sku": sku},
                )
            )
            return False
        self.seen.add(sku)
        return True

    def _add_pending(self, chunk: Chunk, item: PendingProduct) -> None:
        sku = item.sku
        if not self._first_time(chunk, sku, item.line):
            return
        fingerprint = item.fingerprint(self.context)
        if sku and self.known.get(sku) == fingerprint:
            chunk.skipped_unchanged += 1
            return
        if self.merge and sku in self.known:
            chunk.partials.append((item.source(), fingerprint))
            return
        quick = item.quick(self.default_locale, self.currency)
        if quick is None:
            source = item.source()
            self._default_currency(source.raw)
            self._validate(chunk, source, sku, fingerprint)
            return
        (sku, locale, title, description, seo_title, seo_description, vendor, tags, attributes,
         legal, price, currency, content_hash) = quick  # fmt: skip
        # no short description, compare-at price or unpublished flag on the quick path
        head = (
            sku, locale, title, description, seo_title, seo_description, vendor, tags,
            _json_text(attributes, "{}"), _json_text(legal, "{}"), price, currency, None, None,
            True, content_hash, fingerprint,
        )  # fmt: skip
        if sku in self.known:
            chunk.records.append((*head, "[]"))
        else:
            chunk.new_records.append((self.tenant_id, next(self.ids), *head))

    def _add(self, chunk: Chunk, item: SourceProduct) -> None:
        raw = item.raw
        self._default_currency(raw)
        sku = str(raw.get("sku") or "").strip()
        if not self._first_time(chunk, sku, item.line):
            return
        fingerprint = item.fingerprint(self.context)
        if sku and self.known.get(sku) == fingerprint:
            chunk.skipped_unchanged += 1
            return
        if self.merge and sku in self.known:
            chunk.partials.append((item, fingerprint))
            return
        self._validate(chunk, item, sku, fingerprint)

    def _default_currency(self, raw: dict[str, Any]) -> None:
        if self.currency and not raw.get("currency"):
            raw["currency"] = self.currency

    def _validate(self, chunk: Chunk, item: SourceProduct, sku: str, fingerprint: str) -> None:
        data = _validated(chunk, self.reader, item, item.raw, sku, self.default_locale)
        if data is None:
            return
        record = _record(data, fingerprint)
        if data.variants or data.sku in self.known:
            chunk.records.append(record)
        else:
            chunk.new_records.append((self.tenant_id, next(self.ids), *record[:-1]))


def _validated(
    chunk: Chunk,
    reader: Reader,
    item: SourceProduct,
    raw: dict[str, Any],
    sku: str,
    default_locale: str,
    variant_origin: list[int | None] | None = None,
) -> ProductData | None:
    """``raw`` validated, or None with its errors added to the chunk (on the row's lines;
    ``variant_origin`` maps a merged variant to the row's variant it came from)."""
    data, errors = validate_product(raw, default_locale=default_locale)
    if data is not None:
        return data
    chunk.failed += 1
    for error in errors:
        chunk.errors.append(
            (
                _line_for(item, error.field, variant_origin),
                sku or None,
                reader.column_for(error.field),
                error.code,
                error.message,
                error.params,
            )
        )
    return None


def _line_for(item: SourceProduct, field_path: str, origin: list[int | None] | None) -> int:
    head, _, rest = field_path.partition(".")
    if head == "variants":
        index_text = rest.split(".", 1)[0]
        index: int | None = int(index_text) if index_text.isdigit() else None
        if origin is not None and index is not None:
            index = origin[index] if index < len(origin) else None
        if index is not None and index < len(item.variant_lines):
            return item.variant_lines[index]
    return item.line


def finish_partials(
    chunk: Chunk,
    stored: dict[str, dict[str, Any]],
    reader: Reader,
    *,
    default_locale: str,
    currency: str | None,
) -> None:
    """Merge each of the chunk's partial rows with its stored product (raw values by SKU; a
    product deleted meanwhile takes the row alone), then validate it like any row: the
    merged product joins the chunk's records, or its errors the chunk's errors."""
    reported = len(chunk.errors)
    for item, fingerprint in chunk.partials:
        sku = str(item.raw.get("sku") or "").strip()
        base = stored.get(sku)
        raw, origin = (
            merge_product(base, item.raw, item.mentions) if base is not None else (item.raw, None)
        )
        if currency and not raw.get("currency"):
            raw["currency"] = currency
        data = _validated(chunk, reader, item, raw, sku, default_locale, origin)
        if data is not None:
            chunk.records.append(_record(data, fingerprint))
    chunk.partials.clear()
    if len(chunk.errors) > reported:
        chunk.errors.sort(key=operator.itemgetter(0))  # in file order, like the others


def _json_text(value: Any, empty: str) -> str:
    return _json.encode(value).decode() if value else empty


def _record(data: ProductData, fingerprint: str) -> tuple[Any, ...]:
    return (
        data.sku,
        data.source_locale,
        data.title,
        data.description_html,
        data.seo_title,
        data.seo_description,
        data.vendor,
        list(data.tags),
        _json_text(data.attributes, "{}"),
        _json_text(data.legal, "{}"),
        data.price,
        data.currency,
        data.short_description,
        data.compare_at_price,
        data.published,
        data.content_hash(),
        fingerprint,
        _json_text(
            [
                {"sku": v.sku, "options": [{"name": n, "value": x} for n, x in v.options],
                 "price": None if v.price is None else str(v.price)}
                for v in data.variants
            ],
            "[]",
        ),
    )  # fmt: skip


# Parsing and validating take most of an import's CPU time. In a child process they use the
# other core while this process feeds the database (a thread would share the GIL with the
# event loop that encodes the COPY data, and both would wait on each other). Children fork
# from a server process that has imported everything once, so a child starts in milliseconds
# and nothing of the worker's threads or connections is copied into it.
_PROCESSES = multiprocessing.get_context("forkserver")
# multiprocessing also runs the parent's main module again in each child (the shoplingo
# command, whatever runs the worker): its imports are warm in the server too, and it imports
# the rest only in the commands that need it
_PROCESSES.set_forkserver_preload([__name__, "shoplingo.cli"])


def start_chunk_processes() -> None:
    """Start the fork server if it is not running (the worker calls this at start-up, so that
    the first import does not wait for it)."""
    multiprocessing.forkserver.ensure_running()


class ChunkProcessFailed(Exception):
    """The child process that reads the file raised, or ended without a word."""


@dataclass(frozen=True, slots=True)
class ChunkSource:
    """What the child process reads, and how."""

    path: Path
    format: str
    tenant_id: uuid.UUID
    default_locale: str
    currency: str | None
    chunk_rows: int
    mode: str = "merge"


def _send_chunks(
    out: multiprocessing.connection.Connection,
    source: ChunkSource,
    known: dict[str, str | None],
) -> None:
    """The child's side: ("chunk", Chunk) per chunk, then ("done", None); on an error
    ("error", (what went wrong, the traceback)). A send blocks while the parent is still busy
    with the chunk before, so at most two chunks are in flight."""
    try:
        reader = reader_for(source.format)
        builder = ChunkBuilder(
            reader,
            iter(reader.read(source.path)),
            tenant_id=source.tenant_id,
            default_locale=source.default_locale,
            currency=source.currency,
            known=known,
            chunk_rows=source.chunk_rows,
            mode=source.mode,
        )
        while (chunk := builder.next_chunk()) is not None:
            out.send(("chunk", chunk))
        out.send(("done", None))
    except BrokenPipeError:
        pass  # the parent gave up on this import (or died): nothing to tell
    except Exception as exc:
        out.send(("error", (f"{type(exc).__name__}: {exc}", traceback.format_exc())))
    finally:
        out.close()


class ChunkProcess:
    """The chunks of one import file, built by a child process::

        async with ChunkProcess(source, known) as chunks:
            async for chunk in chunks:
                ...

    One thread of its own starts the child (that writes ``known`` into the pipe), receives
    and unpickles the next chunk while the caller works on the one before, and closes the pipe
    at the end, in that order. Leaving the block early stops the child.
    """

    def __init__(self, source: ChunkSource, known: dict[str, str | None]) -> None:
        self._source = source
        self._known = known
        self._thread = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="import-chunks"
        )
        self._next: concurrent.futures.Future[Chunk | None] | None = None
        self._child: multiprocessing.process.BaseProcess | None = None
        self._stopping = False

    # --- on the thread

    def _start(self) -> None:
        start_chunk_processes()
        receiver, sender = _PROCESSES.Pipe(duplex=False)
        try:
            child = _PROCESSES.Process(
                target=_send_chunks,
                args=(sender, self._source, self._known),
                name="shoplingo-import",
                daemon=True,
            )
            child.start()
        except BaseException:
            receiver.close()
            raise
        finally:
            sender.close()  # the child holds its own end: reading ours ends when it closes it
        self._receiver, self._child = receiver, child

    def _receive(self) -> Chunk | None:
        try:
            kind, payload = self._receiver.recv()
        except EOFError:
            raise ChunkProcessFailed(
                "reading the file was stopped"
                if self._stopping
                else "the process reading the file ended unexpectedly"
            ) from None
        if kind == "error":
            reason, child_traceback = payload
            log.error("import_reading_failed", reason=reason, child_traceback=child_traceback)
            raise ChunkProcessFailed(f"reading the file failed: {reason}")
        if kind == "done":
            return None
        chunk: Chunk = payload
        return chunk

    def _close(self) -> None:
        if self._child is None:
            return  # never started
        self._child.join()
        self._receiver.close()
        if self._child.exitcode and not self._stopping:
            log.error("import_reader_died", exitcode=self._child.exitcode)

    def _abandon(self) -> None:
        self._stop()
        self._close()

    # --- on any thread

    def _stop(self) -> None:
        if self._child is not None and self._child.is_alive():
            self._stopping = True
            self._child.kill()  # a recv() waiting for it ends

    # --- on the event loop

    async def __aenter__(self) -> ChunkProcess:
        try:
            await asyncio.wrap_future(self._thread.submit(self._start))
        except BaseException:
            # cancelled while the thread starts the child: it stops it once it has started it
            self._thread.submit(self._abandon)
            self._thread.shutdown(wait=False)
            raise
        self._next = self._thread.submit(self._receive)
        return self

    def __aiter__(self) -> ChunkProcess:
        return self

    async def __anext__(self) -> Chunk:
        if self._next is None:
            raise StopAsyncIteration
        chunk = await asyncio.wrap_future(self._next)
        if chunk is None:
            self._next = None  # the whole file: the child ends by itself
            raise StopAsyncIteration
        self._next = self._thread.submit(self._receive)
        return chunk

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._next is not None:
            self._stop()  # left early: the import failed or was cancelled
        # after the receive under way (if any): the pipe is closed once nobody reads it
        closed = self._thread.submit(self._close)
        self._thread.shutdown(wait=False)
        await asyncio.wrap_future(closed)
