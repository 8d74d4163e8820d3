"""The one lifecycle of a job that Postgres records (a ``jobs`` row): created with its queue
message sent after commit, claimed by one worker, finished, retried and given up.

Every Postgres-tracked job names its arq messages ``kind:job_id:step`` (:func:`job_key`; the step
is the attempt, or the part of the job a message is for), so a message sent twice runs once.

A run holds a session advisory lock on the job id for its whole length: a second worker
stays out, and the sweeper can tell a live run from one whose worker died. Attempts are
counted on the row; an error is retried with a growing delay until the attempts are spent,
then the job fails with the reason (``give_up`` undoes what the job's own rows need). Work can
also fail a job at once (:class:`JobFailed`) or find it cancelled (:class:`JobCancelled`, which
:func:`report_progress` raises once the row is no longer running).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from arq import Retry
from arq.connections import ArqRedis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shoplingo.core.db import jsonb_value
from shoplingo.core.queue import enqueue_after_commit
from shoplingo.ids import uuid7
from shoplingo.models import Job
from shoplingo.settings import Settings

log = structlog.get_logger(__name__)

START = """
UPDATE jobs SET status = 'running', attempts = attempts + 1, error = NULL,
    started_at = coalesce(started_at, now()), updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')
RETURNING attempts, params
"""
# a job that never said how much it had to do did one thing
FINISH = """
UPDATE jobs SET status = $3, error = $4, total = coalesce(total, 1), processed = coalesce(total, 1),
    finished_at = now(), updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status = 'running'
"""
# for a job that reports its own progress: a failure leaves it as reported
FINISH_KEEPING_PROGRESS = """
UPDATE jobs SET status = $3, error = $4, finished_at = now(), updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status = 'running'
"""
REQUEUE = """
UPDATE jobs SET status = 'queued', error = $3, updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status = 'running'
"""


def job_key(kind: str, job_id: uuid.UUID, step: int | str = 0) -> str:
    """The arq id of a job's message: one per attempt (or per part of the job)."""
    return f"{kind}:{job_id}:{step}"


def job_lock_key(job_id: uuid.UUID) -> int:
    """The advisory lock a run holds for its whole length (the first 8 bytes of the id)."""
    return int.from_bytes(job_id.bytes[:8], "big", signed=True)


def send_after_commit(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    job: Job,
    function: str,
    step: int | str = 0,
) -> None:
    """The message that wakes a worker for ``job``, sent once the session has committed."""
    enqueue_after_commit(
        session, queue, settings, function, str(job.tenant_id), str(job.id),
        job_id=job_key(job.kind, job.id, step),
    )  # fmt: skip


def create_job(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    *,
    tenant_id: uuid.UUID,
    kind: str,
    function: str,
    params: dict[str, Any],
    step: int | str = 0,
    **columns: Any,
) -> Job:
    """A queued ``jobs`` row (the record the sweeper keeps alive) and its message, sent after
    the session commits; ``columns`` sets further columns (total, counts, idempotency key)."""
    job = Job(tenant_id=tenant_id, id=uuid7(), kind=kind, status="queued", params=params, **columns)
    session.add(job)
    send_after_commit(session, queue, settings, job, function, step)
    return job


async def latest_job(session: AsyncSession, tenant_id: uuid.UUID, kind: str) -> Job | None:
    return await session.scalar(
        select(Job)
        .where(Job.tenant_id == tenant_id, Job.kind == kind)
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(1)
    )


class JobFailed(Exception):
    """Raised by a job's work: the job fails now with this message as its reason (retrying
    would not help)."""


class JobCancelled(Exception):
    """Raised by a job's work when the job's row is no longer running (it was cancelled):
    whatever the work's transaction wrote rolls back, and the job is not retried."""


def retry_delay(attempts: int) -> int:
    """Seconds before a failed attempt runs again: growing, at most half a minute."""
    return min(30, 2 * attempts)


async def report_progress(
    engine: AsyncEngine, tenant_id: uuid.UUID, job_id: uuid.UUID, processed: int
) -> None:
    """Record how far a run got, on a connection of its own (readers see it while the run's
    transaction is still open); raises JobCancelled when the job is no longer running."""
    async with engine.begin() as conn:
        running = await conn.scalar(
            text(
                "UPDATE jobs SET processed = :processed, updated_at = now() "
                "WHERE tenant_id = :t AND id = :j AND status = 'running' RETURNING id"
            ),
            {"processed": processed, "t": tenant_id, "j": job_id},
        )
    if running is None:
        raise JobCancelled


# (connection, the job's params with "tenant_id") -> an outcome for the logs
Work = Callable[[Any, dict[str, Any]], Awaitable[str]]
GiveUp = Callable[[Any, dict[str, Any], str], Awaitable[None]]


async def _nothing_to_undo(raw: Any, params: dict[str, Any], reason: str) -> None:
    return None


async def run_tracked(
    ctx: dict[str, Any],
    tenant_id: str,
    job_id: str,
    work: Work,
    give_up: GiveUp = _nothing_to_undo,
    *,
    sqlalchemy_connection: bool = False,
    keeps_progress: bool = False,
) -> str:
    """One run of the job; ``work`` gets the lock's connection (autocommit: each statement
    commits on its own unless ``work`` opens a transaction): the raw asyncpg one, or with
    ``sqlalchemy_connection`` the SQLAlchemy AsyncConnection around it. ``work`` may mark the
    row finished itself, inside its own transaction.

    ``give_up`` (raw connection, params, reason) is awaited whenever the job ends without
    success for good: attempts spent, :class:`JobFailed`, :class:`JobCancelled`. A job that
    ``keeps_progress`` reports its own processed/total; a failure leaves them as they are.
    """
    settings: Settings = ctx["settings"]
    engine: AsyncEngine = ctx["engine"]
    tid, jid = uuid.UUID(tenant_id), uuid.UUID(job_id)
    finish_failed = FINISH_KEEPING_PROGRESS if keeps_progress else FINISH
    async with engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        if not await raw.fetchval("SELECT pg_try_advisory_lock($1)", job_lock_key(jid)):
            return "busy"  # another worker runs it
        try:
            row = await raw.fetchrow(START, tid, jid)
            if row is None:
                return "skipped"  # finished, failed or cancelled meanwhile
            params = {**jsonb_value(row["params"]), "tenant_id": tid}
            attempts = row["attempts"]
            if attempts > settings.job_max_attempts:
                reason = f"gave up after {attempts - 1} attempts"
                await give_up(raw, params, reason)
                await raw.execute(finish_failed, tid, jid, "failed", reason)
                return "failed"
            try:
                outcome = await work(conn if sqlalchemy_connection else raw, params)
            except JobCancelled:
                log.info("tracked_job_cancelled", job_id=job_id, attempt=attempts)
                await give_up(raw, params, "cancelled")
                return "cancelled"
            except JobFailed as exc:
                log.warning("tracked_job_failed", job_id=job_id, attempt=attempts, reason=str(exc))
                await give_up(raw, params, str(exc))
                await raw.execute(finish_failed, tid, jid, "failed", str(exc))
                return "failed"
            except Exception as exc:
                log.exception("tracked_job_error", job_id=job_id, attempt=attempts)
                reason = f"{type(exc).__name__}: {exc}"[:1000]
                if attempts >= settings.job_max_attempts:
                    await give_up(raw, params, reason)
                    await raw.execute(finish_failed, tid, jid, "failed", reason)
                    return "failed"
                await raw.execute(REQUEUE, tid, jid, f"attempt {attempts} failed: {reason}")
                raise Retry(defer=retry_delay(attempts)) from exc
            await raw.execute(FINISH, tid, jid, "succeeded", None)
            return outcome
        finally:
            await raw.execute("SELECT pg_advisory_unlock($1)", job_lock_key(jid))
