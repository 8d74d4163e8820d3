"""arq functions for catalog imports (ids in, never ORM objects)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import structlog
from arq import Retry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shoplingo.catalog.imports.runner import (
    ImportCancelled,
    ImportFileError,
    ImportTask,
    run_import,
)
from shoplingo.catalog.imports.uploads import forget_upload
from shoplingo.settings import Settings

log = structlog.get_logger(__name__)


async def _execute(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.begin() as conn:
        result = await conn.execute(text(sql), params)
        return result.first() if result.returns_rows else None


async def _fail(engine: AsyncEngine, tenant_id: uuid.UUID, job_id: uuid.UUID, reason: str) -> None:
    await _execute(
        engine,
        "UPDATE jobs SET status = 'failed', error = :reason, finished_at = now(), "
        "updated_at = now() WHERE tenant_id = :t AND id = :j AND status IN ('queued', 'running')",
        t=tenant_id,
        j=job_id,
        reason=reason,
    )


async def run_import_job(ctx: dict[str, Any], tenant_id: str, job_id: str) -> str:
    settings: Settings = ctx["settings"]
    engine: AsyncEngine = ctx["engine"]
    tid, jid = uuid.UUID(tenant_id), uuid.UUID(job_id)
    claimed: dict[str, Any] = {}

    async def start() -> ImportTask | None:
        row = await _execute(
            engine,
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, error = NULL, "
            "started_at = coalesce(started_at, now()), updated_at = now() "
            "WHERE tenant_id = :t AND id = :j AND status IN ('queued', 'running') "
            "RETURNING attempts, params",
            t=tid,
            j=jid,
        )
        if row is None:
            return None  # finished, failed or cancelled meanwhile
        claimed.update(attempts=row.attempts, params=row.params)
        if row.attempts > settings.job_max_attempts:
            await _fail(engine, tid, jid, f"gave up after {row.attempts - 1} attempts")
            forget_upload(row.params)
            return None
        params = row.params
        return ImportTask(
            tenant_id=tid,
            job_id=jid,
            path=Path(params["path"]),
            format=params["format"],
            currency=params.get("currency"),
            source_locale=params["source_locale"],
            chunk_rows=settings.import_chunk_rows,
            sha256=params["sha256"],
        )

    async def progress(rows: int) -> None:
        running = await _execute(
            engine,
            "UPDATE jobs SET processed = :rows, updated_at = now() "
            "WHERE tenant_id = :t AND id = :j AND status = 'running' RETURNING id",
            rows=rows,
            t=tid,
            j=jid,
        )
        if running is None:
            raise ImportCancelled

    try:
        result = await run_import(engine, jid, start, progress)
    except ImportCancelled:
        log.info("import_cancelled", job_id=job_id)
        forget_upload(claimed.get("params", {}))
        return "cancelled"
    except ImportFileError as exc:
        await _fail(engine, tid, jid, str(exc))
        forget_upload(claimed.get("params", {}))
        return "failed"
    except Exception as exc:
        attempts = claimed.get("attempts", 0)
        log.exception("import_error", job_id=job_id, attempt=attempts)
        if attempts >= settings.job_max_attempts:
            await _fail(engine, tid, jid, f"{type(exc).__name__}: {exc}"[:1000])
            forget_upload(claimed.get("params", {}))
            return "failed"
        await _execute(
            engine,
            "UPDATE jobs SET status = 'queued', error = :e, updated_at = now() "
            "WHERE tenant_id = :t AND id = :j AND status = 'running'",
            e=f"attempt {attempts} failed: {type(exc).__name__}: {exc}"[:1000],
            t=tid,
            j=jid,
        )
        raise Retry(defer=min(60, 5 * attempts)) from exc
    if result is None:
        return "skipped"
    forget_upload(claimed.get("params", {}))
    return "succeeded"
