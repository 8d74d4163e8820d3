"""Re-checking a tenant's existing segments after its rules changed (glossary, QA settings,
legal rules): one job kind, queued here (``shoplingo.hooks`` connects :func:`schedule_recheck`
to ``tenants.changes.RULES_CHANGED``) and run by ``translation.jobs.recheck_segments``.

Postgres records the job, so a lost message is re-sent by the sweeper. A job still waiting in
the queue reads the newest rules when it starts, so one waiting job covers any number of
changes.
"""

from __future__ import annotations

import uuid

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.jobs import create_job
from shoplingo.models import Job
from shoplingo.settings import Settings
from shoplingo.tenants.changes import RECHECK_KIND

KIND = RECHECK_KIND
FUNCTION = "recheck_segments"


async def schedule_recheck(
    session: AsyncSession, queue: ArqRedis, settings: Settings, tenant_id: uuid.UUID
) -> None:
    """Make sure a re-check follows the change in this transaction (sent after commit)."""
    waiting = await session.scalar(
        select(Job.id).where(Job.tenant_id == tenant_id, Job.kind == KIND, Job.status == "queued")
    )
    if waiting is not None:
        return
    create_job(
        session, queue, settings, tenant_id=tenant_id, kind=KIND, function=FUNCTION, params={}
    )
    await session.flush()
