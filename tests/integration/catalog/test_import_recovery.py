"""An import survives a killed worker and a lost queue message, and never shows half a file."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from shoplingo.core.db import create_engine
from shoplingo.core.queue import create_queue
from shoplingo.core.sweeper import sweep
from shoplingo.models import Job, Product
from shoplingo.settings import Settings
from shoplingo.worker import RUNNABLE
from tests.fixtures.catalog import GOOD, upload
from tests.fixtures.queue import drain_queue
from tests.fixtures.tenants import TenantCtx

ROWS = 40_000


def _big_catalog(path: Path) -> Path:
    with path.open("w") as fh:
        fh.write("sku,title,description_html,price,currency\n")
        for i in range(ROWS):
            fh.write(
                f"BIG-{i:06d},Product {i},<p>Item <b>{i}</b> of a large catalog.</p>,9.99,EUR\n"
            )
    return path


def _start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SHOPLINGO_DATABASE_URL": settings.database_url,
        "SHOPLINGO_REDIS_URL": settings.redis_url,
        "SHOPLINGO_REDIS_PREFIX": settings.redis_prefix,
        "SHOPLINGO_IMPORT_DIR": str(settings.import_dir),
        "SHOPLINGO_IMPORT_CHUNK_ROWS": "500",
        "SHOPLINGO_SWEEP_INTERVAL_SECONDS": "1",
        "SHOPLINGO_SWEEP_REQUEUE_AFTER_SECONDS": "1",
        "SHOPLINGO_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "shoplingo.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").iterdir():
            children = [int(c) for c in (task / "children").read_text().split()]
            found += children
            todo += children
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


async def _job(engine: AsyncEngine, job_id: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(Job).where(Job.id == job_id))).one()


async def _wait_for(
    engine: AsyncEngine, job_id: str, check: Callable[[Any], bool], within: float = 90
) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        job = await _job(engine, job_id)
        if check(job):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out; last seen {job.status} {job.processed}")


async def _products(engine: AsyncEngine, tenant: TenantCtx) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(Product).where(Product.tenant_id == tenant.id)
        )
    return int(count or 0)


async def test_worker_killed_mid_import_leaves_nothing_half_written_and_the_import_completes(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx, tmp_path: Path
) -> None:
    engine = create_engine(settings)
    first = _start_worker(settings)
    second = None
    try:
        body = _big_catalog(tmp_path / "big.csv").read_bytes()
        job_id = (await upload(client, tenant, body)).json()["id"]

        running = await _wait_for(
            engine, job_id, lambda j: j.status == "running" and j.processed > 0
        )
        assert running.processed < ROWS
        # progress is visible through the API while the import runs...
        seen = (await client.get(f"/v1/imports/{job_id}", headers=tenant.headers)).json()
        assert seen["status"] == "running"
        assert 0 < seen["progress"]["processed_rows"] <= ROWS
        assert seen["progress"]["total_rows"] == ROWS
        # ...but none of its products are, until the whole file is in
        assert await _products(engine, tenant) == 0

        # the worker's helpers: its fork server and the process reading the file
        helpers = _descendants(first.pid)
        assert helpers
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert await _products(engine, tenant) == 0
        # none of them goes on reading the file (or holding its memory) for a dead worker
        for _ in range(100):
            if not any(map(_running, helpers)):
                break
            await asyncio.sleep(0.1)
        assert not [pid for pid in helpers if _running(pid)]

        second = _start_worker(settings)
        done = await _wait_for(engine, job_id, lambda j: j.status not in ("queued", "running"))
        assert done.status == "succeeded", done.error
        assert done.attempts == 2
        assert done.counts == {"inserted": ROWS, "updated": 0, "unchanged": 0, "failed": 0}
        assert await _products(engine, tenant) == ROWS
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=20)
        await engine.dispose()


async def test_a_running_import_cancelled_writes_nothing_and_the_worker_goes_on(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx, tmp_path: Path
) -> None:
    engine = create_engine(settings)
    worker = _start_worker(settings)
    try:
        body = _big_catalog(tmp_path / "big.csv").read_bytes()
        job_id = (await upload(client, tenant, body)).json()["id"]
        await _wait_for(engine, job_id, lambda j: j.status == "running" and j.processed > 0)
        uploaded = list(Path(settings.import_dir).rglob(f"*{job_id}*"))
        assert uploaded

        cancelled = await client.post(f"/v1/imports/{job_id}/cancel", headers=tenant.headers)
        assert cancelled.json()["status"] == "cancelled"
        # the worker notices at its next chunk, rolls back and lets go of the file
        for _ in range(300):
            if not uploaded[0].exists():
                break
            await asyncio.sleep(0.1)
        assert not uploaded[0].exists()
        job = await _job(engine, job_id)
        assert (job.status, job.counts) == ("cancelled", {})
        assert 0 < job.processed < ROWS
        assert await _products(engine, tenant) == 0

        nxt = (await upload(client, tenant, GOOD.encode())).json()["id"]
        done = await _wait_for(engine, nxt, lambda j: j.status not in ("queued", "running"))
        assert (done.status, await _products(engine, tenant)) == ("succeeded", 2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
        await engine.dispose()


async def test_a_lost_queue_message_is_sent_again_by_the_sweeper(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    job_id = (await upload(client, tenant, GOOD.encode())).json()["id"]
    # what a Redis FLUSHALL does to this test's keyspace
    redis = Redis.from_url(settings.redis_url)
    async for key in redis.scan_iter(match=f"*{settings.redis_prefix}*"):
        await redis.delete(key)
    await redis.aclose()

    await drain_queue(settings)
    engine = create_engine(settings)
    queue = create_queue(settings)
    try:
        assert (await _job(engine, job_id)).status == "queued"  # nothing woke a worker
        eager = dataclasses.replace(settings, sweep_requeue_after_seconds=0)
        outcome = await sweep(engine, queue, eager, RUNNABLE)
        assert outcome["requeued"] >= 1
        await drain_queue(settings)
        job = await _job(engine, job_id)
        assert job.status == "succeeded"
        assert job.counts["inserted"] == 2
    finally:
        await queue.aclose()
        await engine.dispose()


async def test_a_job_whose_worker_died_too_often_fails_with_a_reason(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx
) -> None:
    job_id = (await upload(client, tenant, GOOD.encode())).json()["id"]
    engine = create_engine(settings)
    queue = create_queue(settings)
    try:
        async with engine.begin() as conn:  # as if three workers had died on it
            await conn.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="running", attempts=settings.job_max_attempts)
            )
        outcome = await sweep(engine, queue, settings, RUNNABLE)
        assert outcome["failed"] >= 1
        job = (await client.get(f"/v1/imports/{job_id}", headers=tenant.headers)).json()
        assert job["status"] == "failed"
        assert "stopped" in job["error"]
        assert job["finished_at"] is not None
    finally:
        await queue.aclose()
        await engine.dispose()
