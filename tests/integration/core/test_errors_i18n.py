"""Problem details are translated by Accept-Language, falling back to English."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.tenants import TenantCtx


@pytest.mark.parametrize(
    ("accept_language", "language", "detail"),
    [
        (None, "en", "Product MISSING was not found."),
        ("de-DE,de;q=0.9", "de", "MISSING"),
        ("fr-CH", "fr", "MISSING"),
        ("es-MX", "es", "MISSING"),
        ("ja", "ja", "MISSING"),
        ("zh-CN", "zh_Hans", "MISSING"),
        ("sv-SE, de;q=0.5", "de", "MISSING"),
        ("xx, tlh", "en", "Product MISSING was not found."),
    ],
)
async def test_detail_follows_accept_language(
    client: AsyncTestClient[Litestar],
    tenant: TenantCtx,
    accept_language: str | None,
    language: str,
    detail: str,
) -> None:
    headers = dict(tenant.headers)
    if accept_language:
        headers["Accept-Language"] = accept_language
    response = await client.get("/v1/products/MISSING", headers=headers)
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "product_not_found"  # stable in every language
    assert response.headers["content-language"] == language
    assert detail in body["detail"]
    if language != "en":
        assert body["detail"] != "Product MISSING was not found."


async def test_field_errors_are_translated_too(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    response = await client.put(
        "/v1/products/X",
        json={"title": "T", "source_locale": "xx-YY"},
        headers={**tenant.headers, "Accept-Language": "de"},
    )
    error = response.json()["errors"][0]
    assert error["field"] == "source_locale"
    assert error["code"] == "invalid_locale"
    assert "xx-YY" in error["message"]
    assert error["message"] != "xx-YY is not a known locale (use a tag like de-AT)."


async def test_unknown_route_and_method_are_problems(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    missing = await client.get("/v1/nothing-here", headers=tenant.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    wrong_method = await client.post("/v1/products/X", json={}, headers=tenant.headers)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


async def test_text_with_a_nul_character_is_a_clear_422_not_a_500(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    # PostgreSQL cannot store U+0000 in text; nothing is written
    cases = [
        ("POST", "/v1/glossary/terms", {"term": "Acme\u0000Pro", "kind": "keep"}),
        ("POST", "/v1/support/policies", {"name": "Returns", "text": "30 days\u0000."}),
    ]
    for method, path, body in cases:
        response = await client.request(method, path, json=body, headers=tenant.headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "invalid_text"
    listed = await client.get("/v1/glossary/terms", headers=tenant.headers)
    assert listed.json()["items"] == []
