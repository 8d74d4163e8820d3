"""Re-checking a tenant's existing segments after its rules changed (glossary, QA settings,
legal rules): one job kind, queued here and run by ``translation.jobs.recheck_segments``.

Postgres records the job, so a lost message is re-sent by the sweeper. A job still waiting in
the queue reads the newest rules when it starts, so one waiting job covers any number of
changes.
"""

from __future__ import annotations

import uuid

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.queue import enqueue_after_commit
from shoplingo.models import Job
from shoplingo.settings import Settings

KIND = "segments_recheck"
FUNCTION = "recheck_segments"


def arq_job_id(job_id: uuid.UUID, attempt: int) -> str:
    return f"{KIND}:{job_id}:{attempt}"


async def schedule_recheck(
    session: AsyncSession, queue: ArqRedis, settings: Settings, tenant_id: uuid.UUID
) -> None:
    """Make sure a re-check follows the change in this transaction (sent after commit)."""
    waiting = await session.scalar(
        select(Job.id).where(Job.tenant_id == tenant_id, Job.kind == KIND, Job.status == "queued")
    )
    if waiting is not None:
        return
    job = Job(tenant_id=tenant_id, kind=KIND, status="queued", params={})
    session.add(job)
    await session.flush()
    enqueue_after_commit(
        session, queue, settings, FUNCTION, str(tenant_id), str(job.id),
        job_id=arq_job_id(job.id, 0),
    )  # fmt: skip


async def latest_recheck(session: AsyncSession, tenant_id: uuid.UUID) -> Job | None:
    return await session.scalar(
        select(Job)
        .where(Job.tenant_id == tenant_id, Job.kind == KIND)
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(1)
    )
