"""CORS: an allowed browser origin gets the CORS headers; any other origin gets none."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.app import create_app
from shoplingo.settings import Settings
from tests.fixtures.storefront import Shop

PREFLIGHT = {"Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "x-a"}


def cors_headers(headers: object) -> dict[str, str]:
    return {k: v for k, v in dict(headers).items() if k.lower().startswith("access-control")}  # type: ignore[call-overload]


@pytest.fixture
async def admin_client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(dataclasses.replace(settings, cors_allow_origins=("https://admin.example",)))
    async with AsyncTestClient(app) as client:
        yield client


async def test_an_origin_that_is_not_allowed_gets_no_cors_headers(
    admin_client: AsyncTestClient[Litestar], shop: Shop
) -> None:
    allowed = await admin_client.get(
        "/v1/tenant", headers={**shop.admin, "Origin": "https://admin.example"}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://admin.example"
    assert "ETag" in allowed.headers["access-control-expose-headers"]
    ok = await admin_client.options(
        "/v1/tenant", headers={"Origin": "https://admin.example", **PREFLIGHT}
    )
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-headers"] == "x-a"
    assert "PATCH" in ok.headers["access-control-allow-methods"]

    other = await admin_client.get(
        "/v1/tenant", headers={**shop.admin, "Origin": "https://evil.example"}
    )
    assert other.status_code == 200  # the browser, not the API, keeps it from the page
    assert cors_headers(other.headers) == {}
    refused = await admin_client.options(
        "/v1/tenant", headers={"Origin": "https://evil.example", **PREFLIGHT}
    )
    assert refused.status_code == 403
    assert cors_headers(refused.headers) == {}


async def test_storefront_origins_stay_the_shops_own_setting(
    admin_client: AsyncTestClient[Litestar], shop: Shop
) -> None:
    saved = await admin_client.put(
        "/v1/tenant/storefront", json={"cors_origins": ["https://shop.example"]},
        headers=shop.admin,
    )  # fmt: skip
    assert saved.status_code == 200, saved.text
    url = f"/v1/storefront/changes?key={shop.public_key}"
    preflight = {"Access-Control-Request-Method": "GET"}
    ok = await admin_client.options(url, headers={"Origin": "https://shop.example", **preflight})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    admin_origin = await admin_client.get(url, headers={"Origin": "https://admin.example"})
    assert admin_origin.status_code == 403
    assert cors_headers(admin_origin.headers) == {}
