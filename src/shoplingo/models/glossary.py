from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shoplingo.models.base import Base, TenantScoped, TimestampMixin

TERM_KINDS = ("translate", "keep", "forbidden")


class GlossaryTerm(TenantScoped, TimestampMixin, Base):
    """One glossary entry of a tenant, written in the tenant's source language.

    ``targets`` maps a locale (``de`` or ``de-DE``; the most specific one wins) to
    ``{"text": ..., "variants": [...]}``: for ``translate`` the required target and its allowed
    inflected forms, for ``forbidden`` the words that must not appear in that locale. ``keep``
    terms have no targets: they appear verbatim in every translation. Every change bumps
    ``tenants.glossary_version``.
    """

    __tablename__ = "glossary_terms"
    __table_args__ = (
        CheckConstraint(f"kind IN {TERM_KINDS!r}", name="kind"),
        UniqueConstraint("tenant_id", "kind", "term"),
    )

    term: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    case_sensitive: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    targets: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    note: Mapped[str | None] = mapped_column(Text)
    # everyone who wrote it (four-eyes: a target is their words), keys no person made left out
    writers: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"
    )
