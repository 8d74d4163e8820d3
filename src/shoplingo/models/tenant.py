from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shoplingo.ids import uuid7
from shoplingo.models.base import Base, TenantScoped, TimestampMixin

ROLES = ("owner", "editor", "reviewer", "agent")
# the roles whose members may approve legal text
APPROVER_ROLES = ("reviewer", "owner")


class Tenant(TimestampMixin, Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    source_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    target_locales: Mapped[list[str]] = mapped_column(
        ARRAY(String(35)), nullable=False, server_default="{}"
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # bumped by every glossary change: compiled matchers are cached per version
    glossary_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class Member(TenantScoped, TimestampMixin, Base):
    """A person working in a tenant; personal API keys point here so actions have an author."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
        # emails are stored lower-cased by the service
        UniqueConstraint("tenant_id", "email"),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # argon2id, set by the person when they redeem their invitation (None: not joined yet)
    password_hash: Mapped[str | None] = mapped_column(String(200))


class Invitation(TenantScoped, TimestampMixin, Base):
    """A single-use invitation for a member to set their password and get their own key. Only a
    SHA-256 of the token is stored; a newer invitation voids the member's older ones."""

    __tablename__ = "invitations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            ondelete="CASCADE",
        ),
        # redeeming looks the token up before the tenant is known (as api_keys' prefix)
        Index("uq_invitations_token_hash", "token_hash", unique=True),
        Index("ix_invitations_tenant_id_member_id", "tenant_id", "member_id"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    # the scopes of the key the person gets when they redeem it
    key_scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the member who invited (None: an integration key or the CLI)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
