"""What a worker does with a translation run: claim queued segments in batches, translate.

Per segment: an exact translation-memory hit is reused without a model call (when it still
passes the glossary and QA checks); otherwise the provider gets the text with the glossary
terms it uses and similar memory entries as examples. Every output is checked; one with
errors gets one repair request naming them, and what still fails is held for review with its
issues. The state machine decides where each result goes. Claims are leases, renewed while
the worker holds them (``translation.claims``): a worker that dies leaves its segments
``translating`` until the sweeper puts them back in the queue. What the calls cost is counted
as soon as they come back (``translation.usage``), whatever becomes of the claim.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from shoplingo.core.db import jsonb_value
from shoplingo.legal.classifier import Classifier, classifier_for, shop_locales
from shoplingo.qa.issues import Issue, blocking
from shoplingo.translation import memory, usage
from shoplingo.translation.claims import ClaimKeeper
from shoplingo.translation.providers.base import Provider, SegmentRequest, SegmentResult
from shoplingo.translation.quality.service import QaContext, load_context
from shoplingo.translation.states import (
    UNFINISHED,
    UNTRANSLATED,
    Status,
    after_machine_translation,
    sql_list,
)

log = structlog.get_logger(__name__)

CLAIM = """
UPDATE segments AS s SET status = 'translating', claimed_at = clock_timestamp(),
    attempts = s.attempts + 1, updated_at = now()
FROM (
    SELECT tenant_id, id FROM segments
    WHERE tenant_id = $1 AND job_id = $2 AND status = 'queued'
    -- one language pair at a time: a batch then fills whole multi-segment calls
    ORDER BY target_locale, queued_at, id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
) AS c
WHERE s.tenant_id = c.tenant_id AND s.id = c.id
RETURNING s.id, s.field, s.source_locale, s.target_locale, s.source_text, s.source_hash,
          s.legal, s.legal_reason, s.instruction, s.claimed_at
"""

# Only the claim that is still current may write: a claim the sweeper took back (and maybe
# gave to another worker) is discarded.
# ``r.legal``: the source and the new text classified together (a claim the model wrote makes
# the segment legal). The status is the state machine's (after_machine_translation) unless the
# segment became legal while it was being translated (the tenant's legal rules changed): then
# it waits for review like any legal text. A new text is the machine's: no member edited it.
SAVE = """
UPDATE segments AS s SET
    status = CASE WHEN (s.legal OR r.legal) AND r.status = 'published' THEN 'needs_review'
                  ELSE r.status END,
    legal = s.legal OR r.legal,
    legal_reason = CASE WHEN r.legal THEN r.legal_reason ELSE s.legal_reason END,
    target_text = coalesce(r.target_text, s.target_text), qa_issues = r.qa_issues::jsonb,
    last_edited_by = CASE WHEN r.target_text IS NULL THEN s.last_edited_by END,
    last_error = r.error, provider = r.provider, model = r.model,
    prompt_tokens = s.prompt_tokens + r.prompt_tokens,
    completion_tokens = s.completion_tokens + r.completion_tokens,
    translated_at = CASE WHEN r.target_text IS NULL THEN s.translated_at ELSE now() END,
    published_at = CASE WHEN r.status = 'published' AND NOT (s.legal OR r.legal) THEN now()
                        ELSE s.published_at END,
    claimed_at = NULL, updated_at = now()
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[],
            $9::int[], $10::timestamptz[], $11::text[], $12::boolean[], $13::text[])
     AS r(id, status, target_text, error, provider, model, prompt_tokens, completion_tokens,
          claimed_at, qa_issues, legal, legal_reason)
WHERE s.tenant_id = $1 AND s.id = r.id AND s.status = 'translating'
  AND s.claimed_at = r.claimed_at
"""

# a run whose segments are still being written is not done, however empty its queue
FINISH_RUN = f"""
UPDATE jobs SET finished_at = now(), updated_at = now(), status = (
    -- as translation.states.run_outcome decides
    SELECT CASE
        WHEN count(*) FILTER (WHERE status IN {sql_list(UNTRANSLATED)}) = 0 THEN 'succeeded'
        WHEN count(*) FILTER (WHERE status NOT IN {sql_list(UNTRANSLATED)}) > 0
            THEN 'succeeded_with_errors'
        ELSE 'failed' END
    FROM segments WHERE tenant_id = $1 AND job_id = $2)
WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')
  AND NOT coalesce((params ->> 'preparing')::boolean, false)
  AND NOT EXISTS (
      SELECT 1 FROM segments
      WHERE tenant_id = $1 AND job_id = $2 AND status IN {sql_list(UNFINISHED)})
"""

TENANT_DOMAIN = "SELECT settings ->> 'domain' FROM tenants WHERE id = $1"
TENANT_RULES = "SELECT settings, source_locale, target_locales FROM tenants WHERE id = $1"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    target_text: str | None
    error: str | None
    provider: str | None
    model: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    issues: tuple[Issue, ...] = ()
    # why the segment is legal, its new text read with its source (None: it is not)
    legal_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A provider's answer for one segment after the checks (and the repair, if one ran)."""

    result: SegmentResult
    issues: tuple[Issue, ...] = ()


def legal_reason(classifier: Classifier, claimed: Any, text: str | None) -> str | None:
    """The segment's source and its new text (if any) under the tenant's rules; the reason it
    was queued with stands when the new reading finds none."""
    found = classifier.reason(
        claimed["field"], claimed["source_text"], claimed["source_locale"],
        claimed["target_locale"], text,
    )  # fmt: skip
    return found or (claimed["legal_reason"] if claimed["legal"] else None)


def _outcome(claimed: Any, checked: Checked, provider: Provider, classifier: Classifier) -> Outcome:
    result = checked.result
    reason = legal_reason(classifier, claimed, result.text if result.status == "ok" else None)
    if result.status == "ok" and result.text is not None:
        status = after_machine_translation(
            legal=reason is not None, blocking_issues=blocking(checked.issues)
        )
    elif result.status == "blocked":
        status = Status.BLOCKED
    else:
        status = Status.FAILED
    return Outcome(
        status=status,
        target_text=result.text,
        error=result.reason,
        provider=provider.name,
        model=provider.model,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        issues=checked.issues,
        legal_reason=reason,
    )


@dataclass(slots=True)
class Batch:
    """A claimed batch, ready for the model: memory hits decided, the rest as requests."""

    claimed: Sequence[Any]
    qa: QaContext
    classifier: Classifier
    outcomes: dict[uuid.UUID, Outcome]
    # (source locale, target locale, rows, requests) per language pair
    work: list[tuple[str, str, list[Any], list[SegmentRequest]]]


def _inspect(qa: QaContext, row: Any, text: str) -> tuple[Issue, ...]:
    return tuple(
        qa.inspect(
            row["source_text"], text, row["source_locale"], row["target_locale"], row["field"]
        )
    )


async def _prepare(
    raw: Any,
    tenant_id: uuid.UUID,
    claimed: Sequence[Any],
    qa: QaContext,
    classifier: Classifier,
    domain: str | None,
) -> Batch:
    batch = Batch(claimed=claimed, qa=qa, classifier=classifier, outcomes={}, work=[])
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in claimed:
        groups[(row["source_locale"], row["target_locale"])].append(row)
    for (source, target), rows in groups.items():
        reusable = await memory.exact_matches(
            raw, tenant_id, source, target, [row["source_hash"] for row in rows]
        )
        misses = []
        for row in rows:
            # a reviewer's instruction asks for something the memory does not have, and a
            # remembered text that breaks today's glossary is translated afresh
            text = reusable.get(row["source_hash"])
            issues = _inspect(qa, row, text) if text is not None else ()
            if text is not None and not row["instruction"] and not blocking(issues):
                reason = legal_reason(classifier, row, text)
                batch.outcomes[row["id"]] = Outcome(
                    status=after_machine_translation(
                        legal=reason is not None, blocking_issues=False
                    ),
                    target_text=text,
                    error=None,
                    provider="memory",
                    model=None,
                    issues=issues,
                    legal_reason=reason,
                )
            else:
                misses.append(row)
        if not misses:
            continue
        examples = await memory.similar_examples(
            raw, tenant_id, source, target,
            [row["source_text"] for row in misses], [row["source_hash"] for row in misses],
        )  # fmt: skip
        requests = [
            SegmentRequest(
                id=str(row["id"]),
                text=row["source_text"],
                source_locale=source,
                target_locale=target,
                terms=qa.glossary.provider_terms(row["source_text"], target),
                examples=tuple(found),
                instruction=row["instruction"],
                domain=domain,
            )
            for row, found in zip(misses, examples, strict=True)
        ]
        batch.work.append((source, target, misses, requests))
    return batch


def repair_instruction(issues: Sequence[Issue], instruction: str | None) -> str:
    problems = " ".join(issue.message for issue in issues if issue.severity == "error")
    repair = (
        f"The previous translation broke these rules: {problems} Translate again following them."
    )
    return f"{instruction}\n{repair}" if instruction else repair


async def _translate_checked(
    provider: Provider,
    tenant_id: uuid.UUID,
    qa: QaContext,
    rows: list[Any],
    requests: list[SegmentRequest],
) -> list[Checked]:
    """One language pair: translate, check, and send what has errors back once."""
    by_id = {str(row["id"]): row for row in rows}
    checked: dict[str, Checked] = {}
    repairs: list[SegmentRequest] = []
    for request, result in zip(
        requests, await provider.translate(str(tenant_id), requests), strict=True
    ):
        if result.status != "ok" or result.text is None:
            checked[result.id] = Checked(result)
            continue
        issues = _inspect(qa, by_id[result.id], result.text)
        checked[result.id] = Checked(result, issues)
        if blocking(issues):
            repairs.append(
                replace(request, instruction=repair_instruction(issues, request.instruction))
            )
    if repairs:
        for repaired in await provider.translate(str(tenant_id), repairs):
            first = checked[repaired.id]
            # both calls are paid for
            prompt = first.result.prompt_tokens + repaired.prompt_tokens
            completion = first.result.completion_tokens + repaired.completion_tokens
            if repaired.status == "ok" and repaired.text is not None:
                issues = _inspect(qa, by_id[repaired.id], repaired.text)
                result = replace(repaired, prompt_tokens=prompt, completion_tokens=completion)
                checked[repaired.id] = Checked(result, issues)
            else:  # the first answer stands, held for review with its issues
                result = replace(first.result, prompt_tokens=prompt, completion_tokens=completion)
                checked[repaired.id] = replace(first, result=result)
    return [checked[request.id] for request in requests]


async def _call(provider: Provider, tenant_id: uuid.UUID, batch: Batch) -> list[list[Checked]]:
    """Every language pair's calls at once (no database work here)."""
    return list(
        await asyncio.gather(
            *(
                _translate_checked(provider, tenant_id, batch.qa, rows, requests)
                for _, _, rows, requests in batch.work
            )
        )
    )


async def _finish(
    raw: Any,
    provider: Provider,
    tenant_id: uuid.UUID,
    batch: Batch,
    answers: list[list[Checked]],
    claims: Mapping[uuid.UUID, datetime],
) -> None:
    for (source, target, rows, _), results in zip(batch.work, answers, strict=True):
        learned: list[tuple[str, str]] = []
        for row, checked in zip(rows, results, strict=True):
            batch.outcomes[row["id"]] = outcome = _outcome(row, checked, provider, batch.classifier)
            # only a clean translation is worth reusing
            if outcome.target_text is not None and not blocking(outcome.issues):
                learned.append((row["source_text"], outcome.target_text))
        await memory.remember(
            raw, tenant_id, source, target, learned, origin="machine", approved=False
        )
    await _save(raw, tenant_id, batch.claimed, batch.outcomes, claims)


def _spent(provider: Provider, batch: Batch, answers: list[list[Checked]]) -> list[usage.Spent]:
    """The batch's tokens by segment (memory reuses, decided before the calls, cost none)."""
    spent = [
        usage.Spent(segment_id, o.provider or provider.name, o.model, 0, 0)
        for segment_id, o in batch.outcomes.items()
    ]
    for (_, _, rows, _), results in zip(batch.work, answers, strict=True):
        spent += [
            usage.Spent(row["id"], provider.name, provider.model, checked.result.prompt_tokens,
                        checked.result.completion_tokens)
            for row, checked in zip(rows, results, strict=True)
        ]  # fmt: skip
    return spent


async def _save(
    raw: Any,
    tenant_id: uuid.UUID,
    claimed: Sequence[Any],
    outcomes: dict[uuid.UUID, Outcome],
    claims: Mapping[uuid.UUID, datetime],
) -> None:
    rows = [(row, outcomes[row["id"]]) for row in claimed if row["id"] in outcomes]
    await raw.execute(
        SAVE,
        tenant_id,
        [row["id"] for row, _ in rows],
        [o.status.value for _, o in rows],
        [o.target_text for _, o in rows],
        [o.error for _, o in rows],
        [o.provider for _, o in rows],
        [o.model for _, o in rows],
        [o.prompt_tokens for _, o in rows],
        [o.completion_tokens for _, o in rows],
        [claims.get(row["id"]) for row, _ in rows],
        [json.dumps([issue.as_dict() for issue in o.issues]) for _, o in rows],
        [o.legal_reason is not None for _, o in rows],
        [o.legal_reason for _, o in rows],
    )


async def finish_run(engine: AsyncEngine, tenant_id: uuid.UUID, run_id: uuid.UUID) -> None:
    """Mark the run finished when nothing is left to do (succeeded, succeeded_with_errors or
    failed, by what became of its segments)."""
    async with engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        await raw.execute(FINISH_RUN, tenant_id, run_id)


async def translate_run(
    engine: AsyncEngine,
    provider: Provider,
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    *,
    batch_size: int,
    time_budget_seconds: float,
    claim_lease_seconds: float,
) -> int:
    """Claim and translate batches of the run until none is left (or the time budget is
    spent; the sweeper wakes another job for the rest). Returns segments handled."""
    handled = 0
    deadline = time.monotonic() + time_budget_seconds
    async with (
        engine.connect() as conn,
        ClaimKeeper(engine, tenant_id, claim_lease_seconds) as held,
    ):
        raw: Any = (await conn.get_raw_connection()).driver_connection
        status = await raw.fetchval(
            "SELECT status FROM jobs WHERE tenant_id = $1 AND id = $2", tenant_id, run_id
        )
        if status not in ("queued", "running"):
            return 0
        await raw.execute(
            "UPDATE jobs SET status = 'running', started_at = coalesce(started_at, now()), "
            "updated_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'queued'",
            tenant_id,
            run_id,
        )
        domain = await raw.fetchval(TENANT_DOMAIN, tenant_id)

        # A pipeline of two batches: while one batch's calls are out, the next is claimed and
        # prepared on the connection, so the model is never waiting for the database.
        # (Each statement commits on its own: a claim is visible to others at once.)
        async def claim() -> Batch | None:
            if time.monotonic() >= deadline:
                return None
            claimed = await raw.fetch(CLAIM, tenant_id, run_id, batch_size)
            if not claimed:
                return None
            held.hold(claimed)
            # the glossary and legal rules as they are now (a change bumps their versions)
            qa = await load_context(raw, tenant_id)
            tenant = await raw.fetchrow(TENANT_RULES, tenant_id)
            classifier = classifier_for(
                tenant_id,
                jsonb_value(tenant["settings"]) if tenant else None,
                shop_locales(tenant["source_locale"], tenant["target_locales"]) if tenant else (),
            )
            return await _prepare(raw, tenant_id, claimed, qa, classifier, domain)

        current = await claim()
        while current is not None:
            calls = asyncio.ensure_future(_call(provider, tenant_id, current))
            try:
                upcoming = await claim()
            finally:
                answers = await calls
            await usage.record(raw, tenant_id, run_id, _spent(provider, current, answers))
            claims = await held.release(row["id"] for row in current.claimed)
            await _finish(raw, provider, tenant_id, current, answers, claims)
            handled += len(current.claimed)
            current = upcoming
        await raw.execute(FINISH_RUN, tenant_id, run_id)
    log.info("translate_batch", run_id=str(run_id), segments=handled)
    return handled
