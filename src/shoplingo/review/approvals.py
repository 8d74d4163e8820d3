"""Review decisions: approving, rejecting and editing a translation, one or many at a time.

Never commits: the request boundary does (jobs are enqueued after commit). Every decision is
written to the audit log in the same transaction as the change it describes.

Who may approve (:func:`check_approver`): a member's personal key (never an integration key)
holding ``review:approve``, of an active member whose role is reviewer or owner, who is not the
member whose edit the text is (four-eyes). Each refusal is a 403 with its own code.

The queue of segments to review is :mod:`review.queue`, the audit log listing
:mod:`review.audit_log`, the tenant's legal rules :mod:`review.legal_rules`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal, Scope, missing_scope
from shoplingo.core.db import transaction_time
from shoplingo.core.errors import Conflict, FieldError, Forbidden, ProblemError, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.jobs import send_after_commit
from shoplingo.core.text import text_sha256
from shoplingo.glossary.authorship import claim_written_by
from shoplingo.legal.classifier import Classifier, tenant_classifier
from shoplingo.models import Job, Member, Segment, SegmentApproval, Tenant
from shoplingo.models.tenant import APPROVER_ROLES
from shoplingo.qa.issues import blocking
from shoplingo.review.queue import segment_not_found
from shoplingo.settings import Settings
from shoplingo.translation import memory, runs
from shoplingo.translation.quality.service import load_context as load_qa_context
from shoplingo.translation.states import Status, after_human_edit, transition


class IntegrationKeyCannotApprove(Forbidden):
    code = "integration_key_cannot_approve"
    message = N_("Only a member's personal key can approve or reject; integration keys never can.")


class IntegrationKeyCannotEditLegal(Forbidden):
    code = "integration_key_cannot_edit_legal"
    message = N_(
        "Legal text is edited with a member's personal key, so that someone else approves it."
    )


class RoleCannotApprove(Forbidden):
    code = "role_cannot_approve"
    message = N_("Only an active member with the role reviewer or owner can do this.")


class FourEyes(Forbidden):
    code = "four_eyes"
    message = N_("You edited this text last: another reviewer has to approve it.")


class ReviewedTextRequired(ProblemError):
    status_code = 422
    code = "reviewed_text_required"
    message = N_(
        "Legal text is approved in bulk only with the text you read: send it in texts, by id."
    )


class TargetChanged(Conflict):
    code = "target_changed"
    message = N_("The text changed since you reviewed it: review the current text.")


# --- who may decide ---------------------------------------------------------------------


async def check_reviewer(session: AsyncSession, actor: Principal) -> None:
    """A member key with review:approve of an active reviewer or owner (not four-eyes yet)."""
    if actor.member_id is None:
        raise IntegrationKeyCannotApprove()
    if not actor.has(Scope.REVIEW_APPROVE):
        raise missing_scope([Scope.REVIEW_APPROVE.value])
    # read fresh: a role changed or a member deactivated after the key was authenticated
    member = await session.get(Member, (actor.tenant_id, actor.member_id))
    if member is None or member.deactivated_at is not None or member.role not in APPROVER_ROLES:
        raise RoleCannotApprove()


class GlossaryFourEyes(FourEyes):
    message = N_(
        "This text carries the legal glossary target {target} you wrote: another reviewer has "
        "to approve it."
    )


async def classifier_of(session: AsyncSession, tenant_id: uuid.UUID) -> Classifier:
    """The tenant's legal classifier, for the languages its shop sells."""
    return tenant_classifier(tenant_id, await session.get(Tenant, tenant_id))


async def check_not_glossary_author(
    session: AsyncSession,
    actor: Principal,
    source: tuple[str, str],
    target: tuple[str, str | None],
) -> None:
    """Machine output is nobody's, but a glossary target that makes it legal is its writers'
    words. ``source`` and ``target``: (locale, text) of both sides."""
    (source_locale, source_text), (target_locale, target_text) = source, target
    if actor.member_id is None or not target_text:
        return
    classifier = await classifier_of(session, actor.tenant_id)

    def reads_as_legal(text: str) -> bool:
        # by content only: a legal field's name is nobody's words
        found = classifier.reason("", source_text, source_locale, target_locale, text)
        return found is not None

    claim = await claim_written_by(
        session, actor.tenant_id, actor.member_id, target_locale, target_text, reads_as_legal
    )
    if claim is not None:
        raise GlossaryFourEyes(params={"target": claim})


async def check_approver(session: AsyncSession, actor: Principal, segment: Segment) -> None:
    await check_reviewer(session, actor)
    if segment.last_edited_by is not None and segment.last_edited_by == actor.member_id:
        raise FourEyes()
    if segment.legal:
        await check_not_glossary_author(
            session, actor, (segment.source_locale, segment.source_text),
            (segment.target_locale, segment.target_text),
        )  # fmt: skip


# --- segments -----------------------------------------------------------------------------


async def _locked_segment(
    session: AsyncSession, tenant_id: uuid.UUID, segment_id: uuid.UUID
) -> Segment:
    segment = await session.scalar(
        select(Segment)
        .where(Segment.tenant_id == tenant_id, Segment.id == segment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if segment is None:
        raise segment_not_found(segment_id)
    return segment


def _state(segment: Segment) -> dict[str, Any]:
    return {
        "status": segment.status,
        "target_text": segment.target_text,
        "approved_by": str(segment.approved_by) if segment.approved_by else None,
        "last_edited_by": str(segment.last_edited_by) if segment.last_edited_by else None,
    }


async def approve(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    segment_id: uuid.UUID,
    actor: Principal,
    *,
    reviewed_text: str | None = None,
    legal_needs_reviewed_text: bool = False,
) -> Segment:
    """needs_review -> approved -> published, by a reviewer who did not write the text (and,
    with ``legal_needs_reviewed_text``, who says which text they read when it is legal)."""
    segment = await _locked_segment(session, tenant_id, segment_id)
    await check_approver(session, actor, segment)
    if reviewed_text is None and segment.legal and legal_needs_reviewed_text:
        raise ReviewedTextRequired()
    if reviewed_text is not None and reviewed_text != segment.target_text:
        raise TargetChanged()
    transition(segment.status, Status.APPROVED)
    if segment.target_text is None:  # needs_review always has a text; never publish nothing
        raise TargetChanged()
    before = _state(segment)
    now = await transaction_time(session)
    assert actor.member_id is not None
    segment.status = transition(Status.APPROVED, Status.PUBLISHED, legal=segment.legal).value
    segment.approved_by = actor.member_id
    segment.approved_at = now
    segment.published_at = now
    session.add(
        SegmentApproval(
            tenant_id=tenant_id,
            segment_id=segment.id,
            source_locale=segment.source_locale,
            target_locale=segment.target_locale,
            source_hash=segment.source_hash,
            target_text=segment.target_text,
            text_sha256=text_sha256(segment.target_text),
            approved_by=actor.member_id,
            approved_key_id=actor.key_id,
            approved_at=now,
        )
    )
    await session.flush()
    # the next translation of the same text reuses the approved one (it still gets reviewed
    # when it is legal)
    raw: Any = (await (await session.connection()).get_raw_connection()).driver_connection
    await memory.remember(
        raw,
        tenant_id,
        segment.source_locale,
        segment.target_locale,
        [(segment.source_text, segment.target_text)],
        origin="human",
        approved=True,
    )
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="segment.approved",
        entity_type="segment",
        entity_id=segment.id,
        before=before,
        after=_state(segment),
    )
    await session.flush()
    return segment


async def reject(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    segment_id: uuid.UUID,
    actor: Principal,
    *,
    comment: str,
) -> Segment:
    """needs_review -> rejected -> queued: translated again (after commit) following the
    comment, which becomes the segment's instruction."""
    segment = await _locked_segment(session, tenant_id, segment_id)
    await check_reviewer(session, actor)
    comment = comment.strip()
    if not comment:
        raise ValidationFailed(
            errors=[FieldError(field="comment", code="required", message=N_("Say what is wrong."))]
        )
    transition(segment.status, Status.REJECTED)
    before = _state(segment)
    job = Job(
        tenant_id=tenant_id,
        kind=runs.KIND,
        status="queued",
        total=1,
        params={
            "target_locales": [segment.target_locale],
            "fields": [segment.field],
            "skus": None,
            "all": False,
            "changed_since": None,
            "rejected_segment_id": str(segment.id),
        },
        counts={"candidates": 1, "up_to_date": 0},
    )
    session.add(job)
    await session.flush()
    segment.status = transition(Status.REJECTED, Status.QUEUED).value
    segment.instruction = comment
    segment.job_id = job.id
    segment.queued_at = await transaction_time(session)
    segment.claimed_at = None
    segment.attempts = 0
    segment.last_error = None
    segment.approved_by = None
    segment.approved_at = None
    # the next text is the machine's, whoever wrote this one
    segment.last_edited_by = None
    await session.flush()
    send_after_commit(session, queue, settings, job, runs.RUN_FUNCTION, "start:0")
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="segment.rejected",
        entity_type="segment",
        entity_id=segment.id,
        before=before,
        after={**_state(segment), "comment": comment, "translation_job_id": str(job.id)},
    )
    await session.flush()
    return segment


async def edit(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    segment_id: uuid.UUID,
    actor: Principal,
    *,
    target_text: str,
) -> Segment:
    """A person's translation replaces the target text. The new text is classified with its
    source (a claim written into a translation makes the segment legal). Legal text (even
    approved before) goes to needs_review for a new approval by someone else; a clean non-legal
    edit is published. The approval of the previous text is void (it stays in
    segment_approvals for reads). An integration key may not write legal text, nor edit
    a legal segment."""
    segment = await _locked_segment(session, tenant_id, segment_id)
    if segment.legal and actor.member_id is None:
        # four-eyes needs to know who wrote the text: an integration key is nobody
        raise IntegrationKeyCannotEditLegal()
    if not target_text.strip():
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="target_text", code="required", message=N_("Give the translated text.")
                )
            ]
        )
    classifier = await classifier_of(session, tenant_id)
    reason = classifier.reason(
        segment.field, segment.source_text, segment.source_locale, segment.target_locale,
        target_text,
    )  # fmt: skip
    if reason is not None and actor.member_id is None:
        raise IntegrationKeyCannotEditLegal()
    # a person's text meets the same glossary and QA checks as the machine's
    raw: Any = (await (await session.connection()).get_raw_connection()).driver_connection
    qa = await load_qa_context(raw, tenant_id)
    found = qa.inspect(
        segment.source_text, target_text, segment.source_locale, segment.target_locale,
        segment.field,
    )  # fmt: skip
    issues = [issue.as_dict() for issue in found]
    status = after_human_edit(
        segment.status, legal=reason is not None, blocking_issues=blocking(found)
    )
    before = _state(segment)
    now = await transaction_time(session)
    segment.status = status.value
    segment.target_text = target_text
    segment.legal = reason is not None
    segment.legal_reason = reason
    segment.qa_issues = issues
    segment.provider = "human"
    segment.model = None
    segment.last_error = None
    segment.approved_by = None
    segment.approved_at = None
    # a key someone made writes in their name (an integration key is its maker's)
    segment.last_edited_by = actor.person
    segment.last_edited_at = now
    if status is Status.PUBLISHED:
        segment.published_at = now
    await session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="segment.edited",
        entity_type="segment",
        entity_id=segment.id,
        before=before,
        after=_state(segment),
    )
    await session.flush()
    return segment


@dataclass(frozen=True, slots=True)
class BulkItem:
    id: uuid.UUID
    segment: Segment | None
    error: ProblemError | None


async def approve_many(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    actor: Principal,
    texts: Mapping[uuid.UUID, str] | None = None,
) -> list[BulkItem]:
    """Each segment approved on its own terms (a savepoint each); refusals reported per item.
    ``texts``: what the reviewer read, by id; a legal segment needs its text."""
    items: list[BulkItem] = []
    texts = texts or {}
    for segment_id in dict.fromkeys(ids):
        try:
            async with session.begin_nested():
                segment = await approve(
                    session, tenant_id, segment_id, actor,
                    reviewed_text=texts.get(segment_id), legal_needs_reviewed_text=True,
                )  # fmt: skip
            items.append(BulkItem(segment_id, segment, None))
        except ProblemError as error:
            current = await session.scalar(
                select(Segment).where(Segment.tenant_id == tenant_id, Segment.id == segment_id)
            )
            items.append(BulkItem(segment_id, current, error))
    return items
