"""Malformed or hostile requests get a 4xx problem+json naming what is wrong, never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fixtures.tenants import TenantCtx

PRODUCT = {"title": "Mug", "price": "9.90", "currency": "EUR"}
NUL = "a\x00b"


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/v1/keys",
        "/v1/members",
        "/v1/tenant/storefront",
        "/v1/webhooks",
        f"/v1/webhooks/{uuid.uuid4()}",
        f"/v1/webhooks/{uuid.uuid4()}/deliveries",
        "/v1/products",
    ],
)
async def test_options_without_a_key_is_not_a_server_error(
    client: AsyncTestClient[Litestar], path: str
) -> None:
    response = await client.options(path)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_problem(response, response.status_code)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**PRODUCT, "attributes": {"Material": NUL}}, "attributes"),
        ({**PRODUCT, "attributes": {NUL: "x"}}, "attributes"),
        ({**PRODUCT, "legal": {"warranty": NUL}}, "legal"),
        ({**PRODUCT, "variants": [{"options": [{"name": "Size", "value": NUL}]}]}, None),
        ({**PRODUCT, "tags": [NUL]}, None),
        ({**PRODUCT, "title": NUL}, None),
    ],
)
async def test_a_nul_character_in_any_product_value_is_a_422(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, body: dict[str, Any], field: str | None
) -> None:
    response = await client.put("/v1/products/NUL-1", json=body, headers=tenant.headers)
    assert_problem(response, 422, "invalid_text")
    assert (await client.get("/v1/products/NUL-1", headers=tenant.headers)).status_code == 404


async def test_a_nul_character_in_glossary_targets_and_legal_patterns_is_a_422(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    term = {"term": "mug", "kind": "translate", "targets": {"de": {"text": NUL}}}
    response = await client.post("/v1/glossary/terms", json=term, headers=tenant.headers)
    assert_problem(response, 422, "invalid_text")
    term = {"term": "mug", "kind": "forbidden", "targets": {"de": {"variants": [NUL]}}}
    response = await client.post("/v1/glossary/terms", json=term, headers=tenant.headers)
    assert_problem(response, 422, "invalid_text")
    rules = {"fields": ["warranty"], "patterns": {"en": [{"name": "nul", "pattern": NUL}]}}
    response = await client.put("/v1/review/settings", json=rules, headers=tenant.headers)
    assert_problem(response, 422, "invalid_text")


async def test_invalid_utf8_in_a_json_body_is_a_400(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    response = await client.put(
        "/v1/products/UTF-1",
        content=b'{"title": "Mug \xff\xfe", "price": "1.00", "currency": "EUR"}',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed_body")


async def test_json_sent_as_text_plain_is_a_415(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    response = await client.put(
        "/v1/products/PLAIN-1",
        content=b'{"title": "Mug", "price": "1.00", "currency": "EUR"}',
        headers={**tenant.headers, "Content-Type": "text/plain"},
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert (await client.get("/v1/products/PLAIN-1", headers=tenant.headers)).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "XXX"}, "currency"),  # ISO 4217 "no currency"
        ({"currency": "XTS"}, "currency"),  # ISO 4217 "for testing"
        ({"price": "\u0661\u0662\u066b\u0665\u0660"}, "price"),  # Arabic-Indic digits
        ({"price": "\u0661\u0662.50"}, "price"),
        ({"price": "\uff11\uff12.50"}, "price"),  # full-width digits
        ({"source_locale": ""}, "source_locale"),
        ({"source_locale": "  "}, "source_locale"),
    ],
)
async def test_values_that_look_valid_but_are_not_are_refused(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, change: dict[str, Any], field: str
) -> None:
    response = await client.put(
        "/v1/products/ODD-1", json={**PRODUCT, **change}, headers=tenant.headers
    )
    body = assert_problem(response, 422)
    assert field in [e["field"] for e in body["errors"]], body
    patched = await client.patch("/v1/products/ODD-1", json=change, headers=tenant.headers)
    assert patched.status_code in (404, 422), patched.text


async def test_renaming_a_support_policy_to_a_taken_name_is_a_409(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    ids = []
    for name in ("returns", "shipping"):
        created = await client.post(
            "/v1/support/policies",
            json={"name": name, "text": f"Our {name} policy."},
            headers=tenant.headers,
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    renamed = await client.put(
        f"/v1/support/policies/{ids[1]}",
        json={"name": "returns", "text": "Our shipping policy."},
        headers=tenant.headers,
    )
    assert_problem(renamed, 409, "policy_exists")
    kept = await client.get(f"/v1/support/policies/{ids[1]}", headers=tenant.headers)
    assert kept.json()["name"] == "shipping"


async def test_a_malformed_multipart_body_is_a_400(
    client: AsyncTestClient[Litestar], tenant: TenantCtx
) -> None:
    response = await client.post(
        "/v1/imports",
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nsku,title',
        headers={**tenant.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)
    response = await client.post(
        "/v1/imports",
        content=b"garbage",
        headers={**tenant.headers, "Content-Type": "multipart/form-data"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)
