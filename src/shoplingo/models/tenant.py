from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shoplingo.ids import uuid7
from shoplingo.models.base import Base, TenantScoped, TimestampMixin

ROLES = ("owner", "editor", "reviewer", "agent")


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
