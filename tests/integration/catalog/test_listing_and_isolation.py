"""Cursor pagination, delta sync and tenant isolation on every product route."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.tenants import TenantCtx


async def _seed(client: AsyncTestClient[Litestar], tenant: TenantCtx, count: int) -> list[str]:
    skus = [f"SKU-{i:03d}" for i in range(count)]
    for sku in skus:
        response = await client.put(
            f"/v1/products/{sku}", json={"title": sku}, headers=tenant.headers
        )
        assert response.status_code == 201
    return skus


async def test_cursor_pagination_walks_every_product_once(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    skus = await _seed(client, tenant, 7)
    seen: list[str] = []
    pages = 0
    url = "/v1/products?limit=3"
    while True:
        page = (await client.get(url, headers=tenant.headers)).json()
        pages += 1
        seen += [p["sku"] for p in page["items"]]
        if page["next_cursor"] is None:
            break
        url = f"/v1/products?limit=3&cursor={page['next_cursor']}"
    assert pages == 3
    assert seen == skus  # oldest change first, no duplicates, nothing missing


async def test_updated_since_returns_only_later_changes(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    await _seed(client, tenant, 3)
    last = (await client.get("/v1/products", headers=tenant.headers)).json()["items"][-1]
    await asyncio.sleep(0.01)
    await client.patch("/v1/products/SKU-000", json={"title": "changed"}, headers=tenant.headers)
    response = await client.get(
        "/v1/products", params={"updated_since": last["updated_at"]}, headers=tenant.headers
    )
    assert [p["sku"] for p in response.json()["items"]] == ["SKU-000"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("updated_since=yesterday", "updated_since"),
    ],
)
async def test_bad_listing_parameters_are_named(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, query: str, field: str
) -> None:
    response = await client.get(f"/v1/products?{query}", headers=tenant.headers)
    assert response.status_code in (400, 422)
    assert response.json()["errors"][0]["field"] == field


async def test_another_tenants_product_is_a_404_on_every_route(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await client.put("/v1/products/SECRET", json={"title": "Theirs"}, headers=other_tenant.headers)
    h = tenant.headers

    assert (await client.get("/v1/products/SECRET", headers=h)).status_code == 404
    assert (
        await client.patch("/v1/products/SECRET", json={"title": "x"}, headers=h)
    ).status_code == 404
    assert (await client.delete("/v1/products/SECRET", headers=h)).status_code == 404
    listed = (await client.get("/v1/products?include_deleted=true", headers=h)).json()["items"]
    assert "SECRET" not in [p["sku"] for p in listed]

    # the same SKU in our tenant is a different product
    ours = await client.put("/v1/products/SECRET", json={"title": "Ours"}, headers=h)
    assert ours.status_code == 201
    theirs = await client.get("/v1/products/SECRET", headers=other_tenant.headers)
    assert theirs.json()["title"] == "Theirs"
    assert theirs.json()["deleted_at"] is None
