"""Re-sends lost job messages and recovers jobs whose worker died.

Postgres is the record of every job; Redis only carries the message that wakes a worker. A
queued job whose message was lost (Redis flushed or restarted) is sent again; a running job
whose run no longer holds its advisory lock (the worker was killed) goes back to the queue,
or fails once it has used up its attempts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from arq.connections import ArqRedis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shoplingo.core.jobs import job_key, job_lock_key
from shoplingo.core.queue import enqueue
from shoplingo.settings import Settings

log = structlog.get_logger(__name__)


def batch_wakeups(settings: Settings, waiting: int) -> int:
    """How many batch jobs to enqueue for ``waiting`` queued segments of a run: extra ones cost
    a claim that finds nothing; too few leave segments waiting for the next sweep."""
    return min(-(-waiting // settings.translation_batch_size), settings.translation_parallel_jobs)


async def _lock_is_free(engine: AsyncEngine, job_id: uuid.UUID) -> bool:
    async with engine.begin() as conn:
        free = await conn.scalar(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": job_lock_key(job_id)}
        )
    return bool(free)


async def sweep(
    engine: AsyncEngine, queue: ArqRedis, settings: Settings, kinds: Mapping[str, str]
) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT tenant_id, id, kind, status, attempts, "
                    "updated_at < now() - make_interval(secs => :after) AS quiet "
                    "FROM jobs WHERE status IN ('queued', 'running') AND kind = ANY(:kinds)"
                ),
                {"after": settings.sweep_requeue_after_seconds, "kinds": list(kinds)},
            )
        ).all()
    outcome = {"requeued": 0, "recovered": 0, "failed": 0}
    for row in rows:
        if row.status == "running":
            if not await _lock_is_free(engine, row.id):
                continue  # a worker is on it
            if row.attempts >= settings.job_max_attempts:
                await _set(
                    engine,
                    row,
                    "failed",
                    f"the worker stopped during each of {row.attempts} attempts",
                )
                outcome["failed"] += 1
                continue
            if not await _set(engine, row, "queued", "the worker stopped; retrying"):
                continue
            outcome["recovered"] += 1
        elif not row.quiet:
            continue
        else:
            outcome["requeued"] += 1
        await enqueue(
            queue, settings, kinds[row.kind], str(row.tenant_id), str(row.id),
            job_id=job_key(row.kind, row.id, row.attempts),
        )  # fmt: skip
    if any(outcome.values()):
        log.info("sweep", **outcome)
    return outcome


async def _set(engine: AsyncEngine, row: Any, status: str, reason: str) -> bool:
    async with engine.begin() as conn:
        result = await conn.execute(
            text(
                "UPDATE jobs SET status = CAST(:status AS text), error = :reason, "
                "updated_at = now(), "
                "finished_at = CASE WHEN CAST(:status AS text) = 'failed' THEN now() END "
                "WHERE tenant_id = :t AND id = :j AND status = 'running' AND attempts = :attempts"
            ),
            {"status": status, "reason": reason, "t": row.tenant_id, "j": row.id,
             "attempts": row.attempts},
        )  # fmt: skip
    return bool(result.rowcount)


REQUEUE_EXPIRED_CLAIMS = """
UPDATE segments SET status = 'queued', claimed_at = NULL, updated_at = now()
WHERE status = 'translating' AND claimed_at < now() - make_interval(secs => $1)
"""

RUNS_WAITING = """
SELECT s.tenant_id, s.job_id, count(*) AS waiting
FROM segments s JOIN jobs j ON j.tenant_id = s.tenant_id AND j.id = s.job_id
WHERE s.status = 'queued' AND s.queued_at < now() - make_interval(secs => $1)
  AND j.status IN ('queued', 'running')
GROUP BY s.tenant_id, s.job_id
"""


# runs whose segments are still being written, with no page written for a while
RUNS_PREPARING = """
SELECT tenant_id, id FROM jobs
WHERE status IN ('queued', 'running') AND kind = 'translation'
  AND coalesce((params ->> 'preparing')::boolean, false)
  AND updated_at < now() - make_interval(secs => $1)
"""


async def sweep_segments(
    engine: AsyncEngine, queue: ArqRedis, settings: Settings, function: str, prepare: str
) -> dict[str, int]:
    """Take back claims whose worker died, wake workers for runs with waiting segments, and
    resume preparing runs whose preparer died (it holds the run's advisory lock while alive)."""
    async with engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        taken_back = int(
            (
                await raw.execute(REQUEUE_EXPIRED_CLAIMS, settings.translation_claim_lease_seconds)
            ).split()[-1]
        )
        runs = await raw.fetch(RUNS_WAITING, settings.sweep_requeue_after_seconds)
        stalled = await raw.fetch(RUNS_PREPARING, settings.sweep_requeue_after_seconds)
    tick = int(time.time()) // max(settings.sweep_interval_seconds, 1)
    resumed = 0
    for run in stalled:
        if await _lock_is_free(engine, run["id"]):
            await enqueue(
                queue, settings, prepare, str(run["tenant_id"]), str(run["id"]),
                job_id=f"translation:{run['id']}:prepare:sweep{tick}",
            )  # fmt: skip
            resumed += 1
    for run in runs:
        for k in range(batch_wakeups(settings, run["waiting"])):
            await enqueue(
                queue, settings, function, str(run["tenant_id"]), str(run["job_id"]),
                job_id=f"translation:{run['job_id']}:sweep{tick}:{k}",
            )  # fmt: skip
    outcome = {"claims_taken_back": taken_back, "runs_woken": len(runs), "runs_resumed": resumed}
    if taken_back or runs or resumed:
        log.info("sweep_segments", **outcome)
    return outcome
