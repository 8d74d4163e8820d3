"""Shared fixtures: a throwaway PostgreSQL database and Redis key prefix per test run.

The database is created and migrated by Alembic once per session and dropped at the end;
tests isolate themselves by creating their own tenants (every query is tenant-scoped).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.app import create_app
from shoplingo.core.db import create_engine, create_sessionmaker, drop_database, transaction
from shoplingo.core.migrate import upgrade
from shoplingo.settings import Settings
from tests.fixtures.fake_llm import running_fake_llm
from tests.fixtures.servers import REDIS_URL, RUN_ID, SERVER_URL
from tests.fixtures.tenants import TenantCtx, make_tenant

UNTHROTTLED: dict[str, Any] = {
    f"rate_limit_{kind}_{scope}_{unit}": 1_000_000
    for kind in ("storefront", "api")
    for scope in ("key", "tenant")
    for unit in ("per_second", "burst")
}


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = f"{SERVER_URL}/shoplingo_test_{RUN_ID}"
    upgrade(url)
    yield url
    asyncio.run(drop_database(url))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Iterator[Settings]:
    prefix = f"shoplingo-test-{RUN_ID}"
    import_dir = Path(tempfile.mkdtemp(prefix="shoplingo-imports-"))
    yield Settings(
        database_url=database_url, redis_url=REDIS_URL, redis_prefix=prefix, import_dir=import_dir,
        # the webhook receivers of the tests listen on 127.0.0.1
        webhook_allow_private_targets=True,
        # limits no test reaches (tests/integration/core/test_rate_limits.py sets its own)
        **UNTHROTTLED,
    )  # fmt: skip
    shutil.rmtree(import_dir, ignore_errors=True)

    async def forget_keys() -> None:
        redis = Redis.from_url(REDIS_URL)
        async for key in redis.scan_iter(match=f"*{prefix}*", count=1000):
            await redis.delete(key)
        await redis.aclose()

    asyncio.run(forget_keys())


@pytest.fixture(scope="session")
def fake_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One fake LLM for the whole run (tests that inject faults reset them afterwards)."""
    with running_fake_llm(tmp_path_factory.mktemp("fake-llm")) as url:
        yield url


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session for arranging data directly; committed when the test body is done with it."""
    engine = create_engine(settings)
    async with transaction(create_sessionmaker(engine)) as session:
        yield session
    await engine.dispose()


@pytest.fixture
async def tenant(settings: Settings) -> TenantCtx:
    return await make_tenant(settings, "Shop A")


@pytest.fixture
async def other_tenant(settings: Settings) -> TenantCtx:
    return await make_tenant(settings, "Shop B")
