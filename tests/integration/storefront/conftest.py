"""Storefront fixtures: a shop with several target locales, publishable keys, and segments
written the way the translation pipeline leaves them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from shoplingo.storefront.cache import asyncpg_dsn
from tests.fixtures.storefront import Shop, create_shop


@pytest.fixture
async def shop(settings: Settings, client: AsyncTestClient[Litestar]) -> Shop:
    return await create_shop(settings, client)


@pytest.fixture
async def raw(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection (autocommit): each statement commits as the workers' do."""
    conn = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    yield conn
    await conn.close()
