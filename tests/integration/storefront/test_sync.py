"""Syncing a catalog: keys and tenant isolation, delta sync, bundles, the change feed, CORS."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.storefront import (
    Shop,
    create_shop,
    put_product,
    put_segment,
    synced,
)


async def test_keys_of_one_tenant_never_read_another(
    client: AsyncTestClient[Litestar], settings: Settings, raw: asyncpg.Connection
) -> None:
    a, b = await create_shop(settings, client), await create_shop(settings, client)
    await put_product(client, a, "SAME", title="A's product")
    await put_product(client, b, "SAME", title="B's product")
    await put_product(client, b, "ONLY-B", title="B only")
    await put_segment(raw, b, "SAME", "title", "de", "B auf Deutsch")
    await synced(client)
    mine = await client.get("/v1/storefront/products/SAME?locale=de", headers=a.reader)
    assert mine.json()["title"]["value"] == "A's product"
    assert (await client.get("/v1/storefront/products/ONLY-B", headers=a.reader)).status_code == 404
    bundle = await client.get("/v1/storefront/bundles/de", headers=a.reader)
    assert [p["sku"] for p in bundle.json()["products"]] == ["SAME"]
    feed = (await client.get("/v1/storefront/changes", headers=a.reader)).json()
    assert {c["sku"] for c in feed["items"]} == {"SAME"}
    assert all(c["kind"] == "product" for c in feed["items"])


async def test_publishable_keys_read_the_storefront_only_and_revocation_is_immediate(
    client: AsyncTestClient[Litestar], shop: Shop
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    assert shop.public_key.startswith("sl_pub_")
    other = await client.get("/v1/products", headers=shop.reader)
    assert (other.status_code, other.json()["code"]) == (401, "publishable_key_not_allowed")
    wide = await client.post(
        "/v1/keys",
        json={"name": "x", "scopes": ["catalog:read"], "publishable": True},
        headers=shop.admin,
    )
    assert (wide.status_code, wide.json()["errors"][0]["code"]) == (422, "publishable_scopes")
    assert (await client.get("/v1/storefront/products/MUG", headers=shop.reader)).status_code == 200
    keys = (await client.get("/v1/keys", headers=shop.admin)).json()
    public = next(k for k in keys if k["publishable"])
    assert (await client.delete(f"/v1/keys/{public['id']}", headers=shop.admin)).status_code == 200
    await synced(client)
    revoked = await client.get("/v1/storefront/products/MUG", headers=shop.reader)
    assert (revoked.status_code, revoked.json()["code"]) == (401, "invalid_api_key")


async def test_delta_sync_pages_by_cursor_and_reports_deletions(
    client: AsyncTestClient[Litestar], shop: Shop, raw: asyncpg.Connection
) -> None:
    for n in range(5):
        await put_product(client, shop, f"P{n}", title=f"Product {n}")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"locale": "de", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get("/v1/storefront/products", params=params, headers=shop.reader)
        ).json()
        seen += [p["sku"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"P{n}" for n in range(5)]
    assert len(seen) == 5

    mark = await raw.fetchval("SELECT now()")
    await put_segment(raw, shop, "P1", "title", "de", "Produkt 1")
    await put_segment(raw, shop, "P2", "title", "fr-FR", "Produit 2")  # not in de's chain
    await client.patch("/v1/products/P3", json={"price": "5.00"}, headers=shop.admin)
    await client.delete("/v1/products/P4", headers=shop.admin)
    params = {"locale": "de", "updated_since": mark.isoformat(), "limit": "1"}
    first = (await client.get("/v1/storefront/products", params=params, headers=shop.reader)).json()
    items = list(first["items"])
    second = (
        await client.get(
            "/v1/storefront/products",
            params={"locale": "de", "cursor": first["next_cursor"], "limit": "1"},
            headers=shop.reader,
        )
    ).json()
    items += second["items"]
    third = (
        await client.get(
            "/v1/storefront/products",
            params={"locale": "de", "cursor": second["next_cursor"], "limit": "1"},
            headers=shop.reader,
        )
    ).json()
    items += third["items"]
    assert third["next_cursor"] is None
    by_sku = {i["sku"]: i for i in items}
    assert set(by_sku) == {"P1", "P3", "P4"}
    assert by_sku["P1"]["title"] == {"value": "Produkt 1", "locale": "de"}
    assert by_sku["P4"] == {"sku": "P4", "deleted": True}


async def test_bundle_streams_the_catalog_gzipped_with_an_etag_and_a_feed_position(
    client: AsyncTestClient[Litestar], settings: Settings, raw: asyncpg.Connection
) -> None:
    shop = await create_shop(settings, client)
    for n in range(7):
        await put_product(client, shop, f"B{n}", title=f"Bundle {n}")
        await put_segment(raw, shop, f"B{n}", "title", "de", f"Bündel {n}")
    await put_segment(raw, shop, "B0", "title", "fr-FR", "Pas servi", status="needs_review")
    await synced(client)
    plain = await client.get(
        "/v1/storefront/bundles/de-AT", headers={**shop.reader, "Accept-Encoding": "identity"}
    )
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    body = plain.json()
    assert body["fallback_chain"] == ["de", "en-US"]
    assert [p["title"]["value"] for p in body["products"]] == [f"Bündel {n}" for n in range(7)]

    zipped = await client.get(
        "/v1/storefront/bundles/de-AT",
        headers={**shop.reader, "Accept-Encoding": "gzip"},
    )
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert json.loads(zipped.content) == body  # decoded by httpx
    async with client.stream(
        "GET", "/v1/storefront/bundles/de-AT", headers={**shop.reader, "Accept-Encoding": "gzip"}
    ) as streamed:
        wire = b"".join([chunk async for chunk in streamed.aiter_raw()])
    assert wire[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(wire)) == body

    again = await client.get(
        "/v1/storefront/bundles/de-AT",
        headers={
            **shop.reader,
            "If-None-Match": plain.headers["etag"],
            "Accept-Encoding": "identity",
        },
    )
    assert again.status_code == 304

    # the bundle's feed position: the changes after it, and nothing before it
    await put_segment(raw, shop, "B3", "title", "de", "Bündel drei")
    feed = await _changes_after(client, shop, body["changes_cursor"], "de-AT")
    assert [(c["sku"], c["locale"], c["kind"]) for c in feed["items"]] == [
        ("B3", "de", "published")
    ]
    empty = (
        await client.get(
            "/v1/storefront/changes", params={"since": feed["next_cursor"]}, headers=shop.reader
        )
    ).json()
    assert empty["items"] == []
    assert empty["next_cursor"] == feed["next_cursor"]


async def _changes_after(
    client: AsyncTestClient[Litestar], shop: Shop, since: str, locale: str
) -> dict[str, Any]:
    """The feed holds back while any older transaction (on the whole server) is open."""
    for _ in range(300):
        feed = (
            await client.get(
                "/v1/storefront/changes",
                params={"since": since, "locale": locale},
                headers=shop.reader,
            )
        ).json()
        if feed["items"]:
            return dict(feed)
        await asyncio.sleep(0.05)
    raise AssertionError("no change arrived in the feed within 15 s")


async def test_the_change_feed_pages_in_commit_order(
    client: AsyncTestClient[Litestar], shop: Shop, raw: asyncpg.Connection
) -> None:
    await put_product(client, shop, "F1", title="One")
    await put_product(client, shop, "F2", title="Two")
    await put_segment(raw, shop, "F1", "title", "es", "Uno")
    await raw.execute(
        "UPDATE segments SET status = 'stale' WHERE tenant_id = $1 AND target_locale = 'es'",
        shop.tenant.id,
    )
    await client.delete("/v1/products/F2", headers=shop.admin)
    kinds: list[tuple[str, str, str]] = []
    since = None
    for _ in range(300):  # the feed holds back while any older transaction is still open
        params = {"limit": "2", **({"since": since} if since else {})}
        page = (
            await client.get("/v1/storefront/changes", params=params, headers=shop.reader)
        ).json()
        kinds += [(c["sku"], c["locale"], c["kind"]) for c in page["items"]]
        since = page["next_cursor"]
        if len(kinds) >= 5:
            break
        if not page["has_more"]:
            await asyncio.sleep(0.05)
    assert kinds == [
        ("F1", "*", "product"),
        ("F2", "*", "product"),
        ("F1", "es", "published"),
        ("F1", "es", "withdrawn"),
        ("F2", "*", "deleted"),
    ]
    bad = await client.get("/v1/storefront/changes?since=%%%", headers=shop.reader)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "since")


async def test_cors_follows_the_tenant_origins_on_storefront_routes_only(
    client: AsyncTestClient[Litestar], shop: Shop
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    saved = await client.put(
        "/v1/tenant/storefront",
        json={"cors_origins": ["https://shop.example", "HTTP://LOCALHOST:3000/"]},
        headers=shop.admin,
    )
    assert saved.json()["cors_origins"] == ["https://shop.example", "http://localhost:3000"]
    await synced(client)
    url = f"/v1/storefront/products/MUG?key={shop.public_key}"
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match",
    }
    ok = await client.options(url, headers={"Origin": "https://shop.example", **preflight})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    assert ok.headers["access-control-allow-headers"] == "if-none-match"
    refused = await client.options(url, headers={"Origin": "https://evil.example", **preflight})
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers

    allowed = await client.get(url, headers={"Origin": "http://localhost:3000"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "ETag" in allowed.headers["access-control-expose-headers"]
    # the same answer again, now from memory: the same CORS headers, and the origin is checked
    remembered = await client.get(url, headers={"Origin": "http://localhost:3000"})
    assert (remembered.status_code, remembered.content) == (200, allowed.content)
    assert remembered.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "ETag" in remembered.headers["access-control-expose-headers"]
    assert remembered.headers["cache-control"] == allowed.headers["cache-control"]
    denied = await client.get(url, headers={"Origin": "https://evil.example"})
    assert (denied.status_code, denied.json()["code"]) == (403, "origin_not_allowed")
    # the rest of the API is not opened to the tenant's origins
    admin = await client.get(
        "/v1/products", headers={**shop.admin, "Origin": "https://shop.example"}
    )
    assert "access-control-allow-origin" not in admin.headers
    bad = await client.put(
        "/v1/tenant/storefront",
        json={"cors_origins": ["https://x.example/path"]},
        headers=shop.admin,
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "cors_origins.0")
