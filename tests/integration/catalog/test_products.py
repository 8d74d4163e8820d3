"""Products API: create/replace by SKU, validation errors, patch, soft delete."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.tenants import TenantCtx

PROBLEM = "application/problem+json"

SHIRT: dict[str, Any] = {
    "title": "Linen shirt",
    "description_html": "<p>Breathable <b>linen</b>.</p>",
    "seo_title": "Linen shirt | Acme",
    "vendor": "Acme",
    "tags": ["summer", "linen"],
    "attributes": {"Material": "100% linen"},
    "legal": {"warranty": "2-year limited warranty."},
    "price": "49.90",
    "currency": "EUR",
    "variants": [
        {"sku": "SHIRT-S", "options": [{"name": "Size", "value": "S"}], "price": "49.90"},
        {"sku": "SHIRT-M", "options": [{"name": "Size", "value": "M"}]},
    ],
}


async def test_put_creates_then_replaces_and_an_identical_put_changes_nothing(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    created = await client.put("/v1/products/SHIRT", json=SHIRT, headers=tenant.headers)
    assert created.status_code == 201
    body = created.json()
    assert body["sku"] == "SHIRT"
    assert body["source_locale"] == "en-US"  # the tenant's source locale by default
    assert body["price"] == "49.90"
    assert [v["sku"] for v in body["variants"]] == ["SHIRT-S", "SHIRT-M"]
    assert body["version"] == 1

    same = await client.put("/v1/products/SHIRT", json=SHIRT, headers=tenant.headers)
    assert same.status_code == 200
    assert same.json()["version"] == 1
    assert same.json()["updated_at"] == body["updated_at"]
    assert same.json()["content_hash"] == body["content_hash"]

    changed = await client.put(
        "/v1/products/SHIRT", json={**SHIRT, "title": "Linen shirt, blue"}, headers=tenant.headers
    )
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    assert changed.json()["content_hash"] != body["content_hash"]

    fetched = await client.get("/v1/products/SHIRT", headers=tenant.headers)
    assert fetched.json()["title"] == "Linen shirt, blue"


async def test_replace_drops_fields_and_variants_not_sent(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    await client.put("/v1/products/MUG", json=SHIRT, headers=tenant.headers)
    replaced = await client.put("/v1/products/MUG", json={"title": "Mug"}, headers=tenant.headers)
    body = replaced.json()
    assert body["variants"] == []
    assert body["legal"] == {}
    assert body["price"] is None


async def test_description_html_is_sanitized(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    html = '<p onclick="steal()">Hi<script>alert(1)</script> <a href="javascript:x()">x</a></p>'
    response = await client.put(
        "/v1/products/XSS", json={"title": "T", "description_html": html}, headers=tenant.headers
    )
    stored = response.json()["description_html"]
    assert "script" not in stored
    assert "onclick" not in stored
    assert "javascript:" not in stored
    assert stored.startswith("<p>Hi")


@pytest.mark.parametrize(
    ("locale", "stored"),
    [("de-AT", "de-AT"), ("zh-Hant-TW", "zh-Hant-TW"), ("pt_br", "pt-BR"), ("es-419", "es-419")],
)
async def test_source_locales_babel_knows_are_accepted(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, locale: str, stored: str
) -> None:
    response = await client.put(
        "/v1/products/LOC", json={"title": "T", "source_locale": locale}, headers=tenant.headers
    )
    assert response.status_code in (200, 201)
    assert response.json()["source_locale"] == stored


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"title": "T", "source_locale": "xx-YY"}, "source_locale", "invalid_locale"),
        ({"title": "T", "source_locale": "und"}, "source_locale", "invalid_locale"),
        ({"title": "T", "price": "10", "currency": "XYZ"}, "currency", "unknown_currency"),
        ({"title": "T", "price": "10"}, "currency", "required"),
        ({"title": "T", "price": "-1", "currency": "EUR"}, "price", "invalid_price"),
        ({"title": "T", "price": "12.999", "currency": "EUR"}, "price", "too_many_decimals"),
        ({"title": "T", "price": "1200.5", "currency": "JPY"}, "price", "too_many_decimals"),
        ({"title": ""}, "title", "required"),
        ({"title": "x" * 256}, "title", "too_long"),
        ({"title": "T", "legal": {"Bad Name": "x"}}, "legal.Bad Name", "invalid_legal_field"),
        (
            {"title": "T", "currency": "EUR", "variants": [{"price": "abc"}]},
            "variants.0.price",
            "invalid_price",
        ),
        (
            {"title": "T", "currency": "EUR", "variants": [{"sku": "A"}, {"sku": "A"}]},
            "variants.1.sku",
            "duplicate_sku",
        ),
        ({"title": 5}, "title", "invalid"),
        ({"title": "T", "colour": "red"}, "colour", "unknown_field"),
    ],
)
async def test_invalid_products_get_422_naming_the_field(
    client: AsyncTestClient[Litestar],
    tenant: TenantCtx,
    payload: dict[str, Any],
    field: str,
    code: str,
) -> None:
    response = await client.put("/v1/products/BAD", json=payload, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in problem["errors"]
    ], problem["errors"]
    # nothing was stored
    assert (await client.get("/v1/products/BAD", headers=tenant.headers)).status_code == 404


async def test_a_rejected_update_keeps_the_stored_product(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    await client.put("/v1/products/KEEP", json=SHIRT, headers=tenant.headers)
    bad = await client.put(
        "/v1/products/KEEP", json={**SHIRT, "currency": "EURO"}, headers=tenant.headers
    )
    assert bad.status_code == 422
    kept = (await client.get("/v1/products/KEEP", headers=tenant.headers)).json()
    assert kept["currency"] == "EUR"
    assert len(kept["variants"]) == 2


async def test_malformed_json_is_a_400_problem(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    response = await client.put(
        "/v1/products/X",
        content=b'{"title": ',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_body"


async def test_patch_changes_only_what_is_sent(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    await client.put("/v1/products/P1", json=SHIRT, headers=tenant.headers)
    response = await client.patch(
        "/v1/products/P1", json={"price": "39.90", "seo_title": None}, headers=tenant.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["price"] == "39.90"
    assert body["seo_title"] is None
    assert body["title"] == SHIRT["title"]
    assert len(body["variants"]) == 2
    assert body["version"] == 2

    invalid = await client.patch(
        "/v1/products/P1", json={"currency": "NOPE"}, headers=tenant.headers
    )
    assert invalid.status_code == 422
    missing = await client.patch("/v1/products/NOPE", json={"title": "x"}, headers=tenant.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "product_not_found"


async def test_delete_is_soft_and_put_brings_it_back(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    await client.put("/v1/products/GONE", json=SHIRT, headers=tenant.headers)
    assert (await client.delete("/v1/products/GONE", headers=tenant.headers)).status_code == 204
    assert (await client.get("/v1/products/GONE", headers=tenant.headers)).status_code == 404
    assert (await client.delete("/v1/products/GONE", headers=tenant.headers)).status_code == 404

    listed = (await client.get("/v1/products", headers=tenant.headers)).json()["items"]
    assert "GONE" not in [p["sku"] for p in listed]
    tombstones = (
        await client.get("/v1/products?include_deleted=true", headers=tenant.headers)
    ).json()["items"]
    gone = next(p for p in tombstones if p["sku"] == "GONE")
    assert gone["deleted_at"] is not None

    back = await client.put("/v1/products/GONE", json=SHIRT, headers=tenant.headers)
    assert back.status_code == 201  # a re-creation: the SKU did not exist for any reader
    assert back.json()["deleted_at"] is None
    assert (await client.get("/v1/products/GONE", headers=tenant.headers)).status_code == 200
    again = await client.put("/v1/products/GONE", json=SHIRT, headers=tenant.headers)
    assert again.status_code == 200


async def test_sku_with_special_characters_round_trips(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    response = await client.put(
        "/v1/products/T%C3%A9-shirt%20%2301", json={"title": "T"}, headers=tenant.headers
    )
    assert response.status_code == 201
    assert response.json()["sku"] == "Té-shirt #01"
    fetched = await client.get("/v1/products/T%C3%A9-shirt%20%2301", headers=tenant.headers)
    assert fetched.status_code == 200
