"""The re-check after a glossary change (ids in, never ORM objects).

Every published or held translation of the tenant is checked against the glossary (and the QA
checks) as they are now: the issues stored on each segment are refreshed, and a published
translation that now has an error goes back to ``needs_review``. The work runs in one
transaction under the job's advisory lock, so a worker killed half way leaves nothing half
done and the sweeper can tell the job is orphaned.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from shoplingo.core.sweeper import job_lock_key
from shoplingo.translation.qa.issues import blocking
from shoplingo.translation.qa.service import load_context
from shoplingo.translation.states import Status, transition

log = structlog.get_logger(__name__)

CHUNK = 2000
RECHECKED = (Status.PUBLISHED.value, Status.NEEDS_REVIEW.value)

START = """
UPDATE jobs SET status = 'running', attempts = attempts + 1, error = NULL,
    started_at = coalesce(started_at, now()), updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')
RETURNING attempts
"""
COUNT = """
SELECT count(*) FROM segments
WHERE tenant_id = $1 AND status = ANY($2::text[]) AND target_text IS NOT NULL
"""
PAGE = """
SELECT id, field, source_locale, target_locale, source_text, target_text, status,
       qa_issues::text AS qa_issues
FROM segments
WHERE tenant_id = $1 AND status = ANY($2::text[]) AND target_text IS NOT NULL AND id > $3
ORDER BY id
LIMIT $4
"""
# a segment that changed since it was read (re-queued, edited) is left to its new owner
SAVE = """
UPDATE segments AS s SET status = r.status, qa_issues = r.issues::jsonb, updated_at = now()
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])
     AS r(id, status, issues, read_status, read_text)
WHERE s.tenant_id = $1 AND s.id = r.id AND s.status = r.read_status
  AND s.target_text = r.read_text
"""
PROGRESS = """
UPDATE jobs SET processed = $3, total = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2
"""
FINISH = """
UPDATE jobs SET status = 'succeeded', counts = $3::jsonb, processed = $4, total = $4,
    finished_at = now(), updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND status = 'running'
"""


async def recheck_glossary(ctx: dict[str, Any], tenant_id: str, job_id: str) -> dict[str, int]:
    engine: AsyncEngine = ctx["engine"]
    tid, jid = uuid.UUID(tenant_id), uuid.UUID(job_id)
    async with engine.connect() as control_conn:
        control: Any = (await control_conn.get_raw_connection()).driver_connection
        if await control.fetchval(START, tid, jid) is None:
            return {}  # finished or failed meanwhile
        async with engine.connect() as work_conn:
            raw: Any = (await work_conn.get_raw_connection()).driver_connection
            async with raw.transaction():
                if not await raw.fetchval(
                    "SELECT pg_try_advisory_xact_lock($1)", job_lock_key(jid)
                ):
                    return {}  # another worker holds this job
                counts = await _recheck(raw, control, tid, jid)
        await control.execute(FINISH, tid, jid, json.dumps(counts), counts["checked"])
    log.info("glossary_recheck", tenant_id=tenant_id, **counts)
    return counts


async def _recheck(
    raw: Any, control: Any, tenant_id: uuid.UUID, job_id: uuid.UUID
) -> dict[str, int]:
    qa = await load_context(raw, tenant_id)
    total = int(await raw.fetchval(COUNT, tenant_id, list(RECHECKED)))
    counts = {
        "checked": 0,
        "changed": 0,
        "held_for_review": 0,
        "glossary_version": qa.glossary.version,
    }
    last = uuid.UUID(int=0)
    while rows := await raw.fetch(PAGE, tenant_id, list(RECHECKED), last, CHUNK):
        changed: list[tuple[uuid.UUID, str, str, str, str]] = []
        for row in rows:
            issues = qa.inspect(
                row["source_text"], row["target_text"], row["source_locale"],
                row["target_locale"], row["field"],
            )  # fmt: skip
            status = row["status"]
            if status == Status.PUBLISHED and blocking(issues):
                status = transition(status, Status.NEEDS_REVIEW).value
                counts["held_for_review"] += 1
            stored = json.dumps([issue.as_dict() for issue in issues])
            if status != row["status"] or json.loads(stored) != json.loads(row["qa_issues"]):
                changed.append((row["id"], status, stored, row["status"], row["target_text"]))
        if changed:
            await raw.execute(SAVE, tenant_id, *map(list, zip(*changed, strict=True)))
        counts["checked"] += len(rows)
        counts["changed"] += len(changed)
        last = rows[-1]["id"]
        await control.execute(PROGRESS, tenant_id, job_id, counts["checked"], total)
    return counts
