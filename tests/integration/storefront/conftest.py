"""Storefront fixtures: a shop with several target locales, publishable keys, and segments
written the way the translation pipeline leaves them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.core.db import create_engine, create_sessionmaker, transaction
from shoplingo.settings import Settings
from shoplingo.storefront.cache import CHANNEL, Storefront, asyncpg_dsn
from shoplingo.tenants import service as tenants
from tests.conftest import TenantCtx

TARGETS = ["de", "de-DE", "es-419", "es", "zh-Hant", "fr-FR", "ar"]


@dataclass(frozen=True)
class Shop:
    tenant: TenantCtx
    public_key: str

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.headers

    @property
    def reader(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.public_key}"}


async def create_shop(
    settings: Settings, client: AsyncTestClient[Litestar], targets: list[str] = TARGETS
) -> Shop:
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            tenant, owner, created = await tenants.create_tenant(
                session,
                name=f"Storefront {uuid.uuid4().hex[:6]}",
                source_locale="en-US",
                target_locales=targets,
            )
    finally:
        await engine.dispose()
    ctx = TenantCtx(id=tenant.id, owner_id=owner.id, key=created.plaintext)
    response = await client.post(
        "/v1/keys",
        json={"name": "plugin", "scopes": ["storefront:read"], "publishable": True},
        headers=ctx.headers,
    )
    assert response.status_code == 201, response.text
    return Shop(tenant=ctx, public_key=response.json()["key"])


@pytest.fixture
async def shop(settings: Settings, client: AsyncTestClient[Litestar]) -> Shop:
    return await create_shop(settings, client)


@pytest.fixture
async def raw(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection (autocommit): each statement commits as the workers' do."""
    conn = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    yield conn
    await conn.close()


async def put_product(
    client: AsyncTestClient[Litestar], shop: Shop, sku: str, **body: Any
) -> dict[str, Any]:
    payload = {"title": f"{sku} title", "price": "12.99", "currency": "EUR", **body}
    response = await client.put(f"/v1/products/{sku}", json=payload, headers=shop.admin)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def owner_ids(
    raw: asyncpg.Connection, shop: Shop, sku: str
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    product_id = await raw.fetchval(
        "SELECT id FROM products WHERE tenant_id = $1 AND sku = $2", shop.tenant.id, sku
    )
    variants = await raw.fetch(
        "SELECT id FROM variants WHERE tenant_id = $1 AND product_id = $2 ORDER BY position",
        shop.tenant.id,
        product_id,
    )
    return product_id, [v["id"] for v in variants]


async def put_segment(
    raw: asyncpg.Connection,
    shop: Shop,
    sku: str,
    field: str,
    locale: str,
    text: str,
    *,
    status: str = "published",
    legal: bool = False,
    approved: bool = False,
    variant: int | None = None,
) -> None:
    """A segment as the pipeline (or a reviewer) leaves it; updates it when it exists."""
    product_id, variants = await owner_ids(raw, shop, sku)
    owner_kind, owner_id = (
        ("product", product_id) if variant is None else ("variant", variants[variant])
    )
    await raw.execute(
        """
        INSERT INTO segments AS s (tenant_id, id, owner_kind, owner_id, field, source_locale,
            target_locale, source_text, source_hash, target_text, status, legal, approved_at,
            published_at)
        VALUES ($1, uuid7(), $2, $3, $4, 'en-US', $5, 'src', 'h', $6, $7::text, $8,
                CASE WHEN $9 THEN now() END, CASE WHEN $7::text = 'published' THEN now() END)
        ON CONFLICT (tenant_id, owner_kind, owner_id, field, target_locale) DO UPDATE SET
            target_text = EXCLUDED.target_text, status = EXCLUDED.status,
            legal = EXCLUDED.legal, approved_at = EXCLUDED.approved_at, updated_at = now()
        """,
        shop.tenant.id,
        owner_kind,
        owner_id,
        field,
        locale,
        text,
        status,
        legal,
        approved,
    )


async def synced(client: AsyncTestClient[Litestar], settings: Settings | None = None) -> None:
    """Wait until every notification committed so far has reached the app (Storefront.seen).

    The app runs in the test client's own thread and loop; this sends a marker through
    PostgreSQL and waits for the app to see it."""
    storefront: Storefront = client.app.state.storefront
    token = uuid.uuid4().hex
    conn = await asyncpg.connect(storefront.dsn)
    try:
        await conn.execute(f"NOTIFY {CHANNEL}, 'sync:{token}'")
    finally:
        await conn.close()
    for _ in range(1000):
        if storefront.seen(token):
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the storefront did not receive the notification within 5 s")
