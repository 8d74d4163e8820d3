from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.app import create_app
from shoplingo.settings import Settings


async def test_live_and_ready_need_no_key(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}


@pytest.mark.parametrize(
    ("override", "down"),
    [
        ({"redis_url": "redis://127.0.0.1:1/0"}, "redis"),
        ({"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"}, "postgres"),
    ],
)
async def test_ready_is_503_naming_the_service_that_is_down(
    settings: Settings, override: dict[str, Any], down: str
) -> None:
    app = create_app(dataclasses.replace(settings, **override))
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["down"] == [down]
    assert down in body["detail"]
    assert body["checks"][down].startswith("down")


async def test_openapi_schema_and_docs_are_served(client: AsyncTestClient[Litestar]) -> None:
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/v1/products/{sku}" in paths
    assert "/v1/keys" in paths
    docs = await client.get("/schema")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
