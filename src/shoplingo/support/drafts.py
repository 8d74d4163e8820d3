"""Reply drafts as the API changes them: requested, edited by an agent, retried, approved by
a reviewer (four-eyes) and sent; the state machine is ``support.states``.

Never commits: the request boundary does, and each draft run (drafting and translation, done
by ``support.jobs``) is enqueued after the commit. The run is a ``jobs`` row first (the
sweeper re-sends its message if Redis loses it); every run is a new revision, so an older
run's result is dropped.
"""

from __future__ import annotations

import uuid
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.db import transaction_time
from shoplingo.core.errors import Conflict, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.jobs import create_job
from shoplingo.core.text import text_sha256
from shoplingo.models import Job, Message, ReplyDraft
from shoplingo.review.approvals import (
    IntegrationKeyCannotEditLegal,
    TargetChanged,
    check_not_glossary_author,
    check_reviewer,
)
from shoplingo.settings import Settings
from shoplingo.support.conversations import get_conversation
from shoplingo.support.errors import DraftFourEyes, blank, draft_not_found
from shoplingo.support.states import (
    DraftChange,
    DraftStage,
    DraftStatus,
    TranslationStatus,
    transition,
)

DRAFT_KIND = "support_draft"
DRAFT_FUNCTION = "support_draft_reply"


def _draft_state(draft: ReplyDraft) -> dict[str, Any]:
    return {
        "status": draft.status,
        "agent_text": draft.agent_text,
        "customer_text": draft.customer_text,
        "legal": draft.legal,
        "approved_by": str(draft.approved_by) if draft.approved_by else None,
        "edited_by": str(draft.edited_by) if draft.edited_by else None,
    }


async def get_draft(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    draft_id: uuid.UUID,
    *,
    lock: bool = False,
) -> ReplyDraft:
    query = select(ReplyDraft).where(
        ReplyDraft.tenant_id == tenant_id,
        ReplyDraft.conversation_id == conversation_id,
        ReplyDraft.id == draft_id,
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    draft = await session.scalar(query)
    if draft is None:
        raise draft_not_found(draft_id)
    return draft


async def _run_draft(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    draft: ReplyDraft,
    *,
    idempotency_key: str | None = None,
) -> None:
    """Send a queued draft's next run (for its revision: an older run's result is dropped)."""
    draft.error = None
    draft.requested_at = await transaction_time(session)
    draft.finished_at = None
    draft.model_ms = None
    await session.flush()
    job = create_job(
        session, queue, settings, tenant_id=draft.tenant_id, kind=DRAFT_KIND,
        function=DRAFT_FUNCTION, params={"draft_id": str(draft.id), "revision": draft.revision},
        total=1, counts={}, idempotency_key=idempotency_key,
    )  # fmt: skip
    draft.job_id = job.id
    await session.flush()


async def _by_idempotency_key(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID, key: str
) -> ReplyDraft | None:
    job = await session.scalar(
        select(Job).where(
            Job.tenant_id == tenant_id, Job.kind == DRAFT_KIND, Job.idempotency_key == key
        )
    )
    if job is None:
        return None
    draft = await session.get(ReplyDraft, (tenant_id, uuid.UUID(job.params["draft_id"])))
    if draft is None or draft.conversation_id != conversation_id:
        raise Conflict(
            N_("This Idempotency-Key was already used for another request."),
            code="idempotency_key_reused",
        )
    return draft


async def request_draft(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    actor: Principal,
    *,
    instructions: str | None,
    idempotency_key: str | None = None,
) -> tuple[ReplyDraft, bool]:
    """A new reply draft, drafted and translated by a job. Returns (draft, created)."""
    conversation = await get_conversation(session, tenant_id, conversation_id)
    if idempotency_key:
        existing = await _by_idempotency_key(session, tenant_id, conversation_id, idempotency_key)
        if existing is not None:
            return existing, False
    draft = ReplyDraft(
        tenant_id=tenant_id,
        conversation_id=conversation.id,
        status=DraftStatus.QUEUED.value,
        stage=DraftStage.DRAFT.value,
        revision=1,
        instructions=(instructions or "").strip() or None,
        agent_locale=conversation.agent_locale,
        customer_locale=conversation.customer_locale,
        requested_by=actor.person,
        policies_used=[],
        products_used=[],
        qa_issues=[],
    )
    session.add(draft)
    await session.flush()
    await _run_draft(session, queue, settings, draft, idempotency_key=idempotency_key)
    return draft, True


async def edit_draft(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    draft_id: uuid.UUID,
    actor: Principal,
    *,
    agent_text: str,
) -> ReplyDraft:
    """The agent's own reply text replaces the draft's; it is translated again, and any
    approval is void (a legal reply then needs a new one, from someone else)."""
    text = agent_text.strip()
    if not text:
        raise ValidationFailed(errors=[blank("agent_text")])
    if actor.member_id is None:
        # four-eyes needs to know who wrote a reply that may turn out legal
        raise IntegrationKeyCannotEditLegal()
    draft = await get_draft(session, tenant_id, conversation_id, draft_id, lock=True)
    queued = transition(draft.status, DraftChange.EDIT)
    before = _draft_state(draft)
    draft.status = queued.value
    draft.agent_text = text
    draft.customer_text = None
    draft.qa_issues = []
    draft.stage = DraftStage.TRANSLATE.value
    draft.revision += 1
    draft.approved_by = None
    draft.approved_at = None
    draft.approved_text_sha256 = None
    draft.edited_by = actor.member_id
    draft.edited_at = await transaction_time(session)
    await _run_draft(session, queue, settings, draft)
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="reply_draft.edited",
        entity_type="reply_draft", entity_id=draft.id, before=before, after=_draft_state(draft),
    )  # fmt: skip
    return draft


async def retry_draft(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    draft_id: uuid.UUID,
    actor: Principal,
    *,
    instructions: str | None,
) -> ReplyDraft:
    """Run a failed or blocked draft again: from the step that failed, or drafted afresh with
    new instructions. A draft whose job the sweeper gave up on counts as failed."""
    draft = await get_draft(session, tenant_id, conversation_id, draft_id, lock=True)
    job = await session.get(Job, (tenant_id, draft.job_id)) if draft.job_id else None
    draft.status = transition(
        draft.status, DraftChange.RETRY, job_status=job.status if job else None
    ).value
    if instructions is not None and instructions.strip():
        draft.instructions = instructions.strip()
        draft.stage = DraftStage.DRAFT.value
    if draft.stage == DraftStage.DRAFT and draft.edited_by is None:
        draft.agent_text = None
    draft.customer_text = None
    draft.revision += 1
    await _run_draft(session, queue, settings, draft)
    return draft


async def approve_draft(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    draft_id: uuid.UUID,
    actor: Principal,
    *,
    reviewed_text: str | None = None,
) -> ReplyDraft:
    """needs_approval -> approved, by a reviewer (the review gate's rules) who neither asked for
    the draft nor edited it."""
    draft = await get_draft(session, tenant_id, conversation_id, draft_id, lock=True)
    await check_reviewer(session, actor)
    if actor.member_id in (draft.requested_by, draft.edited_by):
        raise DraftFourEyes()
    await check_not_glossary_author(
        session, actor, (draft.agent_locale, draft.agent_text or ""),
        (draft.customer_locale, draft.customer_text),
    )  # fmt: skip
    approved = transition(draft.status, DraftChange.APPROVE)
    if reviewed_text is not None and reviewed_text != draft.customer_text:
        raise TargetChanged()
    assert draft.customer_text is not None  # needs_approval always has the text to approve
    before = _draft_state(draft)
    draft.status = approved.value
    draft.approved_by = actor.member_id
    draft.approved_at = await transaction_time(session)
    draft.approved_text_sha256 = text_sha256(draft.customer_text)
    await session.flush()
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="reply_draft.approved",
        entity_type="reply_draft", entity_id=draft.id, before=before, after=_draft_state(draft),
    )  # fmt: skip
    return draft


async def send_draft(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    draft_id: uuid.UUID,
    actor: Principal,
) -> ReplyDraft:
    """Mark a ready (or approved) reply sent; it joins the conversation as the agent's
    message, in the customer's language with the agent's text as its translation."""
    draft = await get_draft(session, tenant_id, conversation_id, draft_id, lock=True)
    sent = transition(draft.status, DraftChange.SEND)
    assert draft.customer_text is not None
    assert draft.agent_text is not None
    before = _draft_state(draft)
    now = await transaction_time(session)
    draft.status = sent.value
    draft.sent_by = actor.member_id
    draft.sent_at = now
    session.add(
        Message(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            author="agent",
            author_member_id=actor.member_id,
            text=draft.customer_text,
            locale=draft.customer_locale,
            translated_text=draft.agent_text,
            translated_locale=draft.agent_locale,
            translation_status=(
                TranslationStatus.TRANSLATED
                if draft.customer_text != draft.agent_text
                else TranslationStatus.NOT_NEEDED
            ).value,
            draft_id=draft.id,
        )
    )
    await session.flush()
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="reply_draft.sent",
        entity_type="reply_draft", entity_id=draft.id, before=before, after=_draft_state(draft),
    )  # fmt: skip
    return draft
