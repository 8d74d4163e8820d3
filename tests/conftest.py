"""Shared fixtures: a throwaway PostgreSQL database and Redis key prefix per test run.

The database is created and migrated by Alembic once per session and dropped at the end;
tests isolate themselves by creating their own tenants (every query is tenant-scoped).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.app import create_app
from shoplingo.core.db import create_engine, create_sessionmaker, drop_database, transaction
from shoplingo.core.migrate import upgrade
from shoplingo.settings import Settings
from shoplingo.tenants import service as tenants

SERVER_URL = os.environ.get(
    "SHOPLINGO_TEST_SERVER_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432"
)
REDIS_URL = os.environ.get("SHOPLINGO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:10]


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
    )  # fmt: skip
    shutil.rmtree(import_dir, ignore_errors=True)

    async def forget_keys() -> None:
        redis = Redis.from_url(REDIS_URL)
        async for key in redis.scan_iter(match=f"*{prefix}*", count=1000):
            await redis.delete(key)
        await redis.aclose()

    asyncio.run(forget_keys())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_fake_llm(log_dir: Path) -> Iterator[str]:
    """``shoplingo fake-llm`` as a real process; yields its root URL (the API is at /v1)."""
    port = free_port()
    log = log_dir / "fake-llm.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shoplingo.cli", "fake-llm", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError(f"the fake LLM did not start:\n{log.read_text()}")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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


@dataclass(frozen=True)
class TenantCtx:
    id: uuid.UUID
    owner_id: uuid.UUID
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def make_tenant(
    settings: Settings, name: str = "Shop", source_locale: str = "en-US"
) -> TenantCtx:
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            tenant, owner, created = await tenants.create_tenant(
                session,
                name=f"{name} {uuid.uuid4().hex[:6]}",
                source_locale=source_locale,
                target_locales=["de-DE", "fr-FR"],
            )
    finally:
        await engine.dispose()
    return TenantCtx(id=tenant.id, owner_id=owner.id, key=created.plaintext)


@pytest.fixture
async def tenant(settings: Settings) -> TenantCtx:
    return await make_tenant(settings, "Shop A")


@pytest.fixture
async def other_tenant(settings: Settings) -> TenantCtx:
    return await make_tenant(settings, "Shop B")


async def drain_queue(settings: Settings) -> None:
    """Run an in-process arq worker until the test's queue is empty (burst mode)."""
    from arq.worker import Worker

    from shoplingo.worker import worker_options

    options = worker_options(settings)
    options.pop("cron_jobs")
    options["poll_delay"] = 0.05
    worker = Worker(**options, burst=True, handle_signals=False)
    try:
        await worker.main()
    finally:
        await worker.close()
