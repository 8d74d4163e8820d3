"""Deleting many products at once, by SKU list or by a filter: each SKU reported on its own,
soft deletes like a single DELETE, and only the caller's own catalog."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.problems import refused
from tests.fixtures.tenants import TenantCtx

Client = AsyncTestClient[Litestar]


async def _put(client: Client, tenant: TenantCtx, sku: str, **body: Any) -> None:
    response = await client.put(
        f"/v1/products/{sku}", json={"title": f"Product {sku}", **body}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text


async def _live(client: Client, tenant: TenantCtx) -> set[str]:
    response = await client.get("/v1/products", params={"limit": 200}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {p["sku"] for p in response.json()["items"]}


async def test_deleting_a_list_of_skus_reports_each(
    client: Client, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    for sku in ("A-1", "A-2", "A-3"):
        await _put(client, tenant, sku)
    await _put(client, other_tenant, "B-1")

    response = await client.post(
        "/v1/products/bulk-delete",
        json={"skus": ["A-1", "A-2", "A-2", "NOPE", "B-1"]},
        headers={**tenant.headers, "Accept-Language": "de"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["deleted"], body["refused"], body["more"]) == (2, 2, False)
    items = {item["sku"]: item for item in body["items"]}
    assert list(items) == ["A-1", "A-2", "NOPE", "B-1"]
    assert items["A-1"]["deleted"] is True
    assert (items["NOPE"]["code"], items["NOPE"]["http_status"]) == ("product_not_found", 404)
    assert items["NOPE"]["detail"] != ""
    # another shop's product is not found here, and stays
    assert items["B-1"]["code"] == "product_not_found"
    assert await _live(client, other_tenant) == {"B-1"}

    assert await _live(client, tenant) == {"A-3"}
    assert (await client.get("/v1/products/A-1", headers=tenant.headers)).status_code == 404
    tombstones = await client.get(
        "/v1/products", params={"include_deleted": "true"}, headers=tenant.headers
    )
    gone = {p["sku"]: p for p in tombstones.json()["items"]}
    assert gone["A-1"]["deleted_at"] is not None
    # deleting again: already gone
    again = await client.post(
        "/v1/products/bulk-delete", json={"skus": ["A-1"]}, headers=tenant.headers
    )
    assert again.json()["items"][0]["code"] == "product_not_found"


async def test_deleting_by_a_filter(client: Client, tenant: TenantCtx) -> None:
    await _put(client, tenant, "OLD-1", vendor="Acme", tags=["winter"])
    await _put(client, tenant, "OLD-2", vendor="Acme", tags=["winter", "sale"])
    await _put(client, tenant, "OLD-3", vendor="Other", tags=["winter"])
    await _put(client, tenant, "NEW-1", vendor="Acme", tags=["winter"])

    response = await client.post(
        "/v1/products/bulk-delete",
        json={"filter": {"sku_prefix": "OLD-", "vendor": "Acme", "tag": "winter"}, "limit": 1},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["deleted"], response.json()["more"]) == (1, True)
    rest = await client.post(
        "/v1/products/bulk-delete",
        json={"filter": {"sku_prefix": "OLD-", "vendor": "Acme", "tag": "winter"}},
        headers=tenant.headers,
    )
    assert (rest.json()["deleted"], rest.json()["more"]) == (1, False)
    assert await _live(client, tenant) == {"OLD-3", "NEW-1"}


async def test_a_bulk_delete_must_say_what_to_delete(client: Client, tenant: TenantCtx) -> None:
    await _put(client, tenant, "KEEP")
    for body, field in (
        ({}, "skus"),
        ({"skus": ["KEEP"], "filter": {"vendor": "Acme"}}, "skus"),
        ({"filter": {}}, "filter"),
        ({"skus": []}, "skus"),
    ):
        response = await client.post("/v1/products/bulk-delete", json=body, headers=tenant.headers)
        assert response.status_code in (400, 422), response.text
        assert field in {e["field"] for e in response.json().get("errors", [])}, response.text
    assert await _live(client, tenant) == {"KEEP"}


async def test_a_bulk_delete_needs_catalog_write(client: Client, tenant: TenantCtx) -> None:
    await _put(client, tenant, "KEEP")
    reader = await client.post(
        "/v1/keys", json={"name": "reader", "scopes": ["catalog:read"]}, headers=tenant.headers
    )
    assert reader.status_code == 201, reader.text
    response = await client.post(
        "/v1/products/bulk-delete",
        json={"skus": ["KEEP"]},
        headers={"Authorization": f"Bearer {reader.json()['key']}"},
    )
    refused(response, 403, "missing_scope")
    assert await _live(client, tenant) == {"KEEP"}
