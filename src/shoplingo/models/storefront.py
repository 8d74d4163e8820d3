"""Storefront delivery: version counters, the change log, and webhook endpoints/deliveries.

``storefront_versions`` and ``storefront_changes`` are written only by database triggers on
segments, products and tenants (see the 0006 migration), so every code path that publishes,
withdraws or edits served text is seen without knowing about the storefront.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shoplingo.models.base import Base, TenantScoped, TimestampMixin

# locale of a change that affects every locale (source text, price, a product deleted)
ALL_LOCALES = "*"
CHANGE_KINDS = ("published", "withdrawn", "product", "deleted")
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class StorefrontVersion(Base):
    """A counter per tenant and locale (``*``: the catalog itself), bumped by every change of
    what the storefront serves; ETags are derived from it."""

    __tablename__ = "storefront_versions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class StorefrontChange(Base):
    """One product whose served content changed in one locale (``*``: every locale).

    ``txid`` is the writing transaction's id: readers only return rows of transactions older
    than every transaction still running, so a feed position never skips a late commit.
    """

    __tablename__ = "storefront_changes"
    __table_args__ = (
        CheckConstraint(f"kind IN {CHANGE_KINDS!r}", name="kind"),
        Index("ix_storefront_changes_tenant_id_txid_id", "tenant_id", "txid", "id"),
        Index(
            "ix_storefront_changes_tenant_id_product_id_changed_at",
            "tenant_id",
            "product_id",
            "changed_at",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, nullable=False)
    locale: Mapped[str] = mapped_column(String(35), nullable=False)
    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    sku: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class WebhookEndpoint(TenantScoped, TimestampMixin, Base):
    """Where a tenant wants events POSTed, signed with ``secret`` (HMAC-SHA256)."""

    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(60)), nullable=False)
    # a shared secret: the signature needs it in clear, so it is stored as is
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    # change-log position up to which events were created: (txid, id)
    cursor_txid: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    cursor_id: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class WebhookDelivery(TenantScoped, TimestampMixin, Base):
    """One event for one endpoint; the last attempt's outcome (each attempt's is a
    :class:`WebhookDeliveryAttempt`)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
        ForeignKeyConstraint(
            ["tenant_id", "endpoint_id"],
            ["webhook_endpoints.tenant_id", "webhook_endpoints.id"],
            ondelete="CASCADE",
        ),
        Index(
            "ix_webhook_deliveries_tenant_id_endpoint_id_created_at",
            "tenant_id",
            "endpoint_id",
            "created_at",
        ),
        # the sweeper's scan: few deliveries are ever pending
        Index(
            "ix_webhook_deliveries_pending",
            "status",
            "next_attempt_at",
            postgresql_where="status = 'pending'",
        ),
    )

    endpoint_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    event_type: Mapped[str] = mapped_column(String(60), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDeliveryAttempt(Base):
    """One POST of a delivery (or its refusal): when, how long, the answer's status, the error."""

    __tablename__ = "webhook_delivery_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "delivery_id"],
            ["webhook_deliveries.tenant_id", "webhook_deliveries.id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # 1 for the first attempt
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
