from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shoplingo.models.base import Base, TenantScoped, TimestampMixin

ISSUED_VIA = ("api", "cli", "invitation")


class ApiKey(TenantScoped, TimestampMixin, Base):
    """A bearer credential. Only a SHA-256 of the secret is stored; ``prefix`` is public.

    A key acting for a member (``member_id``) is that person's own: made through the API by the
    member themselves, or issued to them through the CLI or an invitation they redeemed. The
    database refuses any other live member key, whatever writes it."""

    __tablename__ = "api_keys"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            ondelete="CASCADE",
        ),
        # Authentication looks a key up by its prefix before the tenant is known, so this is
        # the one index that cannot lead with tenant_id (a reference table under Citus).
        Index("uq_api_keys_prefix", "prefix", unique=True),
        CheckConstraint(f"issued_via IN {ISSUED_VIA!r}", name="issued_via"),
        CheckConstraint(
            "member_id IS NULL OR revoked_at IS NOT NULL OR issued_via IN ('cli', 'invitation') "
            "OR created_by = member_id",
            name="acts_for_its_maker",
        ),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    prefix: Mapped[str] = mapped_column(String(32), nullable=False)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False)
    member_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # a storefront key, safe to embed in a web page: storefront:read only, sl_pub_ in clear
    publishable: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    issued_via: Mapped[str] = mapped_column(String(20), nullable=False, server_default="api")
    # the member whose key made this one through the API (None: an integration key, the CLI)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
