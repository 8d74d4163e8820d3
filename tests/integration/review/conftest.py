"""A translated catalog with legal text waiting for review, and the people who review it."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from shoplingo.settings import Settings
from tests.fixtures.review import Shop, open_review_shop
from tests.fixtures.tenants import TenantCtx


@pytest.fixture
async def shop(
    client: AsyncTestClient[Litestar], tenant: TenantCtx, llm_settings: Settings
) -> Shop:
    return await open_review_shop(
        client, tenant, llm_settings, ["catalog:read", "translations:write"]
    )
