"""Support: policies, conversations, messages and reply drafts as the API changes them.

Never commits: the request boundary does, and the jobs (a message's translation, a draft's
drafting and translation) are enqueued after the commit. Each job is a ``jobs`` row first (the
sweeper re-sends its message if Redis loses it); ``support.jobs`` does the work.

A draft's life: ``queued`` -> ``ready`` (may be sent) or ``needs_approval`` (legal text, or
glossary/QA errors after the repair) -> ``approved`` (a reviewer who neither asked for nor
edited it: four-eyes) -> ``sent``; ``failed``/``blocked`` (outage, timeout, moderation) ->
``queued`` again on retry; an agent's edit -> ``queued`` (translated again; any approval void).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.db import transaction_time
from shoplingo.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.jobs import create_job
from shoplingo.core.language import Detected, detect_language, language_of
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.core.pagination import keyset_page
from shoplingo.legal.classifier import classifier_for
from shoplingo.models import (
    Conversation,
    Job,
    Message,
    Product,
    ReplyDraft,
    SupportPolicy,
    Tenant,
)
from shoplingo.review.service import (
    FourEyes,
    IntegrationKeyCannotEditLegal,
    TargetChanged,
    check_reviewer,
)
from shoplingo.settings import Settings
from shoplingo.support.schemas import ConversationIn, MessageIn, PolicyIn

DRAFT_KIND = "support_draft"
DRAFT_FUNCTION = "support_draft_reply"
MESSAGE_KIND = "support_message"
MESSAGE_FUNCTION = "support_translate_message"


# --- errors ---------------------------------------------------------------------------------


def policy_not_found(policy_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Support policy {id} was not found."), code="policy_not_found", params={"id": policy_id}
    )


def conversation_not_found(conversation_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Conversation {id} was not found."),
        code="conversation_not_found",
        params={"id": conversation_id},
    )


def draft_not_found(draft_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Reply draft {id} was not found."), code="draft_not_found", params={"id": draft_id}
    )


def message_not_found(message_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Message {id} was not found."), code="message_not_found", params={"id": message_id}
    )


class PolicyExists(Conflict):
    code = "policy_exists"
    message = N_("A support policy named {name} exists already.")


class ConversationExists(Conflict):
    code = "conversation_exists"
    message = N_(
        "A conversation with this external_id exists with a different first message: add "
        "messages to it with POST /v1/support/conversations/{id}/messages."
    )


class DraftNeedsApproval(Conflict):
    code = "draft_needs_approval"
    message = N_("This reply needs a reviewer's approval before it can be sent.")


class DraftNotReady(Conflict):
    code = "draft_not_ready"
    message = N_("This reply is {status}: only a ready or approved reply can be sent.")


class DraftAlreadySent(Conflict):
    code = "draft_already_sent"
    message = N_("This reply was sent already.")


class DraftBusy(Conflict):
    code = "draft_busy"
    message = N_("This reply is being drafted or translated: wait until it is done.")


class DraftNotAwaitingApproval(Conflict):
    code = "draft_not_awaiting_approval"
    message = N_("This reply is {status}: only a reply that needs approval can be approved.")


class DraftNotRetryable(Conflict):
    code = "draft_not_retryable"
    message = N_("This reply is {status}: only a failed or blocked reply can be retried.")


class MessageNotRetryable(Conflict):
    code = "message_not_retryable"
    message = N_(
        "This message's translation is {status}: only a failed or blocked translation can be "
        "retried."
    )


class DraftFourEyes(FourEyes):
    message = N_("You asked for or edited this reply: another reviewer has to approve it.")


# --- helpers --------------------------------------------------------------------------------


def _locale(field: str, value: str, errors: list[FieldError]) -> str:
    try:
        return canonical_locale(value)
    except InvalidLocaleError:
        errors.append(locale_field_error(field, value))
        return value


def _blank(field: str) -> FieldError:
    return FieldError(field=field, code="required", message=N_("This must not be blank."))


async def _tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None  # the caller's key belongs to it
    return tenant


def _queue_job(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    *,
    tenant_id: uuid.UUID,
    kind: str,
    params: dict[str, Any],
    idempotency_key: str | None = None,
) -> Job:
    return create_job(
        session, queue, settings, tenant_id=tenant_id, kind=kind,
        function=DRAFT_FUNCTION if kind == DRAFT_KIND else MESSAGE_FUNCTION, params=params,
        total=1, counts={}, idempotency_key=idempotency_key,
    )  # fmt: skip


# --- policies -------------------------------------------------------------------------------


def _policy_state(policy: SupportPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "text": policy.text,
        "locale": policy.locale,
        "legal": policy.legal,
        "legal_reason": policy.legal_reason,
    }


async def _checked_policy(
    session: AsyncSession, tenant_id: uuid.UUID, data: PolicyIn
) -> tuple[str, str, str, str | None]:
    """(name, text, locale, legal reason) of a valid policy."""
    errors: list[FieldError] = []
    name, text = data.name.strip(), data.text.strip()
    if not name:
        errors.append(_blank("name"))
    if not text:
        errors.append(_blank("text"))
    tenant = await _tenant(session, tenant_id)
    locale = _locale("locale", data.locale, errors) if data.locale else tenant.source_locale
    if errors:
        raise ValidationFailed(errors=errors)
    reason = classifier_for(tenant_id, tenant.settings).content_reason(f"{name}\n{text}", locale)
    return name, text, locale, reason


async def list_policies(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[SupportPolicy]:
    return (
        await session.scalars(
            select(SupportPolicy)
            .where(SupportPolicy.tenant_id == tenant_id)
            .order_by(SupportPolicy.name, SupportPolicy.id)
        )
    ).all()


async def get_policy(
    session: AsyncSession, tenant_id: uuid.UUID, policy_id: uuid.UUID
) -> SupportPolicy:
    policy = await session.get(SupportPolicy, (tenant_id, policy_id))
    if policy is None:
        raise policy_not_found(policy_id)
    return policy


async def _store_policy(session: AsyncSession, policy: SupportPolicy) -> None:
    try:
        async with session.begin_nested():
            session.add(policy)
            await session.flush()
    except IntegrityError:
        raise PolicyExists(params={"name": policy.name}) from None


async def create_policy(
    session: AsyncSession, tenant_id: uuid.UUID, actor: Principal, data: PolicyIn
) -> SupportPolicy:
    name, text, locale, reason = await _checked_policy(session, tenant_id, data)
    policy = SupportPolicy(
        tenant_id=tenant_id,
        name=name,
        text=text,
        locale=locale,
        legal=reason is not None,
        legal_reason=reason,
    )
    await _store_policy(session, policy)
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="support_policy.created",
        entity_type="support_policy", entity_id=policy.id, after=_policy_state(policy),
    )  # fmt: skip
    return policy


async def update_policy(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    policy_id: uuid.UUID,
    actor: Principal,
    data: PolicyIn,
) -> SupportPolicy:
    policy = await get_policy(session, tenant_id, policy_id)
    name, text, locale, reason = await _checked_policy(session, tenant_id, data)
    before = _policy_state(policy)
    policy.name, policy.text, policy.locale = name, text, locale
    policy.legal, policy.legal_reason = reason is not None, reason
    await _store_policy(session, policy)
    if _policy_state(policy) != before:
        audit.record(
            session, tenant_id=tenant_id, actor=actor, action="support_policy.updated",
            entity_type="support_policy", entity_id=policy.id, before=before,
            after=_policy_state(policy),
        )  # fmt: skip
    return policy


async def delete_policy(
    session: AsyncSession, tenant_id: uuid.UUID, policy_id: uuid.UUID, actor: Principal
) -> None:
    policy = await get_policy(session, tenant_id, policy_id)
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="support_policy.deleted",
        entity_type="support_policy", entity_id=policy.id, before=_policy_state(policy),
    )  # fmt: skip
    await session.delete(policy)
    await session.flush()


# --- conversations and messages -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerLanguage:
    locale: str
    origin: str  # given | detected | fallback
    detected: Detected | None


def decide_language(
    text: str, given: str | None, fallback: str, min_confidence: float
) -> CustomerLanguage:
    """The caller's locale; else lingua's language when it is confident enough; else the
    fallback (the shop's source locale), reporting what lingua guessed."""
    if given is not None:
        return CustomerLanguage(given, "given", None)
    detected = detect_language(text)
    if detected is not None and detected.confidence >= min_confidence:
        try:
            return CustomerLanguage(canonical_locale(detected.code), "detected", detected)
        except InvalidLocaleError:
            pass  # a language CLDR does not know: we could not reply in it either
    return CustomerLanguage(fallback, "fallback", detected)


async def _known_skus(
    session: AsyncSession, tenant_id: uuid.UUID, skus: Sequence[str]
) -> list[FieldError]:
    wanted = list(dict.fromkeys(s.strip() for s in skus))
    found = set(
        await session.scalars(
            select(Product.sku).where(
                Product.tenant_id == tenant_id,
                Product.sku.in_(wanted),
                Product.deleted_at.is_(None),
            )
        )
    )
    return [
        FieldError(
            field=f"skus.{index}",
            code="unknown_sku",
            message=N_("No product with the SKU {sku}."),
            params={"sku": sku},
        )
        for index, sku in enumerate(s.strip() for s in skus)
        if sku not in found
    ]


def _new_message(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    conversation: Conversation,
    *,
    author: str,
    text: str,
    member_id: uuid.UUID | None,
) -> Message:
    """A message, and its translation for the other side queued unless both speak the same
    language (then the text is its own translation)."""
    if author == "customer":
        locale, other = conversation.customer_locale, conversation.agent_locale
    else:
        locale, other = conversation.agent_locale, conversation.customer_locale
    message = Message(
        tenant_id=conversation.tenant_id,
        conversation_id=conversation.id,
        author=author,
        author_member_id=member_id,
        text=text,
        locale=locale,
        translated_locale=other,
    )
    if language_of(locale) == language_of(other):
        message.translation_status, message.translated_text = "not_needed", text
    else:
        message.translation_status = "queued"
    session.add(message)
    return message


async def _retryable(
    session: AsyncSession, tenant_id: uuid.UUID, status: str, job_id: uuid.UUID | None
) -> bool:
    """Failed or blocked, or still queued behind a job the sweeper gave up on."""
    if status in ("failed", "blocked"):
        return True
    if status != "queued" or job_id is None:
        return False
    job = await session.get(Job, (tenant_id, job_id))
    return job is not None and job.status in ("failed", "cancelled")


async def _queue_translation(
    session: AsyncSession, queue: ArqRedis, settings: Settings, message: Message
) -> None:
    await session.flush()  # the message id
    if message.translation_status == "queued":
        job = _queue_job(
            session, queue, settings, tenant_id=message.tenant_id, kind=MESSAGE_KIND,
            params={"message_id": str(message.id)},
        )  # fmt: skip
        message.job_id = job.id
        await session.flush()


async def _by_external_id(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str
) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(
            Conversation.tenant_id == tenant_id, Conversation.external_id == external_id
        )
    )


async def _replayed(
    session: AsyncSession, conversation: Conversation, data: ConversationIn
) -> Conversation:
    first = await session.scalar(
        select(Message)
        .where(
            Message.tenant_id == conversation.tenant_id,
            Message.conversation_id == conversation.id,
        )
        .order_by(Message.id)
        .limit(1)
    )
    if first is None or first.text != data.customer_message.strip():
        raise ConversationExists(params={"id": conversation.id}, extra={"id": str(conversation.id)})
    return conversation


async def create_conversation(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    actor: Principal,
    data: ConversationIn,
) -> tuple[Conversation, bool]:
    """A conversation with the customer's first message. Returns (conversation, created): the
    same external_id with the same first message returns the existing one."""
    external_id = data.external_id.strip()
    text = data.customer_message.strip()
    errors: list[FieldError] = []
    if not external_id:
        errors.append(_blank("external_id"))
    if not text:
        errors.append(_blank("customer_message"))
    agent_locale = _locale("agent_locale", data.agent_locale, errors)
    given = None
    if data.customer_locale:
        given = _locale("customer_locale", data.customer_locale, errors)
    errors += await _known_skus(session, tenant_id, data.skus)
    if errors:
        raise ValidationFailed(errors=errors)
    existing = await _by_external_id(session, tenant_id, external_id)
    if existing is not None:
        return await _replayed(session, existing, data), False

    tenant = await _tenant(session, tenant_id)
    language = decide_language(
        text, given, tenant.source_locale, settings.support_detection_min_confidence
    )
    conversation = Conversation(
        tenant_id=tenant_id,
        external_id=external_id,
        customer_locale=language.locale,
        customer_locale_origin=language.origin,
        detected_language=language.detected.code if language.detected else None,
        detection_confidence=round(language.detected.confidence, 4) if language.detected else None,
        agent_locale=agent_locale,
        skus=list(dict.fromkeys(s.strip() for s in data.skus)),
        created_by_key=actor.key_id,
    )
    try:
        async with session.begin_nested():
            session.add(conversation)
            await session.flush()
    except IntegrityError:
        # the same external_id raced us; the other request's conversation wins
        existing = await _by_external_id(session, tenant_id, external_id)
        if existing is None:
            raise
        return await _replayed(session, existing, data), False
    message = _new_message(
        session, queue, settings, conversation, author="customer", text=text, member_id=None
    )
    await _queue_translation(session, queue, settings, message)
    return conversation, True


async def get_conversation(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID, *, lock: bool = False
) -> Conversation:
    query = select(Conversation).where(
        Conversation.tenant_id == tenant_id, Conversation.id == conversation_id
    )
    if lock:
        query = query.with_for_update()
    conversation = await session.scalar(query)
    if conversation is None:
        raise conversation_not_found(conversation_id)
    return conversation


async def add_message(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    actor: Principal,
    data: MessageIn,
) -> Message:
    """A further message. While the customer's language is only a fallback, a customer
    message detected with confidence settles it."""
    text = data.text.strip()
    if not text:
        raise ValidationFailed(errors=[_blank("text")])
    conversation = await get_conversation(session, tenant_id, conversation_id, lock=True)
    if data.author == "customer" and conversation.customer_locale_origin == "fallback":
        language = decide_language(
            text, None, conversation.customer_locale, settings.support_detection_min_confidence
        )
        if language.origin == "detected" and language.detected is not None:
            conversation.customer_locale = language.locale
            conversation.customer_locale_origin = "detected"
            conversation.detected_language = language.detected.code
            conversation.detection_confidence = round(language.detected.confidence, 4)
    conversation.updated_at = await transaction_time(session)
    message = _new_message(
        session, queue, settings, conversation, author=data.author, text=text,
        member_id=actor.member_id if data.author == "agent" else None,
    )  # fmt: skip
    await _queue_translation(session, queue, settings, message)
    return message


async def retry_message_translation(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
) -> Message:
    """Translate a message again whose translation failed or was blocked (a translation whose
    job the sweeper gave up on counts as failed)."""
    await get_conversation(session, tenant_id, conversation_id)
    message = await session.scalar(
        select(Message)
        .where(
            Message.tenant_id == tenant_id,
            Message.conversation_id == conversation_id,
            Message.id == message_id,
        )
        .with_for_update()
    )
    if message is None:
        raise message_not_found(message_id)
    if not await _retryable(session, tenant_id, message.translation_status, message.job_id):
        raise MessageNotRetryable(params={"status": message.translation_status})
    message.translation_status = "queued"
    message.translated_text = message.translation_error = None
    await _queue_translation(session, queue, settings, message)
    return message


async def list_conversations(
    session: AsyncSession, tenant_id: uuid.UUID, *, limit: int, cursor: str | None = None
) -> tuple[list[Conversation], str | None]:
    """Newest first, keyset paginated."""
    return await keyset_page(
        session,
        select(Conversation).where(Conversation.tenant_id == tenant_id),
        at=Conversation.created_at,
        row_id=Conversation.id,
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )


async def thread(
    session: AsyncSession, conversation: Conversation
) -> tuple[list[Message], list[ReplyDraft]]:
    """The conversation's messages and drafts, oldest first."""
    key = (conversation.tenant_id, conversation.id)
    messages = await session.scalars(
        select(Message)
        .where(Message.tenant_id == key[0], Message.conversation_id == key[1])
        .order_by(Message.id)
        .execution_options(populate_existing=True)
    )
    drafts = await session.scalars(
        select(ReplyDraft)
        .where(ReplyDraft.tenant_id == key[0], ReplyDraft.conversation_id == key[1])
        .order_by(ReplyDraft.id)
        .execution_options(populate_existing=True)
    )
    return list(messages), list(drafts)


# --- drafts ---------------------------------------------------------------------------------


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
    """Queue the draft's next run (a new revision: an older run's result is dropped)."""
    draft.status = "queued"
    draft.error = None
    draft.requested_at = await transaction_time(session)
    draft.finished_at = None
    draft.model_ms = None
    await session.flush()
    job = _queue_job(
        session, queue, settings, tenant_id=draft.tenant_id, kind=DRAFT_KIND,
        params={"draft_id": str(draft.id), "revision": draft.revision},
        idempotency_key=idempotency_key,
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
        status="queued",
        stage="draft",
        revision=1,
        instructions=(instructions or "").strip() or None,
        agent_locale=conversation.agent_locale,
        customer_locale=conversation.customer_locale,
        requested_by=actor.member_id,
        policies_used=[],
        products_used=[],
        qa_issues=[],
    )
    session.add(draft)
    await session.flush()
    await _run_draft(session, queue, settings, draft, idempotency_key=idempotency_key)
    return draft, True


def _refuse_unless_editable(draft: ReplyDraft) -> None:
    if draft.status == "sent":
        raise DraftAlreadySent()
    if draft.status == "queued":
        raise DraftBusy()


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
        raise ValidationFailed(errors=[_blank("agent_text")])
    if actor.member_id is None:
        # four-eyes needs to know who wrote a reply that may turn out legal
        raise IntegrationKeyCannotEditLegal()
    draft = await get_draft(session, tenant_id, conversation_id, draft_id, lock=True)
    _refuse_unless_editable(draft)
    before = _draft_state(draft)
    draft.agent_text = text
    draft.customer_text = None
    draft.qa_issues = []
    draft.stage = "translate"
    draft.revision += 1
    draft.approved_by = None
    draft.approved_at = None
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
    if not await _retryable(session, tenant_id, draft.status, draft.job_id):
        raise DraftNotRetryable(params={"status": draft.status})
    if instructions is not None and instructions.strip():
        draft.instructions = instructions.strip()
        draft.stage = "draft"
    if draft.stage == "draft" and draft.edited_by is None:
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
    if draft.status != "needs_approval":
        raise DraftNotAwaitingApproval(params={"status": draft.status})
    if reviewed_text is not None and reviewed_text != draft.customer_text:
        raise TargetChanged()
    before = _draft_state(draft)
    draft.status = "approved"
    draft.approved_by = actor.member_id
    draft.approved_at = await transaction_time(session)
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
    if draft.status == "needs_approval":
        raise DraftNeedsApproval()
    if draft.status == "sent":
        raise DraftAlreadySent()
    if draft.status not in ("ready", "approved"):
        raise DraftNotReady(params={"status": draft.status})
    assert draft.customer_text is not None
    assert draft.agent_text is not None
    before = _draft_state(draft)
    now = await transaction_time(session)
    draft.status = "sent"
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
            translation_status="translated"
            if draft.customer_text != draft.agent_text
            else "not_needed",
            draft_id=draft.id,
        )
    )
    await session.flush()
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="reply_draft.sent",
        entity_type="reply_draft", entity_id=draft.id, before=before, after=_draft_state(draft),
    )  # fmt: skip
    return draft
