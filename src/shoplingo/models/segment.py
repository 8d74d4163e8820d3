from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shoplingo.models.base import Base, TenantScoped, TimestampMixin

SEGMENT_STATUSES = (
    "queued",
    "translating",
    "machine_translated",
    "needs_review",
    "approved",
    "rejected",
    "published",
    "stale",
    "failed",
    "blocked",
)


class Segment(TenantScoped, TimestampMixin, Base):
    """One translatable text of a product (or variant) in one target locale.

    Postgres is the queue of record: a translation run inserts ``queued`` segments and workers
    claim them; ``translation.states`` owns every status change.
    """

    __tablename__ = "segments"
    __table_args__ = (
        CheckConstraint(f"status IN {SEGMENT_STATUSES!r}", name="status"),
        CheckConstraint("owner_kind IN ('product', 'variant')", name="owner_kind"),
        # the last line of the review gate: legal text is published only with an approval (and
        # the deferred trigger legal_gate_segments of migration 0013 checks that approval)
        CheckConstraint(
            "NOT legal OR status <> 'published' OR approved_at IS NOT NULL",
            name="legal_published_approved",
        ),
        UniqueConstraint("tenant_id", "owner_kind", "owner_id", "field", "target_locale"),
        Index("ix_segments_tenant_id_job_id_status", "tenant_id", "job_id", "status"),
        # workers and the sweeper look only at unfinished segments
        Index(
            "ix_segments_tenant_id_status_queued_at",
            "tenant_id",
            "status",
            "queued_at",
            postgresql_where="status IN ('queued', 'translating')",
        ),
        # the review queue (GET /v1/reviews): by status, oldest first
        Index("ix_segments_tenant_id_status_created_at", "tenant_id", "status", "created_at", "id"),
        # an approval finds the other unpublished segments of its text (the storefront then
        # serves them the approved text: the change log must name their products)
        Index(
            "ix_segments_tenant_id_source_hash_unpublished",
            "tenant_id",
            "source_hash",
            postgresql_where="status <> 'published'",
        ),
    )

    owner_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    # title, description_html, seo_title, seo_description, tags, attributes.<name>,
    # legal.<name>, options.<n>.name, options.<n>.value
    field: Mapped[str] = mapped_column(String(160), nullable=False)
    source_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    target_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    source_text: Mapped[str] = mapped_column(Text, nullable=False)
    source_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    target_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="queued")
    legal: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    legal_reason: Mapped[str | None] = mapped_column(Text)
    qa_issues: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default="[]"
    )
    # instruction for the next machine translation (a reviewer's rejection comment)
    instruction: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(80))
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    # the translation run that last queued this segment
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # set when a worker claims the segment; a claim older than the lease is taken over
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    translated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the member whose edit the target text is (four-eyes: they cannot approve it)
    last_edited_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    last_edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SegmentApproval(TenantScoped, Base):
    """An approved translation of a source text (kept when the segment moves on), so a read
    can serve the last approved text for the same source while a new one waits for review.

    Append-only, and the database's legal gate (migration 0013): a row is inserted only for its
    segment's current text by an active reviewer or owner other than the last editor; a
    published legal segment needs one of its own for the SHA-256 of its current text."""

    __tablename__ = "segment_approvals"
    __table_args__ = (
        CheckConstraint(
            "text_sha256 = encode(sha256(convert_to(target_text, 'UTF8')), 'hex')",
            name="text_sha256",
        ),
        Index(
            "ix_segment_approvals_tenant_id_source_hash",
            "tenant_id",
            "source_locale",
            "target_locale",
            "source_hash",
            "approved_at",
        ),
        Index("ix_segment_approvals_tenant_id_segment_id", "tenant_id", "segment_id"),
    )

    segment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    source_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    target_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    source_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    target_text: Mapped[str] = mapped_column(Text, nullable=False)
    # core.text.text_sha256(target_text): what the approver saw, byte for byte
    text_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    approved_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    approved_key_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    approved_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class TranslationMemory(TenantScoped, TimestampMixin, Base):
    """Earlier translations, reused verbatim on an exact match and as examples when similar."""

    __tablename__ = "translation_memory"
    __table_args__ = (
        CheckConstraint("origin IN ('machine', 'human')", name="origin"),
        UniqueConstraint("tenant_id", "source_locale", "target_locale", "source_hash", "origin"),
        # nearest-first (KNN) trigram search within a tenant's language pair
        Index(
            "ix_translation_memory_source_text_trgm",
            "tenant_id",
            "source_locale",
            "target_locale",
            "source_text",
            postgresql_using="gist",
            postgresql_ops={"source_text": "gist_trgm_ops"},
        ),
    )

    source_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    target_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    # hash of the normalized source (see translation.memory.normalize)
    source_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    source_text: Mapped[str] = mapped_column(Text, nullable=False)
    target_text: Mapped[str] = mapped_column(Text, nullable=False)
    origin: Mapped[str] = mapped_column(String(10), nullable=False)
    approved: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")


class TokenUsage(TenantScoped, Base):
    """What the model was paid for, one row per segment per translation attempt, written as
    soon as the calls come back: whatever becomes of the claim (taken back, saved by another
    worker), the tokens are counted. Translation-memory reuses are rows with no tokens."""

    __tablename__ = "token_usage"
    __table_args__ = (
        Index("ix_token_usage_tenant_id_job_id", "tenant_id", "job_id"),
        Index("ix_token_usage_tenant_id_created_at", "tenant_id", "created_at"),
    )

    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    segment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    model: Mapped[str | None] = mapped_column(String(80))
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    completion_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
