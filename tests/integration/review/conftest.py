"""A translated catalog with legal text waiting for review, and the people who review it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.conftest import TenantCtx, drain_queue

PRODUCT: dict[str, Any] = {
    "title": "Organic cotton T-shirt",
    "description_html": "<p>Soft organic cotton.</p>",
    "attributes": {"Material": "Cotton", "Safety warning": "Keep away from fire."},
    "legal": {"warranty": "Two-year limited warranty."},
}


@dataclass(frozen=True)
class Person:
    id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass(frozen=True)
class Shop:
    tenant: TenantCtx
    settings: Settings
    owner: Person
    rita: Person  # reviewer
    rolf: Person  # reviewer
    eddie: Person  # editor
    sync: Person  # integration key (no member)


async def add_member(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, name: str, role: str, **extra: Any
) -> Person:
    response = await client.post(
        "/v1/members", json={"name": name, "role": role, **extra}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Person(id=body["id"], key=body["api_key"]["key"])


async def translate(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, settings: Settings, sku: str = "TEE"
) -> None:
    response = await client.post(
        "/v1/translation-jobs",
        json={"target_locales": ["de-DE"], "skus": [sku]},
        headers=tenant.headers,
    )
    assert response.status_code == 202, response.text
    await drain_queue(settings)


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


async def segments(
    client: AsyncTestClient[Litestar], shop: Shop, sku: str = "TEE"
) -> dict[str, dict[str, Any]]:
    """field -> segment as the product translations listing shows it (de-DE)."""
    response = await client.get(
        f"/v1/products/{sku}/translations",
        params={"locale": "de-DE"},
        headers=shop.tenant.headers,
    )
    assert response.status_code == 200, response.text
    return {s["field"]: s for s in response.json()["segments"]}
