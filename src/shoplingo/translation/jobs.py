"""arq functions for translation runs (ids in, never ORM objects)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import structlog
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shoplingo.core.db import jsonb_value, transaction
from shoplingo.core.jobs import job_lock_key, run_tracked, send_after_commit
from shoplingo.core.sweeper import batch_wakeups
from shoplingo.legal.classifier import classifier_for, shop_locales
from shoplingo.models import Job, Tenant
from shoplingo.qa.issues import blocking
from shoplingo.settings import Settings
from shoplingo.translation import runs
from shoplingo.translation.pipeline import finish_run, translate_run
from shoplingo.translation.quality.service import load_context as load_qa_context
from shoplingo.translation.states import Status, after_recheck

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
        claim_lease_seconds=settings.translation_claim_lease_seconds,
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
                    classifier = classifier_for(
                        tid,
                        tenant.settings if tenant else None,
                        shop_locales(tenant.source_locale, tenant.target_locales) if tenant else (),
                    )
                    page = await runs.prepare_page(session, tid, job, classifier)
                    if page.last_product_id is None:
                        job.params = {**job.params, runs.PREPARING: False}
                    for k in range(batch_wakeups(settings, page.queued)):
                        send_after_commit(
                            session, ctx["redis"], settings, job, runs.RUN_FUNCTION,
                            f"{page.last_product_id}:{k}",
                        )  # fmt: skip
                    queued += page.queued
        finally:
            await lock.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            await lock.commit()
    # the workers may all have finished before the last page was written
    await finish_run(engine, tid, rid)
    log.info("prepare_translation_run", run_id=run_id, queued=queued)
    return queued


RECHECK_PAGE = """
SELECT id, field, source_locale, target_locale, source_text, target_text, status, legal,
       legal_reason, approved_at, qa_issues::text AS qa_issues
FROM segments WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3
"""
# a segment that changed since it was read (re-queued, edited, translated) is left to its
# new owner: the next re-check sees it
RECHECK_SAVE = """
UPDATE segments AS s SET status = r.status, legal = r.legal, legal_reason = r.legal_reason,
    qa_issues = r.issues::jsonb, updated_at = now(),
    published_at = CASE WHEN r.status = 'published' AND s.status <> 'published' THEN now()
                        ELSE s.published_at END
FROM unnest($2::uuid[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::text[],
            $8::text[])
     AS r(id, status, legal, legal_reason, issues, read_status, read_text)
WHERE s.tenant_id = $1 AND s.id = r.id AND s.status = r.read_status
  AND s.target_text IS NOT DISTINCT FROM r.read_text
"""
RECHECK_PROGRESS = """
UPDATE jobs SET processed = $3, total = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2
"""
# the job's figures: counts, and how many segments it checked
RECHECK_DONE = """
UPDATE jobs SET counts = $3::jsonb, processed = $4, total = $4, updated_at = now()
WHERE tenant_id = $1 AND id = $2
"""
POLICIES = "SELECT id, name, text, locale, legal_reason FROM support_policies WHERE tenant_id = $1"
SAVE_POLICIES = """
UPDATE support_policies AS p SET legal = r.legal, legal_reason = r.reason, updated_at = now()
FROM unnest($2::uuid[], $3::boolean[], $4::text[]) AS r(id, legal, reason)
WHERE p.tenant_id = $1 AND p.id = r.id
"""
# one re-check of a tenant at a time (a session lock, two-key form: apart from the job locks):
# a re-check that started under older rules never saves over one that read newer rules, and
# the one waiting reads the rules once the other is done
RECHECK_LOCK = "SELECT pg_advisory_lock(1380272971, hashtext($1::text))"
RECHECK_UNLOCK = "SELECT pg_advisory_unlock(1380272971, hashtext($1::text))"
RECHECK_PAGE_SIZE = 2000
# translations whose issues are kept current (others are rewritten before anyone sees them)
CHECKED = (Status.PUBLISHED.value, Status.NEEDS_REVIEW.value)


async def recheck_segments(ctx: dict[str, Any], tenant_id: str, job_id: str) -> str:
    """Every segment of the tenant under its rules as they are now: legal classification
    (legal fields, patterns), and for live translations the glossary and QA checks. A published
    text that now fails a check, or became legal without an approval, goes back to review; a
    held non-legal text that nothing holds any more is published again (states.after_recheck).

    Each page commits on its own (a page's rows are locked only briefly: approvals, edits and
    the translation workers do not wait for the whole tenant); a re-run after a crash simply
    checks everything again. Re-checks of one tenant run one after the other
    (:data:`RECHECK_LOCK`), each reading the rules when its turn comes: overlapping changes
    leave every segment with the issues of the newest rules."""

    async def work(raw: Any, params: dict[str, Any]) -> str:
        jid = uuid.UUID(job_id)
        await raw.execute(RECHECK_LOCK, str(params["tenant_id"]))
        try:
            counts = await _recheck(raw, params["tenant_id"], jid)
        finally:
            await raw.execute(RECHECK_UNLOCK, str(params["tenant_id"]))
        await raw.execute(RECHECK_DONE, params["tenant_id"], jid, json.dumps(counts),
                          counts["checked"])  # fmt: skip
        log.info("recheck_segments", tenant_id=tenant_id, **counts)
        return "succeeded"

    return await run_tracked(ctx, tenant_id, job_id, work)


async def _recheck(raw: Any, tenant_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, int]:
    qa = await load_qa_context(raw, tenant_id)
    tenant = await raw.fetchrow(
        "SELECT settings, source_locale, target_locales FROM tenants WHERE id = $1", tenant_id
    )
    classifier = classifier_for(
        tenant_id,
        jsonb_value(tenant["settings"]) if tenant else None,
        shop_locales(tenant["source_locale"], tenant["target_locales"]) if tenant else (),
    )
    total = int(await raw.fetchval("SELECT count(*) FROM segments WHERE tenant_id = $1", tenant_id))
    counts = {"checked": 0, "changed": 0, "held_for_review": 0, "released": 0,
              "glossary_version": qa.glossary.version}  # fmt: skip
    last = uuid.UUID(int=0)
    while rows := await raw.fetch(RECHECK_PAGE, tenant_id, last, RECHECK_PAGE_SIZE):
        changed = []
        for row in rows:
            reason = classifier.reason(
                row["field"], row["source_text"], row["source_locale"], row["target_locale"],
                row["target_text"],
            )  # fmt: skip
            legal = reason is not None
            original = json.loads(row["qa_issues"])
            status, stored = row["status"], original
            if status in CHECKED and row["target_text"] is not None:
                issues = qa.inspect(
                    row["source_text"], row["target_text"], row["source_locale"],
                    row["target_locale"], row["field"],
                )  # fmt: skip
                stored = [issue.as_dict() for issue in issues]
                status = after_recheck(
                    status, legal=legal, blocking_issues=blocking(issues),
                    approved=row["approved_at"] is not None,
                ).value  # fmt: skip
                if status != row["status"]:
                    held = status == Status.NEEDS_REVIEW
                    counts["held_for_review" if held else "released"] += 1
            if (status, legal, reason, stored) != (
                row["status"], row["legal"], row["legal_reason"], original
            ):  # fmt: skip
                changed.append((row["id"], status, legal, reason, json.dumps(stored),
                                row["status"], row["target_text"]))  # fmt: skip
        if changed:  # one statement: the page commits on its own
            await raw.execute(RECHECK_SAVE, tenant_id, *map(list, zip(*changed, strict=True)))
        counts["checked"] += len(rows)
        counts["changed"] += len(changed)
        last = rows[-1]["id"]
        await raw.execute(RECHECK_PROGRESS, tenant_id, job_id, counts["checked"], total)
    # support policies are classified by content, as a whole
    policies = [
        (row["id"], reason is not None, reason)
        for row in await raw.fetch(POLICIES, tenant_id)
        if (reason := classifier.content_reason(f"{row['name']}\n{row['text']}", row["locale"]))
        != row["legal_reason"]
    ]
    if policies:
        await raw.execute(SAVE_POLICIES, tenant_id, *map(list, zip(*policies, strict=True)))
    counts["policies_changed"] = len(policies)
    return counts
