"""A translated catalog with legal text waiting for review, and the people who review it."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.review import PRODUCT, Shop, translate
from tests.fixtures.tenants import Person, TenantCtx, add_member


@pytest.fixture
async def shop(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, llm_settings: Settings
) -> Shop:
    response = await client.put("/v1/products/TEE", json=PRODUCT, headers=tenant.headers)
    assert response.status_code == 201, response.text
    await translate(client, tenant, llm_settings)
    sync = await client.post(
        "/v1/keys",
        json={"name": "catalog sync", "scopes": ["catalog:read", "translations:write"]},
        headers=tenant.headers,
    )
    assert sync.status_code == 201, sync.text
    return Shop(
        tenant=tenant,
        settings=llm_settings,
        owner=Person(id=str(tenant.owner_id), key=tenant.key),
        rita=await add_member(client, tenant, "Rita", "reviewer"),
        rolf=await add_member(client, tenant, "Rolf", "reviewer"),
        eddie=await add_member(client, tenant, "Eddie", "editor"),
        sync=Person(id=sync.json()["id"], key=sync.json()["key"]),
    )
