"""Customer support: the tenant's policies, conversations with their messages, reply drafts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shoplingo.models.base import Base, TenantScoped, TimestampMixin

LOCALE_ORIGINS = ("given", "detected", "fallback")
MESSAGE_AUTHORS = ("customer", "agent")
TRANSLATION_STATUSES = ("queued", "translated", "not_needed", "failed", "blocked")
DRAFT_STATUSES = ("queued", "ready", "needs_approval", "approved", "sent", "failed", "blocked")
DRAFT_STAGES = ("draft", "translate")


class SupportPolicy(TenantScoped, TimestampMixin, Base):
    """A named snippet drafts are grounded on (shipping times, return window, warranty terms);
    ``legal`` and its reason come from the tenant's legal rules."""

    __tablename__ = "support_policies"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    locale: Mapped[str] = mapped_column(String(35), nullable=False)
    legal: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    legal_reason: Mapped[str | None] = mapped_column(Text)


class Conversation(TenantScoped, TimestampMixin, Base):
    """A customer's thread, known to the helpdesk as ``external_id`` (unique per tenant)."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(f"customer_locale_origin IN {LOCALE_ORIGINS!r}", name="locale_origin"),
        UniqueConstraint("tenant_id", "external_id"),
        Index("ix_conversations_tenant_id_created_at", "tenant_id", "created_at", "id"),
    )

    external_id: Mapped[str] = mapped_column(String(255), nullable=False)
    customer_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    # given by the caller, detected from the customer's words, or a fallback (the shop's
    # source locale) while detection was not confident
    customer_locale_origin: Mapped[str] = mapped_column(String(10), nullable=False)
    # lingua's best guess for the message the locale was decided on (ISO 639-1) and its
    # confidence (0..1); null when the caller gave the locale
    detected_language: Mapped[str | None] = mapped_column(String(8))
    detection_confidence: Mapped[float | None] = mapped_column(Float)
    agent_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    skus: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    created_by_key: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class Message(TenantScoped, TimestampMixin, Base):
    """One message of a conversation and its translation for the other side (a customer's
    into the agent's language, an agent's into the customer's)."""

    __tablename__ = "messages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "conversation_id"],
            ["conversations.tenant_id", "conversations.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint(f"author IN {MESSAGE_AUTHORS!r}", name="author"),
        CheckConstraint(f"translation_status IN {TRANSLATION_STATUSES!r}", name="translation"),
        Index("ix_messages_tenant_id_conversation_id", "tenant_id", "conversation_id", "id"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    author: Mapped[str] = mapped_column(String(10), nullable=False)
    # the member who wrote an agent message (or sent the draft it came from)
    author_member_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    text: Mapped[str] = mapped_column(Text, nullable=False)
    locale: Mapped[str] = mapped_column(String(35), nullable=False)
    translated_text: Mapped[str | None] = mapped_column(Text)
    translated_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    translation_status: Mapped[str] = mapped_column(String(12), nullable=False)
    translation_error: Mapped[str | None] = mapped_column(Text)
    # the reply draft this agent message was sent from
    draft_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class ReplyDraft(TenantScoped, TimestampMixin, Base):
    """A drafted reply: written in the agent's language, translated into the customer's, checked
    (glossary, QA, legal) and sent once it may be (legal text only after a second person's
    approval). ``revision`` grows with every request, edit and retry: a worker saves its
    result only for the revision it worked on."""

    __tablename__ = "reply_drafts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "conversation_id"],
            ["conversations.tenant_id", "conversations.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint(f"status IN {DRAFT_STATUSES!r}", name="status"),
        CheckConstraint(f"stage IN {DRAFT_STAGES!r}", name="stage"),
        # the gate's last line: legal text is sent only with an approval (and the deferred
        # trigger legal_gate_drafts of migration 0013 checks approver and approved text)
        CheckConstraint(
            "NOT legal OR status <> 'sent' OR approved_at IS NOT NULL", name="legal_sent_approved"
        ),
        Index("ix_reply_drafts_tenant_id_conversation_id", "tenant_id", "conversation_id", "id"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="queued")
    # what the worker does next: draft the reply (then translate it), or only translate it
    stage: Mapped[str] = mapped_column(String(10), nullable=False, server_default="draft")
    revision: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    instructions: Mapped[str | None] = mapped_column(Text)
    agent_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    customer_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    agent_text: Mapped[str | None] = mapped_column(Text)
    customer_text: Mapped[str | None] = mapped_column(Text)
    # [{"id", "name"}] and [{"sku", "title"}] the reply was grounded on
    policies_used: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default="[]"
    )
    products_used: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default="[]"
    )
    qa_issues: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default="[]"
    )
    legal: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    legal_reason: Mapped[str | None] = mapped_column(Text)
    # why the draft failed or was blocked
    error: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(80))
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # time spent waiting on the model for the last run (the rest is ours)
    model_ms: Mapped[int | None] = mapped_column(Integer)
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    requested_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    edited_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # core.text.text_sha256(customer_text) as approved: the text the customer may be sent
    approved_text_sha256: Mapped[str | None] = mapped_column(String(64))
    sent_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # when the current run was asked for and when the worker finished it
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
