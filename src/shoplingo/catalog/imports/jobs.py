"""The arq function of a catalog import (ids in, never ORM objects).

The lifecycle is core.jobs.run_tracked's; the import runs on the connection that holds the
job's lock, and the uploaded file is let go of once the import ends for good.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shoplingo.catalog.imports.runner import ImportTask, run_import
from shoplingo.catalog.imports.uploads import forget_upload
from shoplingo.core.jobs import report_progress, run_tracked
from shoplingo.settings import Settings


async def run_import_job(ctx: dict[str, Any], tenant_id: str, job_id: str) -> str:
    settings: Settings = ctx["settings"]
    engine: AsyncEngine = ctx["engine"]

    async def work(conn: AsyncConnection, params: dict[str, Any]) -> str:
        task = ImportTask(
            tenant_id=params["tenant_id"],
            job_id=uuid.UUID(job_id),
            path=Path(params["path"]),
            format=params["format"],
            currency=params.get("currency"),
            source_locale=params["source_locale"],
            chunk_rows=settings.import_chunk_rows,
            sha256=params["sha256"],
            # imports queued before modes existed replaced whole records
            mode=params.get("mode", "replace"),
        )

        async def progress(rows: int) -> None:
            await report_progress(engine, task.tenant_id, task.job_id, rows)

        await run_import(conn, task, progress)
        forget_upload(params)
        return "succeeded"

    async def let_go_of_the_file(raw: Any, params: dict[str, Any], reason: str) -> None:
        forget_upload(params)

    return await run_tracked(
        ctx, tenant_id, job_id, work, let_go_of_the_file,
        sqlalchemy_connection=True, keeps_progress=True,
    )  # fmt: skip
