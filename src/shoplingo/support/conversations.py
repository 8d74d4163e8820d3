"""Conversations and their messages as the API changes them: the customer's language (given,
detected or the shop's fallback), inbound and outbound messages, and each message's
translation for the other side, done by a job (``support.jobs``).

Never commits: the request boundary does, and the translation job is enqueued after the
commit. The job is a ``jobs`` row first (the sweeper re-sends its message if Redis loses it).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.auth import Principal
from shoplingo.core.db import transaction_time
from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.jobs import create_job
from shoplingo.core.language import Detected, detect_language, language_of
from shoplingo.core.locales import InvalidLocaleError, canonical_locale
from shoplingo.core.pagination import keyset_page
from shoplingo.legal.classifier import tenant_classifier
from shoplingo.models import Conversation, Job, Message, Product, ReplyDraft
from shoplingo.settings import Settings
from shoplingo.support.errors import (
    ConversationExists,
    LegalTextNeedsApproval,
    blank,
    checked_locale,
    conversation_not_found,
    message_not_found,
)
from shoplingo.support.schemas import ConversationIn, MessageIn
from shoplingo.support.states import TranslationStatus, retried_translation
from shoplingo.tenants.service import get_tenant

MESSAGE_KIND = "support_message"
MESSAGE_FUNCTION = "support_translate_message"


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
        message.translation_status = TranslationStatus.NOT_NEEDED.value
        message.translated_text = text
    else:
        message.translation_status = TranslationStatus.QUEUED.value
    session.add(message)
    return message


async def _queue_translation(
    session: AsyncSession, queue: ArqRedis, settings: Settings, message: Message
) -> None:
    await session.flush()  # the message id
    if message.translation_status == TranslationStatus.QUEUED:
        job = create_job(
            session, queue, settings, tenant_id=message.tenant_id, kind=MESSAGE_KIND,
            function=MESSAGE_FUNCTION, params={"message_id": str(message.id)}, total=1,
            counts={},
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
        errors.append(blank("external_id"))
    if not text:
        errors.append(blank("customer_message"))
    agent_locale = checked_locale("agent_locale", data.agent_locale, errors)
    given = None
    if data.customer_locale:
        given = checked_locale("customer_locale", data.customer_locale, errors)
    errors += await _known_skus(session, tenant_id, data.skus)
    if errors:
        raise ValidationFailed(errors=errors)
    existing = await _by_external_id(session, tenant_id, external_id)
    if existing is not None:
        return await _replayed(session, existing, data), False

    tenant = await get_tenant(session, tenant_id)
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
    message = _new_message(session, conversation, author="customer", text=text, member_id=None)
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
        raise ValidationFailed(errors=[blank("text")])
    conversation = await get_conversation(session, tenant_id, conversation_id, lock=True)
    if data.author == "agent":
        await _refuse_legal_text(session, conversation, text)
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
        session, conversation, author=data.author, text=text,
        member_id=actor.member_id if data.author == "agent" else None,
    )  # fmt: skip
    await _queue_translation(session, queue, settings, message)
    return message


async def _refuse_legal_text(session: AsyncSession, conversation: Conversation, text: str) -> None:
    """An agent's message goes to the customer as it is (or translated): legal text in it goes
    through a reply draft instead, which a second person approves."""
    tenant = await get_tenant(session, conversation.tenant_id)
    reason = tenant_classifier(tenant.id, tenant).reason(
        "reply", text, conversation.agent_locale, conversation.customer_locale
    )
    if reason is not None:
        raise LegalTextNeedsApproval(
            params={"reason": reason, "id": conversation.id},
            errors=[
                FieldError(
                    field="text",
                    code="legal_text",
                    message=N_("Legal text ({reason}) needs a reviewer's approval."),
                    params={"reason": reason},
                )
            ],
        )


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
    job = await session.get(Job, (tenant_id, message.job_id)) if message.job_id else None
    message.translation_status = retried_translation(
        message.translation_status, job_status=job.status if job else None
    ).value
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
