"""Translating chosen segments again on request (the review queue's "translate again"): one
new run holds them, and the workers translate them under the glossary and rules in force then.
Never commits; the run's workers are woken after commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from arq.connections import ArqRedis
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.jobs import send_after_commit
from shoplingo.core.sweeper import batch_wakeups
from shoplingo.models import Job, Segment
from shoplingo.settings import Settings
from shoplingo.translation.runs import KIND, RUN_FUNCTION
from shoplingo.translation.states import Status


async def requeue_in_run(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    segments: Sequence[Segment],
) -> Job:
    """Translate these segments again in one new run (workers woken after commit), under the
    glossary and rules in force then. The caller has locked them and checked that each may go
    back to ``queued`` (states.transition). The next text is the machine's: approvals and the
    last editor are cleared, a reviewer's instruction is kept."""
    job = Job(
        tenant_id=tenant_id,
        kind=KIND,
        status="queued",
        total=len(segments),
        params={
            "target_locales": sorted({s.target_locale for s in segments}),
            "fields": sorted({s.field for s in segments}),
            "skus": None,
            "all": False,
            "changed_since": None,
            "retranslate_held": False,
            "segments": len(segments),
        },
        counts={"candidates": len(segments), "up_to_date": 0},
    )
    session.add(job)
    await session.flush()
    now = func.now()
    for segment in segments:
        segment.status = Status.QUEUED.value
        segment.job_id = job.id
        segment.queued_at = now
        segment.claimed_at = None
        segment.attempts = 0
        segment.last_error = None
        segment.approved_by = None
        segment.approved_at = None
        segment.last_edited_by = None
        segment.updated_at = now
    await session.flush()
    for k in range(max(1, batch_wakeups(settings, len(segments)))):
        send_after_commit(session, queue, settings, job, RUN_FUNCTION, f"start:{k}")
    await session.refresh(job)
    return job
