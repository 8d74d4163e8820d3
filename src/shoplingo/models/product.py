from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shoplingo.models.base import Base, TenantScoped, TimestampMixin


class Product(TenantScoped, TimestampMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku"),
        # keyset pagination and delta sync walk this index
        Index("ix_products_tenant_id_updated_at_id", "tenant_id", "updated_at", "id"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("compare_at_price >= 0", name="compare_at_price_not_negative"),
    )

    sku: Mapped[str] = mapped_column(String(255), nullable=False)
    source_locale: Mapped[str] = mapped_column(String(35), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description_html: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    seo_title: Mapped[str | None] = mapped_column(Text)
    seo_description: Mapped[str | None] = mapped_column(Text)
    # a short summary shown beside the price (WooCommerce's "Short description"); HTML
    short_description: Mapped[str | None] = mapped_column(Text)
    vendor: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    attributes: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # legal field name (warranty, safety_warning, ...) -> text; the review gate keys on these
    legal: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, server_default="{}")
    price: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    # the price before a sale ("was"): WooCommerce's regular price beside a sale price
    compare_at_price: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    # false: a draft or archived product, never served on the storefront and translated
    # only when a job names its SKU
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    # SHA-256 (hex) of everything the seller sent; an upsert skips rows whose hash is unchanged
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # hash of the raw import row this product last came from; a re-import of an identical row
    # is skipped before validation. Any other write clears it.
    import_fingerprint: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    variants: Mapped[list[Variant]] = relationship(
        back_populates="product",
        order_by="Variant.position",
        cascade="all, delete-orphan",
        lazy="selectin",
        passive_deletes=True,
    )


class Variant(TenantScoped, TimestampMixin, Base):
    __tablename__ = "variants"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["products.tenant_id", "products.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("tenant_id", "product_id", "position"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    sku: Mapped[str | None] = mapped_column(String(255))
    # [{"name": "Size", "value": "M"}, ...] in the seller's option order
    options: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default="[]"
    )
    price: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))

    product: Mapped[Product] = relationship(back_populates="variants")
