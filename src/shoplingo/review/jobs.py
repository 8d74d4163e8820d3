"""arq functions for review (ids in, never ORM objects)."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from shoplingo.core.db import jsonb_value
from shoplingo.review.classifier import classifier_for
from shoplingo.translation.states import Status

log = structlog.get_logger(__name__)
PAGE = 2000

PAGE_OF_SEGMENTS = """
SELECT id, field, source_locale, source_text, legal, legal_reason FROM segments
WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3
"""

# Published legal text needs an approval (states: legal text is published only through
# ``approved``): a published text that became legal without one goes back to review. Decided
# in the statement, so a segment published meanwhile is judged on what it is now.
APPLY = f"""
UPDATE segments AS s SET legal = c.legal, legal_reason = c.reason,
    status = CASE WHEN c.legal AND s.status = '{Status.PUBLISHED.value}'
                       AND s.approved_at IS NULL
                  THEN '{Status.NEEDS_REVIEW.value}' ELSE s.status END,
    updated_at = now()
FROM unnest($2::uuid[], $3::boolean[], $4::text[]) AS c(id, legal, reason)
WHERE s.tenant_id = $1 AND s.id = c.id
"""


async def reclassify(engine: AsyncEngine, tenant_id: uuid.UUID, version: int) -> dict[str, int]:
    """Classify every segment of the tenant again under its current legal rules."""
    outcome = {"segments": 0, "changed": 0}
    async with engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        settings = jsonb_value(
            await raw.fetchval("SELECT settings FROM tenants WHERE id = $1", tenant_id)
        )
        if settings is None:
            return outcome
        current = int((settings.get("legal") or {}).get("version", 0))
        if current != version:
            return outcome  # a newer change has its own job
        classifier = classifier_for(tenant_id, settings)
        last = uuid.UUID(int=0)
        while True:
            rows = await raw.fetch(PAGE_OF_SEGMENTS, tenant_id, last, PAGE)
            if not rows:
                break
            last = rows[-1]["id"]
            outcome["segments"] += len(rows)
            changes = []
            for row in rows:
                reason = classifier.reason(row["field"], row["source_text"], row["source_locale"])
                if (reason is not None, reason) != (row["legal"], row["legal_reason"]):
                    changes.append((row["id"], reason is not None, reason))
            if not changes:
                continue
            ids, legal, reasons = zip(*changes, strict=True)
            await raw.execute(APPLY, tenant_id, list(ids), list(legal), list(reasons))
            outcome["changed"] += len(changes)
    log.info("reclassify_segments", tenant_id=str(tenant_id), **outcome)
    return outcome


async def reclassify_segments(ctx: dict[str, Any], tenant_id: str, version: int) -> dict[str, int]:
    return await reclassify(ctx["engine"], uuid.UUID(tenant_id), int(version))
