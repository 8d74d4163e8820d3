"""Deleting many products at once: a list of SKUs, or every product a filter matches. Soft
deletes, exactly as a single DELETE (the storefront's triggers withdraw them); each SKU is
reported on its own. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.catalog.service import product_not_found
from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.errors import FieldError, NotFound, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.models import Product

MAX_ITEMS = 1000


@dataclass(frozen=True, slots=True)
class ProductFilter:
    sku_prefix: str | None = None
    vendor: str | None = None
    tag: str | None = None
    updated_before: datetime | None = None

    @property
    def empty(self) -> bool:
        return (self.sku_prefix, self.vendor, self.tag, self.updated_before) == (None,) * 4


@dataclass(frozen=True, slots=True)
class DeleteItem:
    sku: str
    error: NotFound | None = None

    @property
    def deleted(self) -> bool:
        return self.error is None


def check_selection(skus: Sequence[str] | None, wanted: ProductFilter | None) -> None:
    if (skus is None) == (wanted is None):
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="skus",
                    code="one_selection",
                    message=N_("Choose the products with exactly one of skus or filter."),
                )
            ]
        )
    if wanted is not None and wanted.empty:
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="filter",
                    code="required",
                    message=N_("Give at least one of sku_prefix, vendor, tag or updated_before."),
                )
            ]
        )


async def _soft_delete(
    session: AsyncSession, tenant_id: uuid.UUID, where: list[ColumnElement[bool]], actor: Principal
) -> list[str]:
    deleted = list(
        await session.scalars(
            update(Product)
            .where(Product.tenant_id == tenant_id, Product.deleted_at.is_(None), *where)
            .values(deleted_at=func.now(), updated_at=func.now(), version=Product.version + 1)
            .returning(Product.sku)
            .execution_options(synchronize_session=False)
        )
    )
    if deleted:
        audit.record(
            session,
            tenant_id=tenant_id,
            actor=actor,
            action="products.deleted",
            entity_type="catalog",
            entity_id=tenant_id,
            after={"count": len(deleted), "skus": sorted(deleted)[:MAX_ITEMS]},
        )
        await session.flush()
    return deleted


async def delete_skus(
    session: AsyncSession, tenant_id: uuid.UUID, skus: Sequence[str], actor: Principal
) -> list[DeleteItem]:
    """Each SKU once, in the order given: deleted, or not found (unknown, or already gone)."""
    wanted = list(dict.fromkeys(skus))
    deleted = set(await _soft_delete(session, tenant_id, [Product.sku.in_(wanted)], actor))
    return [
        DeleteItem(sku) if sku in deleted else DeleteItem(sku, product_not_found(sku))
        for sku in wanted
    ]


async def delete_matching(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    wanted: ProductFilter,
    actor: Principal,
    *,
    limit: int,
) -> tuple[list[DeleteItem], bool]:
    """Up to ``limit`` of the products the filter matches (oldest first); and whether more
    matched."""
    query = select(Product.id).where(Product.tenant_id == tenant_id, Product.deleted_at.is_(None))
    if wanted.sku_prefix is not None:
        query = query.where(Product.sku.startswith(wanted.sku_prefix, autoescape=True))
    if wanted.vendor is not None:
        query = query.where(Product.vendor == wanted.vendor)
    if wanted.tag is not None:
        query = query.where(Product.tags.contains([wanted.tag]))
    if wanted.updated_before is not None:
        query = query.where(Product.updated_at < wanted.updated_before)
    limit = max(1, min(limit, MAX_ITEMS))
    ids = list(await session.scalars(query.order_by(Product.id).limit(limit + 1).with_for_update()))
    deleted = await _soft_delete(session, tenant_id, [Product.id.in_(ids[:limit])], actor)
    return [DeleteItem(sku) for sku in sorted(deleted)], len(ids) > limit
