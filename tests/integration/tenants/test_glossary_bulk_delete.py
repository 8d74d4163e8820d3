"""Deleting many glossary terms at once: by ids or by the listing's filters, each term reported
on its own, one new glossary version and one re-check for the whole call."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.problems import refused
from tests.fixtures.tenants import TenantCtx

Client = AsyncTestClient[Litestar]


async def _create(client: Client, tenant: TenantCtx, body: dict[str, Any]) -> str:
    response = await client.post("/v1/glossary/terms", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _terms(client: Client, tenant: TenantCtx) -> set[str]:
    response = await client.get("/v1/glossary/terms", headers=tenant.headers)
    return {t["term"] for t in response.json()["items"]}


async def _glossary(client: Client, tenant: TenantCtx) -> dict[str, Any]:
    return dict((await client.get("/v1/glossary", headers=tenant.headers)).json())


async def test_deleting_terms_by_id_reports_each_and_makes_one_version(
    client: Client, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    cable = await _create(client, tenant, {"term": "cable", "kind": "translate",
                                           "targets": {"de": {"text": "Kabel"}}})  # fmt: skip
    brand = await _create(client, tenant, {"term": "AcmePro", "kind": "keep"})
    await _create(client, tenant, {"term": "cheap", "kind": "forbidden",
                                   "targets": {"de": {"text": "billig"}}})  # fmt: skip
    theirs = await _create(client, other_tenant, {"term": "theirs", "kind": "keep"})
    missing = str(uuid.uuid4())
    version = (await _glossary(client, tenant))["version"]

    response = await client.post(
        "/v1/glossary/terms/bulk-delete",
        json={"ids": [cable, brand, missing, theirs]},
        headers={**tenant.headers, "Accept-Language": "fr"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["deleted"], body["refused"]) == (2, 2)
    items = {item["id"]: item for item in body["items"]}
    assert items[cable]["deleted"] is True
    assert (items[missing]["code"], items[missing]["http_status"]) == ("term_not_found", 404)
    assert items[missing]["detail"]
    assert items[theirs]["code"] == "term_not_found"
    assert body["version"] == version + 1

    assert await _terms(client, tenant) == {"cheap"}
    assert await _terms(client, other_tenant) == {"theirs"}
    glossary = await _glossary(client, tenant)
    assert glossary["version"] == version + 1
    assert glossary["recheck"]["status"] == "queued"
    audit = await client.get(
        "/v1/audit", params={"action": "glossary.term_deleted"}, headers=tenant.headers
    )
    assert {e["entity_id"] for e in audit.json()["items"]} == {cable, brand}


async def test_deleting_terms_by_filter(client: Client, tenant: TenantCtx) -> None:
    await _create(client, tenant, {"term": "AcmePro", "kind": "keep"})
    await _create(client, tenant, {"term": "AcmeLite", "kind": "keep"})
    await _create(client, tenant, {"term": "Acme cable", "kind": "translate",
                                   "targets": {"de": {"text": "Acme-Kabel"}}})  # fmt: skip

    response = await client.post(
        "/v1/glossary/terms/bulk-delete",
        json={"filter": {"kind": "keep", "q": "acme"}},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["deleted"], response.json()["more"]) == (2, False)
    assert await _terms(client, tenant) == {"Acme cable"}


async def test_a_bulk_delete_that_deletes_nothing_makes_no_version(
    client: Client, tenant: TenantCtx
) -> None:
    await _create(client, tenant, {"term": "AcmePro", "kind": "keep"})
    version = (await _glossary(client, tenant))["version"]
    response = await client.post(
        "/v1/glossary/terms/bulk-delete", json={"ids": [str(uuid.uuid4())]}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["deleted"] == 0
    assert (await _glossary(client, tenant))["version"] == version


async def test_a_bulk_delete_must_say_what_to_delete(client: Client, tenant: TenantCtx) -> None:
    await _create(client, tenant, {"term": "AcmePro", "kind": "keep"})
    for body, field in (
        ({}, "ids"),
        ({"ids": [str(uuid.uuid4())], "filter": {"kind": "keep"}}, "ids"),
        ({"filter": {}}, "filter"),
        ({"filter": {"kind": "nope"}}, "filter.kind"),
    ):
        response = await client.post(
            "/v1/glossary/terms/bulk-delete", json=body, headers=tenant.headers
        )
        assert response.status_code == 422, response.text
        assert field in {e["field"] for e in response.json()["errors"]}, response.text
    reader = await client.post(
        "/v1/keys", json={"name": "reader", "scopes": ["catalog:read"]}, headers=tenant.headers
    )
    refused(
        await client.post(
            "/v1/glossary/terms/bulk-delete",
            json={"filter": {"kind": "keep"}},
            headers={"Authorization": f"Bearer {reader.json()['key']}"},
        ),
        403,
        "missing_scope",
    )
    assert await _terms(client, tenant) == {"AcmePro"}
