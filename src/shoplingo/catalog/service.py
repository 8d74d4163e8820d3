"""Products: create/replace, patch, soft delete, keyset listing. Never commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.catalog.changes import source_changed
from shoplingo.catalog.validation import ProductData, validate_product
from shoplingo.core.errors import NotFound, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.pagination import keyset_page
from shoplingo.models import Product, Tenant, Variant


def product_not_found(sku: str) -> NotFound:
    return NotFound(
        N_("Product {sku} was not found."), code="product_not_found", params={"sku": sku}
    )


async def tenant_source_locale(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    locale = await session.scalar(select(Tenant.source_locale).where(Tenant.id == tenant_id))
    if locale is None:
        raise NotFound(
            N_("Tenant {id} was not found."), code="tenant_not_found", params={"id": tenant_id}
        )
    return locale


async def get_product(
    session: AsyncSession, tenant_id: uuid.UUID, sku: str, *, include_deleted: bool = False
) -> Product:
    query = select(Product).where(Product.tenant_id == tenant_id, Product.sku == sku)
    if not include_deleted:
        query = query.where(Product.deleted_at.is_(None))
    product = await session.scalar(query)
    if product is None:
        raise product_not_found(sku)
    return product


def _raw_from_product(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "source_locale": product.source_locale,
        "title": product.title,
        "description_html": product.description_html,
        "seo_title": product.seo_title,
        "seo_description": product.seo_description,
        "vendor": product.vendor,
        "tags": list(product.tags),
        "attributes": dict(product.attributes),
        "legal": dict(product.legal),
        "price": product.price,
        "currency": product.currency,
        "short_description": product.short_description,
        "compare_at_price": product.compare_at_price,
        "published": product.published,
        "variants": [
            {"sku": v.sku, "options": list(v.options), "price": v.price} for v in product.variants
        ],
    }


def validate_or_raise(raw: dict[str, Any], default_locale: str) -> ProductData:
    data, errors = validate_product(raw, default_locale=default_locale)
    if data is None:
        raise ValidationFailed(errors=errors)
    return data


def _apply(product: Product, data: ProductData, content_hash: str) -> None:
    product.source_locale = data.source_locale
    product.title = data.title
    product.description_html = data.description_html
    product.seo_title = data.seo_title
    product.seo_description = data.seo_description
    product.vendor = data.vendor
    product.tags = list(data.tags)
    product.attributes = data.attributes
    product.legal = data.legal
    product.price = data.price
    product.currency = data.currency
    product.short_description = data.short_description
    product.compare_at_price = data.compare_at_price
    product.published = data.published
    product.content_hash = content_hash
    product.import_fingerprint = None
    # Update in place by position: rows keep their ids, and no unique (product, position)
    # clash between an old row and its replacement within one flush.
    existing = list(product.variants)
    for position, v in enumerate(data.variants):
        options = [{"name": n, "value": val} for n, val in v.options]
        if position < len(existing):
            row = existing[position]
            row.sku, row.options, row.price = v.sku, options, v.price
        else:
            product.variants.append(
                Variant(
                    tenant_id=product.tenant_id,
                    position=position,
                    sku=v.sku,
                    options=options,
                    price=v.price,
                )
            )
    del product.variants[len(data.variants) :]


async def put_product(
    session: AsyncSession, tenant_id: uuid.UUID, sku: str, raw: dict[str, Any]
) -> tuple[Product, bool]:
    """Create or replace a product by SKU. Returns (product, created).

    An identical payload changes nothing (same version, same updated_at); a soft-deleted
    product is brought back, which is a creation (``created`` True: a 201) as the SKU did not
    exist for any reader.
    """
    data = validate_or_raise({**raw, "sku": sku}, await tenant_source_locale(session, tenant_id))
    return await save(session, tenant_id, data)


async def save(
    session: AsyncSession, tenant_id: uuid.UUID, data: ProductData
) -> tuple[Product, bool]:
    content_hash = data.content_hash()
    product = await session.scalar(
        select(Product)
        .where(Product.tenant_id == tenant_id, Product.sku == data.sku)
        .with_for_update()
    )
    if product is None:
        product = Product(tenant_id=tenant_id, sku=data.sku, version=1, variants=[])
        _apply(product, data, content_hash)
        session.add(product)
        await session.flush()
        await session.refresh(product)
        return product, True
    if product.content_hash == content_hash and product.deleted_at is None:
        return product, False
    revived = product.deleted_at is not None
    _apply(product, data, content_hash)
    product.version += 1
    product.deleted_at = None
    product.updated_at = func.now()
    await session.flush()
    await session.refresh(product)
    await source_changed(await session.connection(), tenant_id, [product.id])
    return product, revived


async def patch_product(
    session: AsyncSession, tenant_id: uuid.UUID, sku: str, changes: dict[str, Any]
) -> Product:
    product = await get_product(session, tenant_id, sku)
    raw = {**_raw_from_product(product), **changes, "sku": sku}
    data = validate_or_raise(raw, product.source_locale)
    saved, _ = await save(session, tenant_id, data)
    return saved


async def delete_product(session: AsyncSession, tenant_id: uuid.UUID, sku: str) -> None:
    product = await get_product(session, tenant_id, sku)
    product.deleted_at = func.now()
    product.updated_at = func.now()
    product.version += 1
    await session.flush()


async def list_products(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None = None,
    updated_since: datetime | None = None,
    include_deleted: bool = False,
) -> tuple[list[Product], str | None]:
    """Oldest change first, so a client can page to the end and keep its last cursor."""
    query = select(Product).where(Product.tenant_id == tenant_id)
    if not include_deleted:
        query = query.where(Product.deleted_at.is_(None))
    if updated_since is not None:
        query = query.where(Product.updated_at > updated_since)
    return await keyset_page(
        session, query, at=Product.updated_at, row_id=Product.id, limit=limit, cursor=cursor
    )
