"""Deciding every review item a filter matches: approve, reject or translate again.

Each item goes through the same per-item decision as a single call (``approvals.approve``,
``approvals.reject``), in a savepoint of its own, so the four-eyes rules and every refusal are
exactly a single call's and are reported per item. The person's role is checked once before
any item is read (the route guard has already checked the key's scope). Never commits.

Approving by filter approves only what the reviewer could have seen: segments that did not
change after ``reviewed_at``, each with the text it had when it was selected (a text that
changes in between is refused, ``target_changed``). Legal text is refused
(``reviewed_text_required``): it is approved with the text the reviewer read. The oldest items
go first, at most ``limit`` a call; ``more`` says that more matched.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

import msgspec
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.errors import ProblemError, ValidationFailed
from shoplingo.models import Job, Segment
from shoplingo.review import approvals
from shoplingo.review.approvals import BulkItem
from shoplingo.review.queue import ReviewFilter, list_reviews
from shoplingo.settings import Settings
from shoplingo.translation.retranslate import requeue_in_run
from shoplingo.translation.states import Status, transition

MAX_ITEMS = 500


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    items: list[BulkItem]
    # more segments matched than the limit took
    more: bool
    # the run that translates the items again (retranslate only; None when none was taken)
    job: Job | None = None


async def _matching(
    session: AsyncSession, tenant_id: uuid.UUID, wanted: ReviewFilter, limit: int
) -> tuple[list[Segment], bool]:
    """The review items the filter matches (needs_review), oldest first; filter errors are
    named ``filter.<field>``."""
    try:
        found, next_cursor = await list_reviews(
            session,
            tenant_id,
            replace(wanted, status=Status.NEEDS_REVIEW.value),
            limit=max(1, min(limit, MAX_ITEMS)),
        )
    except ValidationFailed as error:
        raise ValidationFailed(
            errors=[msgspec.structs.replace(e, field=f"filter.{e.field}") for e in error.errors]
        ) from None
    return found, next_cursor is not None


async def _each(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    segments: list[Segment],
    decide: Callable[[Segment], Awaitable[Segment]],
) -> list[BulkItem]:
    items: list[BulkItem] = []
    for segment in segments:
        segment_id = segment.id
        try:
            async with session.begin_nested():
                decided = await decide(segment)
            items.append(BulkItem(segment_id, decided, None))
        except ProblemError as error:
            current = await session.scalar(
                select(Segment)
                .where(Segment.tenant_id == tenant_id, Segment.id == segment_id)
                .execution_options(populate_existing=True)
            )
            items.append(BulkItem(segment_id, current, error))
    return items


async def approve_matching(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    wanted: ReviewFilter,
    actor: Principal,
    *,
    reviewed_at: datetime,
    limit: int,
) -> BulkOutcome:
    """Approve what the filter matches and did not change after ``reviewed_at``."""
    await approvals.check_reviewer(session, actor)
    segments, more = await _matching(
        session, tenant_id, replace(wanted, changed_before=reviewed_at), limit
    )
    seen = {segment.id: segment.target_text for segment in segments}

    async def decide(segment: Segment) -> Segment:
        # a filter and a moment are no reading of a legal text: it is approved with the text
        # the reviewer read (alone, or by ids with texts), else refused reviewed_text_required
        return await approvals.approve(
            session, tenant_id, segment.id, actor,
            reviewed_text=None if segment.legal else seen[segment.id],
            legal_needs_reviewed_text=True,
        )  # fmt: skip

    return BulkOutcome(await _each(session, tenant_id, segments, decide), more)


async def reject_matching(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    wanted: ReviewFilter,
    actor: Principal,
    *,
    comment: str,
    limit: int,
) -> BulkOutcome:
    """Reject what the filter matches: each translated again following the comment."""
    await approvals.check_reviewer(session, actor)
    segments, more = await _matching(session, tenant_id, wanted, limit)

    async def decide(segment: Segment) -> Segment:
        return await approvals.reject(
            session, queue, settings, tenant_id, segment.id, actor, comment=comment
        )

    return BulkOutcome(await _each(session, tenant_id, segments, decide), more)


async def retranslate_matching(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    wanted: ReviewFilter,
    actor: Principal,
    *,
    limit: int,
) -> BulkOutcome:
    """Translate again what the filter matches, in one run, under the glossary in force. Legal
    text translated again still waits for a reviewer's approval."""
    segments, more = await _matching(session, tenant_id, wanted, limit)
    taken: list[Segment] = []

    async def decide(segment: Segment) -> Segment:
        locked = await session.scalar(
            select(Segment)
            .where(Segment.tenant_id == tenant_id, Segment.id == segment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert locked is not None  # segments are never deleted
        transition(locked.status, Status.QUEUED)
        taken.append(locked)
        return locked

    items = await _each(session, tenant_id, segments, decide)
    if not taken:
        return BulkOutcome(items, more)
    before = {s.id: {"status": s.status, "target_text": s.target_text} for s in taken}
    job = await requeue_in_run(session, queue, settings, tenant_id, taken)
    for segment in taken:
        audit.record(
            session,
            tenant_id=tenant_id,
            actor=actor,
            action="segment.retranslated",
            entity_type="segment",
            entity_id=segment.id,
            before=before[segment.id],
            after={"status": segment.status, "translation_job_id": str(job.id)},
        )
    await session.flush()
    return BulkOutcome(items, more, job)
