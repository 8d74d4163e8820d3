"""A shop with a product, support policies, a glossary term, and the people who answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shoplingo.settings import Settings
from tests.fixtures.support import Client, Control, Desk, open_desk
from tests.fixtures.tenants import TenantCtx


@pytest.fixture
async def desk(client: Client, tenant: TenantCtx, llm_settings: Settings, fake_llm: str) -> Desk:
    return await open_desk(client, tenant, llm_settings, fake_llm)


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
