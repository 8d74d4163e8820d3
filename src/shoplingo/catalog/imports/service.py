"""Catalog imports as the API sees them: create (after the upload), read, list, errors.

Never commits; the worker side is ``runner`` and ``jobs``.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shoplingo.catalog.imports.importers import FORMATS, detect_format
from shoplingo.catalog.imports.uploads import StoredUpload, forget_upload
from shoplingo.catalog.money import currency_field_error, known_currency
from shoplingo.core.db import after_commit
from shoplingo.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from shoplingo.core.i18n import N_, Translator
from shoplingo.core.jobs import send_after_commit
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.models import ImportRowError, Job, Tenant
from shoplingo.settings import Settings

KIND = "import"
RUN_FUNCTION = "run_import"
# merge: a row changes what the file mentions of a stored product (catalog.merging);
# replace: a row is the whole product, as PUT /v1/products/{sku} takes it
MODES = ("merge", "replace")


def upload_path(settings: Settings, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Path:
    return settings.import_dir / str(tenant_id) / f"{job_id}.upload"


def import_not_found(job_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Import {id} was not found."), code="import_not_found", params={"id": job_id}
    )


async def find_by_idempotency_key(
    session: AsyncSession, tenant_id: uuid.UUID, key: str
) -> Job | None:
    return await session.scalar(
        select(Job).where(Job.tenant_id == tenant_id, Job.kind == KIND, Job.idempotency_key == key)
    )


def _same_upload_or_conflict(job: Job, upload: StoredUpload) -> Job:
    if job.params.get("sha256") != upload.sha256:
        raise Conflict(
            N_("This Idempotency-Key was already used for a different file."),
            code="idempotency_key_reused",
        )
    return job


def check_options(
    format_name: str | None, currency: str | None, source_locale: str | None, mode: str = "merge"
) -> tuple[str | None, str | None, str | None]:
    errors: list[FieldError] = []
    if mode not in MODES:
        errors.append(
            FieldError(
                field="mode",
                code="unknown_mode",
                message=N_("Unknown mode {value}; use one of: {modes}."),
                params={"value": mode, "modes": ", ".join(MODES)},
            )
        )
    if format_name is not None and format_name not in FORMATS:
        errors.append(
            FieldError(
                field="format",
                code="unknown_format",
                message=N_("Unknown format {value}; use one of: {formats}."),
                params={"value": format_name, "formats": ", ".join(FORMATS)},
            )
        )
    if currency is not None:
        currency = currency.strip().upper()
        if not known_currency(currency):
            errors.append(currency_field_error("currency", currency))
    if source_locale is not None:
        try:
            source_locale = canonical_locale(source_locale)
        except InvalidLocaleError:
            errors.append(locale_field_error("source_locale", source_locale))
    if errors:
        raise ValidationFailed(errors=errors)
    return format_name, currency, source_locale


async def create_import(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    *,
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    upload: StoredUpload,
    format_name: str | None,
    currency: str | None,
    source_locale: str | None,
    idempotency_key: str | None,
    mode: str = "merge",
) -> tuple[Job, bool]:
    """Record an uploaded file as a queued import. Returns (job, created).

    With an Idempotency-Key seen before, the earlier import is returned (and the new copy of
    the file dropped) if the file is the same; a different file is a 409.
    """
    if idempotency_key:
        existing = await find_by_idempotency_key(session, tenant_id, idempotency_key)
        if existing is not None:
            upload.path.unlink(missing_ok=True)
            return _same_upload_or_conflict(existing, upload), False

    detected = format_name or detect_format(upload.path)
    if detected is None:
        upload.path.unlink(missing_ok=True)
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="format",
                    code="unknown_format",
                    message=N_(
                        "The file's format could not be recognised from its header; "
                        "give ?format= (one of: {formats})."
                    ),
                    params={"formats": ", ".join(FORMATS)},
                )
            ]
        )
    tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None
    job = Job(
        tenant_id=tenant_id,
        id=job_id,
        kind=KIND,
        status="queued",
        idempotency_key=idempotency_key,
        params={
            "format": detected,
            "filename": upload.filename,
            "path": str(upload.path),
            "size_bytes": upload.size,
            "sha256": upload.sha256,
            "currency": currency or tenant.settings.get("currency"),
            # which currency prices rows that name none: the request's or the shop's default
            "currency_source": "request"
            if currency
            else "shop_default"
            if tenant.settings.get("currency")
            else None,
            "source_locale": source_locale or tenant.source_locale,
            "mode": mode,
        },
        # line breaks minus the header: exact for most files, refined when the import ends
        total=max(upload.newlines - (0 if detected == "jsonl" else 1), 0),
        counts={},
    )
    try:
        async with session.begin_nested():
            session.add(job)
    except IntegrityError:
        # the same Idempotency-Key raced us; the other request's import wins
        if idempotency_key:
            existing = await find_by_idempotency_key(session, tenant_id, idempotency_key)
            if existing is not None:
                upload.path.unlink(missing_ok=True)
                return _same_upload_or_conflict(existing, upload), False
        raise
    send_after_commit(session, queue, settings, job, RUN_FUNCTION)
    return job, True


async def get_import(session: AsyncSession, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    job = await session.get(Job, (tenant_id, job_id))
    if job is None or job.kind != KIND:
        raise import_not_found(job_id)
    return job


async def cancel_import(session: AsyncSession, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """Stop an import: a queued one never runs, a running one rolls back at its next chunk, so
    nothing of it is written either way. A finished import is returned as it is."""
    job = await session.get(Job, (tenant_id, job_id), with_for_update=True)
    if job is None or job.kind != KIND:
        raise import_not_found(job_id)
    if job.status not in ("queued", "running"):
        return job
    if job.status == "queued":  # a running import's worker lets go of the file itself
        params = job.params

        async def forget() -> None:
            forget_upload(params)

        after_commit(session, forget)
    job.status = "cancelled"
    job.finished_at = job.updated_at = func.now()
    await session.flush()
    await session.refresh(job)
    return job


async def list_imports(
    session: AsyncSession, tenant_id: uuid.UUID, *, limit: int, before: uuid.UUID | None
) -> Sequence[Job]:
    query = select(Job).where(Job.tenant_id == tenant_id, Job.kind == KIND)
    if before is not None:
        query = query.where(Job.id < before)
    return (await session.scalars(query.order_by(Job.id.desc()).limit(limit))).all()


ERROR_CSV_HEADER = ("line", "sku", "column", "code", "message")


async def error_rows_csv(
    sessionmaker: async_sessionmaker[AsyncSession],
    translator: Translator,
    language: str,
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    batch: int = 2_000,
) -> AsyncIterator[bytes]:
    """The failed rows as CSV, streamed in batches (a bad file can have many)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ERROR_CSV_HEADER)
    yield buffer.getvalue().encode()
    last_seq = -1
    async with sessionmaker() as session:
        while True:
            rows = (
                await session.scalars(
                    select(ImportRowError)
                    .where(
                        ImportRowError.tenant_id == tenant_id,
                        ImportRowError.job_id == job_id,
                        ImportRowError.seq > last_seq,
                    )
                    .order_by(ImportRowError.seq)
                    .limit(batch)
                )
            ).all()
            if not rows:
                return
            buffer.seek(0)
            buffer.truncate()
            for row in rows:
                writer.writerow(
                    (row.line, row.sku or "", row.column or "", row.code,
                     translator.translate(language, row.message, row.params))
                )  # fmt: skip
            last_seq = rows[-1].seq
            yield buffer.getvalue().encode()


def progress_of(job: Job) -> dict[str, Any]:
    total = job.total
    percent = None
    if job.status in ("succeeded", "succeeded_with_errors", "failed") and not job.error:
        percent = 100.0
    elif total:
        percent = round(min(job.processed / total, 1.0) * 100, 1)
    return {"processed_rows": job.processed, "total_rows": total, "percent": percent}
