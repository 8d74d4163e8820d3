"""A shop with a product, support policies, a glossary term, and the people who answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shoplingo.settings import Settings
from tests.fixtures.support import (
    RETURNS,
    RUNNING_SHOES,
    SHIPPING,
    SHOES,
    Client,
    Control,
    Desk,
    post_ok,
)
from tests.fixtures.tenants import Person, TenantCtx, add_member


@pytest.fixture
async def desk(client: Client, tenant: TenantCtx, llm_settings: Settings, fake_llm: str) -> Desk:
    response = await client.put("/v1/products/RUN-42", json=SHOES, headers=tenant.headers)
    assert response.status_code == 201, response.text
    for policy in (RETURNS, SHIPPING):
        await post_ok(client, "/v1/support/policies", tenant, policy)
    await post_ok(client, "/v1/glossary/terms", tenant, RUNNING_SHOES)
    return Desk(
        tenant=tenant,
        settings=llm_settings,
        owner=Person(id=str(tenant.owner_id), key=tenant.key),
        anna=await add_member(client, tenant, "Anna", "agent"),
        rita=await add_member(client, tenant, "Rita", "reviewer"),
        fake_llm=fake_llm,
    )


@pytest.fixture
async def fake(fake_llm: str) -> AsyncIterator[Control]:
    """Change the fake model's behaviour (POST /_control); every fault is off afterwards."""

    async def control(**changes: Any) -> None:
        async with httpx.AsyncClient(base_url=fake_llm) as http:
            (await http.post("/_control", json=changes)).raise_for_status()

    async with httpx.AsyncClient(base_url=fake_llm) as http:
        (await http.post("/_stats/reset")).raise_for_status()
    yield control
    await control(
        refuse_pattern="", fail_every_500=0, timeout_every=0, glossary="follow", latency_ms=0,
        malformed_every=0,
    )  # fmt: skip
