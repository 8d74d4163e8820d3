from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from shoplingo.storefront.cache import asyncpg_dsn
from tests.fixtures.storefront import Shop, create_shop


@pytest.fixture
def llm_settings(settings: Settings, fake_llm: str) -> Settings:
    return dataclasses.replace(
        settings,
        llm_provider="pseudo",
        llm_base_url=f"{fake_llm}/v1",
        llm_backoff_base_seconds=0.01,
        llm_backoff_max_seconds=0.05,
        llm_timeout_seconds=2,
        llm_max_attempts=10,
        llm_requests_per_minute=100_000,
        llm_tokens_per_minute=100_000_000,
    )


@pytest.fixture
async def shop(settings: Settings, client: AsyncTestClient[Litestar]) -> Shop:
    """A shop with several target locales and publishable keys (the storefront's and webhooks'
    tests; review/ has a shop of its own)."""
    return await create_shop(settings, client)


@pytest.fixture
async def raw(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection (autocommit): each statement commits as the workers' do."""
    conn = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    yield conn
    await conn.close()
