"""Storefront reads: locale negotiation and fallback chains, published-only text, ETags."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from shoplingo.storefront.service import PRODUCT_FIELD_TEXT, VARIANT_FIELD_TEXT
from shoplingo.translation.memory import source_hash, source_hash_sql
from shoplingo.translation.sources import product_sources
from tests.fixtures.queue import drain_queue
from tests.fixtures.storefront import Shop, put_product, put_segment, synced

TITLES = {
    "de": "Hemd",
    "es-419": "Camisa latinoamericana",
    "es": "Camisa",
    "zh-Hant": "襯衫",
    "ar": "قميص",
}


@pytest.fixture
async def tee(client: AsyncTestClient[Litestar], shop: Shop, raw: asyncpg.Connection) -> Shop:
    await put_product(
        client,
        shop,
        "TEE",
        title="Shirt",
        attributes={"Material": "Cotton"},
        tags=["organic", "summer"],
        variants=[{"sku": "TEE-S", "options": [{"name": "Size", "value": "Small"}]}],
    )
    for locale, title in TITLES.items():
        await put_segment(raw, shop, "TEE", "title", locale, title)
    await put_segment(raw, shop, "TEE", "tags", "de", "bio, sommer")
    await put_segment(raw, shop, "TEE", "options.0.value", "de", "Klein", variant=0)
    await synced(client)
    return shop


# (query locale, Accept-Language, title, title's locale, fallback, chain, Vary has A-L)
NEGOTIATION = [
    ("de-AT", None, "Hemd", "de", False, ["de", "en-US"], False),
    ("de-DE", None, "Hemd", "de", False, ["de-DE", "de", "en-US"], False),
    ("es-MX", None, "Camisa latinoamericana", "es-419", False, ["es-419", "es", "en-US"], False),
    ("es-ES", None, "Camisa", "es", False, ["es", "en-US"], False),
    ("zh-HK", None, "襯衫", "zh-Hant", False, ["zh-Hant", "en-US"], False),
    ("fr-FR", None, "Shirt", "en-US", True, ["fr-FR", "en-US"], False),
    ("en-GB", None, "Shirt", "en-US", False, ["en-US"], False),
    (None, "ja, es-MX;q=0.8, de;q=0.5", "Camisa latinoamericana", "es-419", False,
     ["es-419", "es", "en-US"], True),
    (None, "ja-JP", "Shirt", "en-US", False, ["en-US"], True),
    (None, None, "Shirt", "en-US", False, ["en-US"], False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("locale", "accept_language", "title", "source", "fallback", "chain", "varies"), NEGOTIATION
)
async def test_locale_negotiation_and_fallback_chain(
    client: AsyncTestClient[Litestar],
    tee: Shop,
    locale: str | None,
    accept_language: str | None,
    title: str,
    source: str,
    fallback: bool,
    chain: list[str],
    varies: bool,
) -> None:
    headers = {**tee.reader, **({"Accept-Language": accept_language} if accept_language else {})}
    response = await client.get(
        "/v1/storefront/products", params={"locale": locale} if locale else {}, headers=headers
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["fallback_chain"] == chain
    product = page["items"][0]
    assert product["title"] == {
        "value": title,
        "locale": source,
        **({"fallback": True} if fallback else {}),
    }
    assert ("Accept-Language" in response.headers["vary"]) is varies
    single = await client.get(
        "/v1/storefront/products/TEE", params={"locale": locale} if locale else {}, headers=headers
    )
    assert single.json()["title"]["value"] == title
    assert single.headers["content-language"] == page["locale"]


async def test_fields_prices_and_direction_follow_the_locale(
    client: AsyncTestClient[Litestar], tee: Shop
) -> None:
    de = (await client.get("/v1/storefront/products/TEE?locale=de-DE", headers=tee.reader)).json()
    assert de["price"] == {"amount": "12.99", "currency": "EUR", "formatted": "12,99\xa0€"}
    assert de["tags"] == {"values": ["bio", "sommer"], "locale": "de"}
    assert de["variants"][0]["options"][0]["value"] == {"value": "Klein", "locale": "de"}
    assert de["variants"][0]["options"][0]["name"] == {
        "value": "Size", "locale": "en-US", "fallback": True,
    }  # fmt: skip
    assert de["attributes"] == [
        {"name": "Material", "value": {"value": "Cotton", "locale": "en-US", "fallback": True}}
    ]
    assert de["direction"] == "ltr"
    us = (await client.get("/v1/storefront/products/TEE?locale=en-US", headers=tee.reader)).json()
    assert us["price"]["formatted"] == "€12.99"
    assert us["tags"] == {"values": ["organic", "summer"], "locale": "en-US"}
    ar = (await client.get("/v1/storefront/products/TEE?locale=ar", headers=tee.reader)).json()
    assert (ar["direction"], ar["title"]["value"]) == ("rtl", "قميص")


@pytest.mark.parametrize(
    ("locale", "code"), [("ja-JP", "unsupported_locale"), ("not a locale", "invalid_locale")]
)
async def test_a_locale_the_shop_cannot_serve_is_a_400_listing_its_locales(
    client: AsyncTestClient[Litestar], tee: Shop, locale: str, code: str
) -> None:
    response = await client.get(
        "/v1/storefront/products/TEE", params={"locale": locale}, headers=tee.reader
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["available_locales"] == [
        "en-US",
        "de",
        "de-DE",
        "es-419",
        "es",
        "zh-Hant",
        "fr-FR",
        "ar",
    ]
    assert "de-DE" in body["detail"]


async def test_tenant_fallback_overrides_replace_cldr_parents(
    client: AsyncTestClient[Litestar], tee: Shop
) -> None:
    response = await client.put(
        "/v1/tenant/storefront",
        json={"fallbacks": {"es-MX": ["es"], "de-CH": ["fr-FR", "de"]}},
        headers=tee.admin,
    )
    assert response.status_code == 200, response.text
    await synced(client)
    mx = (await client.get("/v1/storefront/products?locale=es-MX", headers=tee.reader)).json()
    assert mx["fallback_chain"] == ["es", "en-US"]
    assert mx["items"][0]["title"]["value"] == "Camisa"
    ch = (await client.get("/v1/storefront/products?locale=de-CH", headers=tee.reader)).json()
    assert ch["fallback_chain"] == ["fr-FR", "de", "en-US"]
    assert ch["items"][0]["title"] == {"value": "Hemd", "locale": "de"}
    bad = await client.put(
        "/v1/tenant/storefront", json={"fallbacks": {"es-MX": ["xx yy"]}}, headers=tee.admin
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "fallbacks.es-MX.0"


NOT_SERVABLE = ["queued", "translating", "machine_translated", "needs_review", "approved",
                "rejected", "stale", "failed"]  # fmt: skip


async def _title(client: AsyncTestClient[Litestar], shop: Shop, sku: str) -> dict[str, Any]:
    response = await client.get(f"/v1/storefront/products/{sku}?locale=fr-FR", headers=shop.reader)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("status", NOT_SERVABLE)
async def test_only_published_text_is_served(
    client: AsyncTestClient[Litestar], shop: Shop, raw: asyncpg.Connection, status: str
) -> None:
    await put_product(client, shop, "MUG", title="Mug")
    await put_segment(raw, shop, "MUG", "title", "fr-FR", "Tasse (brouillon)", status=status)
    await synced(client)
    assert (await _title(client, shop, "MUG"))["title"] == {
        "value": "Mug", "locale": "en-US", "fallback": True,
    }  # fmt: skip
    listed = await client.get("/v1/storefront/bundles/fr-FR", headers=shop.reader)
    assert "Tasse" not in listed.text


@pytest.mark.parametrize(
    ("status", "approved", "served"),
    [
        # (published without a human approval cannot be stored: a CHECK constraint refuses it)
        ("needs_review", False, False),
        ("approved", True, False),  # approved but not yet published
        ("published", True, True),
    ],
)
async def test_a_legal_text_is_served_only_when_published_and_approved(
    client: AsyncTestClient[Litestar],
    shop: Shop,
    raw: asyncpg.Connection,
    status: str,
    approved: bool,
    served: bool,
) -> None:
    await put_product(client, shop, "KETTLE", title="Kettle", legal={"warranty": "Two years."})
    await put_segment(
        raw, shop, "KETTLE", "legal.warranty", "fr-FR", "Deux ans.",
        status=status, legal=True, approved=approved,
    )  # fmt: skip
    await synced(client)
    legal = (await _title(client, shop, "KETTLE"))["legal"]
    expected = (
        {"value": "Deux ans.", "locale": "fr-FR"}
        if served
        else {"value": "Two years.", "locale": "en-US", "fallback": True}
    )
    assert legal == [{"name": "warranty", "value": expected}]


async def test_etag_revalidates_without_the_database_and_a_publish_shows_on_the_next_request(
    client: AsyncTestClient[Litestar], tee: Shop, raw: asyncpg.Connection
) -> None:
    url = "/v1/storefront/products/TEE?locale=de-AT"
    first = await client.get(url, headers=tee.reader)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert first.headers["cache-control"] == "private, no-cache"

    # a 304 from memory: the storefront's pool is not touched (it would raise)
    storefront = client.app.state.storefront
    pool, storefront._pool = storefront._pool, None
    try:
        again = await client.get(url, headers={**tee.reader, "If-None-Match": etag})
    finally:
        storefront._pool = pool
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    # a publish in the chain's locale: the old ETag no longer matches
    await put_segment(raw, tee, "TEE", "title", "de", "Hemd (neu)")
    await synced(client)
    changed = await client.get(url, headers={**tee.reader, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["title"]["value"] == "Hemd (neu)"
    assert changed.headers["etag"] != etag

    # a publish in a locale outside the chain changes nothing for de-AT
    etag = changed.headers["etag"]
    await put_segment(raw, tee, "TEE", "title", "fr-FR", "Chemise")
    await synced(client)
    assert (await client.get(url, headers={**tee.reader, "If-None-Match": etag})).status_code == 304

    # withdrawing the text (source changed: stale) and a price change both show at once
    await raw.execute(
        "UPDATE segments SET status = 'stale' WHERE tenant_id = $1 AND target_locale = 'de' "
        "AND field = 'title'",
        tee.tenant.id,
    )
    await synced(client)
    withdrawn = await client.get(url, headers={**tee.reader, "If-None-Match": etag})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["title"] == {"value": "Shirt", "locale": "en-US", "fallback": True}
    etag = withdrawn.headers["etag"]
    patched = await client.patch("/v1/products/TEE", json={"price": "9.99"}, headers=tee.admin)
    assert patched.status_code == 200, patched.text
    await synced(client)
    repriced = await client.get(url, headers={**tee.reader, "If-None-Match": etag})
    assert repriced.status_code == 200
    assert repriced.json()["price"]["formatted"] == "€\xa09,99"


async def test_answers_come_from_memory_until_a_publish_changes_them(
    client: AsyncTestClient[Litestar], tee: Shop, raw: asyncpg.Connection
) -> None:
    product = "/v1/storefront/products/TEE?locale=de-AT"
    bundle = "/v1/storefront/bundles/de-AT"
    plain = {**tee.reader, "Accept-Encoding": "identity"}
    zipped = {**tee.reader, "Accept-Encoding": "gzip"}
    first = await client.get(product, headers=tee.reader)
    first_bundle = await client.get(bundle, headers=plain)
    first_zipped = await client.get(bundle, headers=zipped)
    assert first_bundle.status_code == first_zipped.status_code == 200

    # rendered answers are kept by ETag: the storefront's pool is not touched (it would raise)
    storefront = client.app.state.storefront
    pool, storefront._pool = storefront._pool, None
    try:
        again = await client.get(product, headers=tee.reader)
        again_bundle = await client.get(bundle, headers=plain)
        again_zipped = await client.get(bundle, headers=zipped)
    finally:
        storefront._pool = pool
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"] == "application/json"
    assert again.headers["vary"] == first.headers["vary"]
    assert again_bundle.content == first_bundle.content
    assert again_zipped.headers["content-encoding"] == "gzip"
    assert again_zipped.json() == first_zipped.json() == first_bundle.json()

    # a publish in the chain is read on the very next request, by the product and the bundle
    await put_segment(raw, tee, "TEE", "title", "de", "Hemd (neu)")
    await synced(client)
    changed = await client.get(product, headers=tee.reader)
    assert changed.json()["title"] == {"value": "Hemd (neu)", "locale": "de"}
    assert changed.headers["etag"] != first.headers["etag"]
    titles = [
        p["title"]["value"] for p in (await client.get(bundle, headers=zipped)).json()["products"]
    ]
    assert titles == ["Hemd (neu)"]


async def test_a_key_in_the_url_makes_answers_cacheable_by_a_cdn(
    client: AsyncTestClient[Litestar], tee: Shop
) -> None:
    response = await client.get(
        "/v1/storefront/products/TEE", params={"locale": "de-DE", "key": tee.public_key}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=60"
    assert response.headers["vary"] == "Origin"
    secret = await client.get(
        "/v1/storefront/products/TEE", params={"locale": "de-DE", "key": tee.tenant.key}
    )
    assert secret.status_code == 401
    assert secret.json()["code"] == "secret_key_in_url"


async def test_the_current_source_of_every_field_is_read_as_the_pipeline_reads_it(
    client: AsyncTestClient[Litestar], shop: Shop, raw: asyncpg.Connection
) -> None:
    """The storefront's SQL finds a stale segment's current source text (to look up its last
    approved translation); it must agree with translation.sources for every kind of field."""
    await put_product(
        client,
        shop,
        "ALL",
        title=" Shirt\t for  summer ",
        description_html="<p>Soft\n\ncotton</p>",
        seo_title="Shirt",
        seo_description="A shirt.",
        tags=["organic", "summer"],
        attributes={"Material": "Cotton", "Safety warning": "Keep\u00a0away from fire."},
        legal={"warranty": "Two years."},
        variants=[
            {"sku": "ALL-S", "options": [{"name": "Size", "value": "S"}]},
            {
                "sku": "ALL-M",
                "options": [{"name": "Size", "value": "M"}, {"name": "Fit", "value": "Slim  cut"}],
            },
        ],
    )
    product = await raw.fetchrow(
        "SELECT * FROM products WHERE tenant_id = $1 AND sku = 'ALL'", shop.tenant.id
    )
    variants = await raw.fetch(
        "SELECT id, options FROM variants WHERE tenant_id = $1 AND product_id = $2 "
        "ORDER BY position",
        shop.tenant.id,
        product["id"],
    )
    sources = list(
        product_sources(
            SimpleNamespace(
                **{
                    **dict(product),
                    "attributes": json.loads(product["attributes"]),
                    "legal": json.loads(product["legal"]),
                    "variants": [
                        SimpleNamespace(id=v["id"], options=json.loads(v["options"]))
                        for v in variants
                    ],
                }
            ),
            classifier=None,
        )
    )
    assert len(sources) == 14
    owners = {v["id"]: i for i, v in enumerate(variants)}
    for source in sources:
        variant = owners.get(source.owner_id)
        await put_segment(
            raw, shop, "ALL", source.field, "de", "x", status="stale", variant=variant
        )
    found = await raw.fetch(
        f"""
        SELECT s.owner_id, s.field,
               CASE WHEN s.owner_kind = 'product' THEN {source_hash_sql(PRODUCT_FIELD_TEXT)}
                    ELSE {source_hash_sql(VARIANT_FIELD_TEXT)} END AS current_hash
        FROM segments s
        JOIN products p ON p.tenant_id = s.tenant_id AND p.id = $2
        LEFT JOIN variants v ON v.tenant_id = s.tenant_id AND v.id = s.owner_id
        WHERE s.tenant_id = $1
        """,
        shop.tenant.id,
        product["id"],
    )
    assert {(r["owner_id"], r["field"]): r["current_hash"] for r in found} == {
        (s.owner_id, s.field): source_hash(s.text) for s in sources
    }


async def test_an_import_is_visible_on_the_next_read_after_it_finishes(
    client: AsyncTestClient[Litestar], shop: Shop, settings: Settings
) -> None:
    await put_product(client, shop, "LAMP", title="Desk lamp", price="20.00")
    url = "/v1/storefront/products/LAMP?locale=fr-FR"
    etag = (await client.get(url, headers=shop.reader)).headers["etag"]

    # an import bumps the version counters once, when it commits
    csv = b"sku,title,price,currency\nLAMP,Desk lamp,25.00,EUR\n"
    uploaded = await client.post(
        "/v1/imports", content=csv, headers={**shop.admin, "Content-Type": "text/csv"}
    )
    assert uploaded.status_code == 202, uploaded.text
    await drain_queue(settings)
    await synced(client)
    fresh = await client.get(url, headers={**shop.reader, "If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.json()["price"]["amount"] == "25.00"


async def test_a_sku_with_a_nul_character_is_not_a_500(
    client: AsyncTestClient[Litestar], shop: Shop
) -> None:
    response = await client.get("/v1/storefront/products/A%00B?locale=fr-FR", headers=shop.reader)
    assert response.status_code in (404, 422), response.text
