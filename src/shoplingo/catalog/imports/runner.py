"""The bulk import pipeline a worker runs for one uploaded file.

All catalog writes of an import happen in one transaction: rows are validated in chunks by a
child process (imports.chunks); products new to the catalog (without variants) are COPYed
straight into the products table, the others (rows of stored products first merged with what
is stored, unless the import's mode is replace: catalog.merging) into a temporary table and
upserted from there (only rows whose content hash changed are written), so a worker that dies
mid-file leaves nothing half-written. The job row is marked finished in that same transaction:
succeeded, succeeded_with_errors (some rows failed) or failed (rows failed and none landed).

The job's lifecycle (claim, retry, give up, the advisory lock that keeps a second worker out
and tells the sweeper the run is alive) is core.jobs.run_tracked's; the import runs on the
lock's connection (imports.jobs).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shoplingo.catalog.changes import source_changed
from shoplingo.catalog.imports.chunks import Chunk, ChunkProcess, ChunkSource, finish_partials
from shoplingo.catalog.imports.importers import reader_for
from shoplingo.core.db import jsonb_value
from shoplingo.core.jobs import JobCancelled, JobFailed

log = structlog.get_logger(__name__)
_json = msgspec.json.Encoder()
_decode_stored = msgspec.json.Decoder(dict[str, Any]).decode

STAGE_COLUMNS = (
    "sku", "source_locale", "title", "description_html", "seo_title", "seo_description",
    "vendor", "tags", "attributes", "legal", "price", "currency", "short_description",
    "compare_at_price", "published", "content_hash", "import_fingerprint", "variants",
)  # fmt: skip
PRODUCT_COLUMNS = ("tenant_id", "id", *STAGE_COLUMNS[:-1])
ERROR_COLUMNS = ("tenant_id", "job_id", "seq", "line", "sku", "column", "code", "message", "params")


class ImportFileError(JobFailed):
    """The file as a whole cannot be imported; retrying will not help."""


@dataclass(slots=True)
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }

    @property
    def status(self) -> str:
        """The finished import's: failed when rows failed and none landed (a row that is
        already stored as written, ``unchanged``, landed)."""
        if not self.failed:
            return "succeeded"
        return (
            "succeeded_with_errors" if self.inserted + self.updated + self.unchanged else "failed"
        )


CREATE_STAGE = """
CREATE TEMPORARY TABLE import_stage (
    id uuid DEFAULT uuid7(), sku text, source_locale text, title text, description_html text,
    seo_title text, seo_description text, vendor text, tags text[], attributes jsonb, legal jsonb,
    price numeric(18, 4), currency text, short_description text,
    compare_at_price numeric(18, 4), published boolean, content_hash text,
    import_fingerprint text, variants jsonb
) ON COMMIT DROP;
CREATE TEMPORARY TABLE import_changed (id uuid, sku text, inserted boolean) ON COMMIT DROP;
"""

UPSERT = """
WITH up AS (
    INSERT INTO products AS p (
        tenant_id, id, sku, source_locale, title, description_html, seo_title, seo_description,
        vendor, tags, attributes, legal, price, currency, short_description, compare_at_price,
        published, content_hash, import_fingerprint, version)
    SELECT $1, id, sku, source_locale, title, description_html, seo_title, seo_description,
           vendor, tags, attributes, legal, price, currency, short_description,
           compare_at_price, published, content_hash, import_fingerprint, 1
    FROM import_stage
    ON CONFLICT (tenant_id, sku) DO UPDATE SET
        source_locale = EXCLUDED.source_locale, title = EXCLUDED.title,
        description_html = EXCLUDED.description_html, seo_title = EXCLUDED.seo_title,
        seo_description = EXCLUDED.seo_description, vendor = EXCLUDED.vendor,
        tags = EXCLUDED.tags, attributes = EXCLUDED.attributes, legal = EXCLUDED.legal,
        price = EXCLUDED.price, currency = EXCLUDED.currency,
        short_description = EXCLUDED.short_description,
        compare_at_price = EXCLUDED.compare_at_price, published = EXCLUDED.published,
        content_hash = EXCLUDED.content_hash, import_fingerprint = EXCLUDED.import_fingerprint,
        version = p.version + 1, updated_at = now(), deleted_at = NULL
    WHERE p.content_hash IS DISTINCT FROM EXCLUDED.content_hash OR p.deleted_at IS NOT NULL
    RETURNING p.id, p.sku, (p.xmax = 0) AS inserted
)
INSERT INTO import_changed SELECT id, sku, inserted FROM up
"""

# same content, other raw row (or written through the API since): remember the new
# fingerprint so the next identical upload skips validation, without a new version
REMEMBER_FINGERPRINTS = """
UPDATE products p SET import_fingerprint = s.import_fingerprint
FROM import_stage s
WHERE p.tenant_id = $1 AND p.sku = s.sku
  AND p.import_fingerprint IS DISTINCT FROM s.import_fingerprint
  AND NOT EXISTS (SELECT 1 FROM import_changed c WHERE c.sku = s.sku)
"""

DELETE_CHANGED_VARIANTS = """
DELETE FROM variants v USING import_changed c
WHERE v.tenant_id = $1 AND v.product_id = c.id AND NOT c.inserted
"""

INSERT_VARIANTS = """
INSERT INTO variants (tenant_id, id, product_id, position, sku, options, price)
SELECT $1, gen_random_uuid(), c.id, (e.ordinality - 1)::int, e.value ->> 'sku',
       coalesce(e.value -> 'options', '[]'::jsonb), (e.value ->> 'price')::numeric
FROM import_changed c
JOIN import_stage s ON s.sku = c.sku AND s.variants <> '[]'::jsonb
CROSS JOIN LATERAL jsonb_array_elements(s.variants) WITH ORDINALITY AS e(value, ordinality)
"""


# what a merge starts from: the products as stored, in the shape validate_product reads, as
# JSON text (msgspec decodes it many times faster than asyncpg's per-column jsonb codec)
STORED_PRODUCTS = """
SELECT jsonb_build_object(
    'sku', p.sku, 'source_locale', p.source_locale, 'title', p.title,
    'description_html', p.description_html, 'seo_title', p.seo_title,
    'seo_description', p.seo_description, 'vendor', p.vendor, 'tags', p.tags,
    'attributes', p.attributes, 'legal', p.legal, 'price', p.price::text,
    'currency', p.currency, 'short_description', p.short_description,
    'compare_at_price', p.compare_at_price::text, 'published', p.published,
    'variants', coalesce(
        (SELECT jsonb_agg(jsonb_build_object('sku', v.sku, 'options', v.options,
                                             'price', v.price::text) ORDER BY v.position)
         FROM variants v WHERE v.tenant_id = p.tenant_id AND v.product_id = p.id),
        '[]'::jsonb)
)::text
FROM products p
WHERE p.tenant_id = $1 AND p.sku = ANY($2::text[]) AND p.deleted_at IS NULL
"""

# the catalog's state in two numbers: any product write adds a product or raises a version
CATALOG_SIGNATURE = """
SELECT jsonb_build_array(count(*), coalesce(sum(version), 0))
FROM products WHERE tenant_id = $1
"""

FINISH = f"""
UPDATE jobs SET status = $5, counts = $3::jsonb, processed = $4, total = $4,
    params = params || jsonb_build_object('catalog_signature', ({CATALOG_SIGNATURE})),
    finished_at = clock_timestamp(), updated_at = clock_timestamp(), error = NULL
WHERE tenant_id = $1 AND id = $2 AND status = 'running'
"""

PREVIOUS_IDENTICAL_IMPORT = """
SELECT id, counts, processed, params -> 'catalog_signature' AS signature
FROM jobs
WHERE tenant_id = $1 AND kind = 'import' AND id <> $2
  AND status IN ('succeeded', 'succeeded_with_errors', 'failed')
  AND params ->> 'sha256' = $3 AND params ->> 'format' = $4
  AND coalesce(params ->> 'currency', '') = $5 AND params ->> 'source_locale' = $6
  AND coalesce(params ->> 'mode', 'replace') = $7
ORDER BY finished_at DESC, id DESC
LIMIT 1
"""

COPY_PREVIOUS_ERRORS = """
INSERT INTO import_row_errors (tenant_id, job_id, seq, line, sku, "column", code, message, params)
SELECT tenant_id, $2, seq, line, sku, "column", code, message, params
FROM import_row_errors WHERE tenant_id = $1 AND job_id = $3
"""


@dataclass(frozen=True, slots=True)
class ImportTask:
    tenant_id: uuid.UUID
    job_id: uuid.UUID
    path: Path
    format: str
    currency: str | None
    source_locale: str
    chunk_rows: int
    sha256: str
    mode: str = "merge"


async def _load_catalog(raw: Any, tenant_id: uuid.UUID) -> dict[str, str | None]:
    """Every SKU of the tenant -> the import fingerprint that lets a row skip validation."""
    rows = await raw.fetch(
        "SELECT sku, CASE WHEN deleted_at IS NULL THEN import_fingerprint END FROM products "
        "WHERE tenant_id = $1",
        tenant_id,
    )
    return {row[0]: row[1] for row in rows}


async def _copy_new_products(raw: Any, chunk: Chunk) -> int:
    """COPY products new to the catalog straight into the table (no stage, no upsert); if one
    was created meanwhile by someone else, the whole chunk goes the upsert way instead."""
    records = chunk.new_records
    await raw.execute("SAVEPOINT import_new_products")
    try:
        await raw.copy_records_to_table("products", records=records, columns=PRODUCT_COLUMNS)
    except asyncpg.UniqueViolationError:
        await raw.execute("ROLLBACK TO SAVEPOINT import_new_products")
        chunk.records.extend((*record[2:], "[]") for record in records)
        records = []
    await raw.execute("RELEASE SAVEPOINT import_new_products")
    return len(records)


async def _merge_partials(raw: Any, task: ImportTask, chunk: Chunk) -> None:
    """Merge the chunk's rows of stored products with what is stored (mode merge), off the
    event loop: the merged products then go the upsert way like any other."""
    rows = await raw.fetch(
        STORED_PRODUCTS, task.tenant_id, [str(item.raw.get("sku") or "").strip()
                                          for item, _ in chunk.partials],
    )  # fmt: skip
    texts = [row[0] for row in rows]
    reader = reader_for(task.format)

    def merge() -> None:
        stored = {product["sku"]: product for product in map(_decode_stored, texts)}
        finish_partials(
            chunk, stored, reader, default_locale=task.source_locale, currency=task.currency
        )

    await asyncio.to_thread(merge)


async def _write_chunk(
    conn: AsyncConnection, raw: Any, task: ImportTask, chunk: Chunk, counts: Counts, seq: int
) -> int:
    if chunk.partials:
        await _merge_partials(raw, task, chunk)
    counts.failed += chunk.failed
    counts.unchanged += chunk.skipped_unchanged
    if chunk.errors:
        await raw.copy_records_to_table(
            "import_row_errors",
            records=[
                (
                    task.tenant_id,
                    task.job_id,
                    seq + i,
                    line,
                    sku,
                    column,
                    code,
                    message,
                    _json.encode(params).decode(),
                )
                for i, (line, sku, column, code, message, params) in enumerate(chunk.errors)
            ],
            columns=ERROR_COLUMNS,
        )
        seq += len(chunk.errors)
    if chunk.new_records:
        counts.inserted += await _copy_new_products(raw, chunk)
    if not chunk.records:
        return seq
    await raw.copy_records_to_table("import_stage", records=chunk.records, columns=STAGE_COLUMNS)
    await raw.execute(UPSERT, task.tenant_id)
    # a temporary table has no statistics until analysed; without them the joins with it
    # below were planned as nested loops over thousands of rows
    await raw.execute("ANALYZE import_changed")
    changed = await raw.fetch("SELECT id, inserted FROM import_changed")
    updated_ids = [row["id"] for row in changed if not row["inserted"]]
    if len(changed) < len(chunk.records):
        await raw.execute(REMEMBER_FINGERPRINTS, task.tenant_id)
    if updated_ids:
        await raw.execute(DELETE_CHANGED_VARIANTS, task.tenant_id)
    if any(record[-1] != "[]" for record in chunk.records):
        await raw.execute(INSERT_VARIANTS, task.tenant_id)
    counts.inserted += len(changed) - len(updated_ids)
    counts.updated += len(updated_ids)
    counts.unchanged += len(chunk.records) - len(changed)
    await source_changed(conn, task.tenant_id, updated_ids)
    await raw.execute("TRUNCATE import_stage, import_changed")
    return seq


async def run_import(
    conn: AsyncConnection,
    task: ImportTask,
    report_progress: Callable[[int], Awaitable[None]],
) -> tuple[Counts, int]:
    """Import one uploaded file in one transaction on ``conn`` (not in a transaction yet);
    returns (counts, rows) once the job row is marked succeeded in that transaction.

    ``report_progress(rows)`` is awaited after each chunk, on a connection of its own so that
    the API sees it while this transaction is still open; it raises JobCancelled when the
    import was cancelled meanwhile, and so does the end of a run that finds it cancelled: the
    transaction then rolls back.
    """
    async with conn.begin():
        # the storefront's version counters are bumped once, at the end: bumping them as
        # products are written would lock them (and every API write of this tenant's
        # products behind them) for the whole import. Through SQLAlchemy, so that its
        # transaction is open before the raw asyncpg statements below (COPY, temporary
        # tables) run on the same connection.
        await conn.execute(text("SET LOCAL shoplingo.defer_storefront_bumps = 'on'"))
        raw: Any = (await conn.get_raw_connection()).driver_connection
        assert raw.is_in_transaction()
        if not task.path.exists():
            raise ImportFileError("the uploaded file is no longer stored; upload it again")
        # errors of an earlier attempt that failed cleanly
        await raw.execute(
            "DELETE FROM import_row_errors WHERE tenant_id = $1 AND job_id = $2",
            task.tenant_id,
            task.job_id,
        )
        outcome = await _replay_identical_upload(raw, task)
        if outcome is None:
            outcome = await _import_rows(conn, raw, task, report_progress)
        counts, rows = outcome
        finished = await raw.execute(
            FINISH, task.tenant_id, task.job_id, _json.encode(counts.as_dict()).decode(), rows,
            counts.status,
        )  # fmt: skip
        if finished != "UPDATE 1":
            raise JobCancelled  # a cancel got in before the end: keep nothing
        await raw.execute("SELECT storefront_bump_deferred($1)", task.tenant_id)
    log.info("import_done", job_id=str(task.job_id), rows=rows, **counts.as_dict())
    return counts, rows


async def _replay_identical_upload(raw: Any, task: ImportTask) -> tuple[Counts, int] | None:
    """The same file with the same options was imported before and no product changed since:
    the outcome is known without reading the file (a re-upload costs next to nothing)."""
    previous = await raw.fetchrow(
        PREVIOUS_IDENTICAL_IMPORT,
        task.tenant_id,
        task.job_id,
        task.sha256,
        task.format,
        task.currency or "",
        task.source_locale,
        task.mode,
    )
    if previous is None or previous["signature"] is None:
        return None
    if jsonb_value(previous["signature"]) != jsonb_value(
        await raw.fetchval(CATALOG_SIGNATURE, task.tenant_id)
    ):
        return None
    await raw.execute(COPY_PREVIOUS_ERRORS, task.tenant_id, task.job_id, previous["id"])
    before = jsonb_value(previous["counts"])
    counts = Counts(
        unchanged=before["inserted"] + before["updated"] + before["unchanged"],
        failed=before["failed"],
    )
    return counts, int(previous["processed"])


async def _import_rows(
    conn: AsyncConnection,
    raw: Any,
    task: ImportTask,
    report_progress: Callable[[int], Awaitable[None]],
) -> tuple[Counts, int]:
    await raw.execute(CREATE_STAGE)
    known = await _load_catalog(raw, task.tenant_id)
    counts, rows, seq = Counts(), 0, 0
    source = ChunkSource(
        path=task.path,
        format=task.format,
        tenant_id=task.tenant_id,
        default_locale=task.source_locale,
        currency=task.currency,
        chunk_rows=task.chunk_rows,
        mode=task.mode,
    )
    async with ChunkProcess(source, known) as chunks:
        async for chunk in chunks:
            seq = await _write_chunk(conn, raw, task, chunk, counts, seq)
            rows += chunk.rows
            await report_progress(rows)
    return counts, rows
