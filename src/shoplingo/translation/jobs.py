"""arq functions for translation runs (ids in, never ORM objects)."""

from __future__ import annotations

import math
import uuid
from typing import Any

import structlog
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shoplingo.core.db import transaction
from shoplingo.core.queue import enqueue_after_commit
from shoplingo.core.sweeper import job_lock_key
from shoplingo.models import Job, Tenant
from shoplingo.review.classifier import classifier_for
from shoplingo.settings import Settings
from shoplingo.translation import runs
from shoplingo.translation.pipeline import finish_run, translate_run

log = structlog.get_logger(__name__)


def claim_size(settings: Settings, provider_name: str) -> int:
    """Segments per claim; for the chat provider a whole number of its multi-segment calls."""
    size = settings.translation_batch_size
    if provider_name == "chat":
        per_call = max(1, settings.llm_batch_size)
        size = -(-size // per_call) * per_call
    return size


async def translate_batch(ctx: dict[str, Any], tenant_id: str, run_id: str) -> int:
    settings: Settings = ctx["settings"]
    return await translate_run(
        ctx["engine"],
        ctx["provider"],
        uuid.UUID(tenant_id),
        uuid.UUID(run_id),
        batch_size=claim_size(settings, ctx["provider"].name),
        # leave the job's own timeout room to save the batch in hand
        time_budget_seconds=settings.translation_job_timeout_seconds * 0.8,
    )


async def prepare_translation_run(ctx: dict[str, Any], tenant_id: str, run_id: str) -> int:
    """Write the run's segments a page of products at a time, each page in its own
    transaction; workers are woken after each page, so translation starts with the first.
    A session advisory lock on the run keeps a second preparer out and tells the sweeper this
    one is alive. Returns the number of segments queued."""
    settings: Settings = ctx["settings"]
    engine: AsyncEngine = ctx["engine"]
    tid, rid = uuid.UUID(tenant_id), uuid.UUID(run_id)
    queued = 0
    async with engine.connect() as lock:
        key = {"key": job_lock_key(rid)}
        if not await lock.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
            return 0  # another worker is preparing this run
        await lock.commit()  # the lock is the session's: it outlives this transaction
        try:
            page: runs.PreparedPage | None = None
            while page is None or page.last_product_id is not None:
                async with transaction(ctx["sessionmaker"]) as session:
                    job = await session.get(Job, (tid, rid), with_for_update=True)
                    if job is None or job.status not in ("queued", "running"):
                        return queued  # cancelled (or gone) meanwhile
                    if not runs.preparing(job):
                        break  # prepared by an earlier attempt
                    if job.status == "queued":
                        job.status, job.started_at = "running", func.now()
                    tenant = await session.get(Tenant, tid)
                    page = await runs.prepare_page(
                        session, tid, job, classifier_for(tid, tenant.settings if tenant else None)
                    )
                    if page.last_product_id is None:
                        job.params = {**job.params, runs.PREPARING: False}
                    # extra wake-ups cost a claim that finds nothing; too few would leave
                    # segments waiting for the sweeper
                    wakeups = min(
                        math.ceil(page.queued / settings.translation_batch_size),
                        settings.translation_parallel_jobs,
                    )
                    for k in range(wakeups):
                        enqueue_after_commit(
                            session, ctx["redis"], settings, runs.RUN_FUNCTION, tenant_id,
                            run_id, job_id=runs.arq_job_id(rid, f"{page.last_product_id}:{k}"),
                        )  # fmt: skip
                    queued += page.queued
        finally:
            await lock.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            await lock.commit()
    # the workers may all have finished before the last page was written
    await finish_run(engine, tid, rid)
    log.info("prepare_translation_run", run_id=run_id, queued=queued)
    return queued
