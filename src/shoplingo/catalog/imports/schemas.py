from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class ImportProgress(msgspec.Struct):
    processed_rows: int
    # estimated from the file's line breaks until the import finishes, then exact
    total_rows: int | None
    percent: float | None


class ImportCounts(msgspec.Struct):
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0


class ImportOut(msgspec.Struct):
    id: uuid.UUID
    status: str
    format: str
    filename: str | None
    size_bytes: int
    # the currency of rows that name none, and where it came from: "request" (?currency=),
    # "shop_default" (the shop's default_currency, PATCH /v1/tenant) or null (none: such rows
    # with a price fail)
    currency: str | None
    currency_source: str | None
    source_locale: str
    # merge or replace (see POST /v1/imports)
    mode: str
    progress: ImportProgress
    counts: ImportCounts
    error: str | None
    attempts: int
    errors_url: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
