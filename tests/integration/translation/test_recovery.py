"""No segment is lost when a worker is killed mid-batch or Redis forgets the queue."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import text

from shoplingo.core.db import create_engine, create_sessionmaker
from shoplingo.core.queue import create_queue
from shoplingo.core.sweeper import sweep, sweep_segments
from shoplingo.settings import Settings
from shoplingo.translation.jobs import prepare_translation_run
from shoplingo.translation.runs import PREPARE_FUNCTION, RUN_FUNCTION
from shoplingo.worker import RUNNABLE
from tests.fixtures.queue import drain_queue
from tests.fixtures.tenants import TenantCtx
from tests.fixtures.translation import seed_products


def _llm_env(settings: Settings, fake_llm: str) -> dict[str, str]:
    return {
        **os.environ,
        "SHOPLINGO_DATABASE_URL": settings.database_url,
        "SHOPLINGO_REDIS_URL": settings.redis_url,
        "SHOPLINGO_REDIS_PREFIX": settings.redis_prefix,
        "SHOPLINGO_LLM_PROVIDER": "pseudo",
        "SHOPLINGO_LLM_BASE_URL": f"{fake_llm}/v1",
        "SHOPLINGO_TRANSLATION_BATCH_SIZE": "4",
        "SHOPLINGO_TRANSLATION_PARALLEL_JOBS": "1",
        "SHOPLINGO_TRANSLATION_CLAIM_LEASE_SECONDS": "2",
        "SHOPLINGO_SWEEP_INTERVAL_SECONDS": "1",
        "SHOPLINGO_SWEEP_REQUEUE_AFTER_SECONDS": "1",
        "SHOPLINGO_LLM_REQUESTS_PER_MINUTE": "100000",
        "SHOPLINGO_LLM_TOKENS_PER_MINUTE": "100000000",
        "SHOPLINGO_LOG_LEVEL": "WARNING",
    }


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "shoplingo.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _statuses(settings: Settings, job_id: str) -> dict[str, int]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text("SELECT status, count(*) FROM segments WHERE job_id = :j GROUP BY 1"),
                    {"j": job_id},
                )
            ).all()
    finally:
        await engine.dispose()
    return {str(status): int(count) for status, count in rows}


async def test_a_worker_killed_mid_batch_loses_no_segment(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx, fake_llm: str
) -> None:
    await seed_products(client, tenant)
    env = _llm_env(settings, fake_llm)
    async with httpx.AsyncClient(base_url=fake_llm) as http:
        await http.post("/_control", json={"latency_ms": 400})
    first = _start_worker(env)
    second = None
    try:
        created = await client.post(
            "/v1/translation-jobs", json={"target_locales": ["de-DE"], "all": True},
            headers=tenant.headers,
        )  # fmt: skip
        job_id = created.json()["id"]
        deadline = time.monotonic() + 60
        while (await _statuses(settings, job_id)).get("translating", 0) == 0:
            assert time.monotonic() < deadline, "the worker never claimed a batch"
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert (await _statuses(settings, job_id)).get("translating", 0) > 0

        async with httpx.AsyncClient(base_url=fake_llm) as http:
            await http.post("/_control", json={"latency_ms": 0})
        second = _start_worker(env)
        deadline = time.monotonic() + 60
        while True:
            statuses = await _statuses(settings, job_id)
            if not set(statuses) & {"queued", "translating"}:
                break
            assert time.monotonic() < deadline, statuses
            await asyncio.sleep(0.2)
        assert statuses == {"published": 10, "needs_review": 1}
        job = (await client.get(f"/v1/translation-jobs/{job_id}", headers=tenant.headers)).json()
        assert job["status"] == "succeeded"
    finally:
        async with httpx.AsyncClient(base_url=fake_llm) as http:
            await http.post("/_control", json={"latency_ms": 0})
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=20)


async def _flush_queue(settings: Settings) -> None:
    """What FLUSHALL does to this test's keyspace: every queued message is gone."""
    redis = Redis.from_url(settings.redis_url)
    async for key in redis.scan_iter(match=f"*{settings.redis_prefix}*"):
        await redis.delete(key)
    await redis.aclose()


async def _sweep(settings: Settings) -> dict[str, Any]:
    engine = create_engine(settings)
    queue = create_queue(settings)
    try:
        return await sweep_segments(engine, queue, settings, RUN_FUNCTION, PREPARE_FUNCTION)
    finally:
        await queue.aclose()
        await engine.dispose()


def _flushable(settings: Settings, fake_llm: str) -> Settings:
    return dataclasses.replace(
        settings, llm_provider="pseudo", llm_base_url=f"{fake_llm}/v1",
        sweep_requeue_after_seconds=0, llm_requests_per_minute=100_000,
    )  # fmt: skip


async def test_a_redis_flush_before_the_run_is_prepared_loses_nothing(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx, fake_llm: str
) -> None:
    llm = _flushable(settings, fake_llm)
    await seed_products(client, tenant)
    created = await client.post(
        "/v1/translation-jobs", json={"target_locales": ["pl-PL"], "all": True},
        headers=tenant.headers,
    )  # fmt: skip
    job_id = created.json()["id"]
    assert created.json()["preparing"] is True
    await _flush_queue(settings)
    await drain_queue(llm)
    assert (await _statuses(settings, job_id)) == {}

    assert (await _sweep(llm))["runs_resumed"] == 1
    await drain_queue(llm)
    assert (await _statuses(settings, job_id)) == {"published": 10, "needs_review": 1}
    job = (await client.get(f"/v1/translation-jobs/{job_id}", headers=tenant.headers)).json()
    assert (job["status"], job["preparing"], job["progress"]["total"]) == ("succeeded", False, 11)


async def test_a_redis_flush_mid_run_loses_no_segment(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx, fake_llm: str
) -> None:
    llm = _flushable(settings, fake_llm)
    await seed_products(client, tenant)
    created = await client.post(
        "/v1/translation-jobs", json={"target_locales": ["pl-PL"], "all": True},
        headers=tenant.headers,
    )  # fmt: skip
    job_id = created.json()["id"]
    # the segments are written, then every wake-up for them is lost
    engine = create_engine(llm)
    queue = create_queue(llm)
    try:
        context = {"settings": llm, "engine": engine, "redis": queue,
                   "sessionmaker": create_sessionmaker(engine)}  # fmt: skip
        assert await prepare_translation_run(context, str(tenant.id), job_id) == 11
    finally:
        await queue.aclose()
        await engine.dispose()
    await _flush_queue(settings)
    await drain_queue(llm)
    assert (await _statuses(settings, job_id)) == {"queued": 11}

    assert (await _sweep(llm))["runs_woken"] >= 1
    await drain_queue(llm)
    assert (await _statuses(settings, job_id)) == {"published": 10, "needs_review": 1}


async def test_a_recheck_whose_message_was_lost_is_sent_again(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantCtx, fake_llm: str
) -> None:
    llm = _flushable(settings, fake_llm)
    term = {"term": "cotton", "kind": "translate", "targets": {"de": {"text": "Baumwolle"}}}
    created = await client.post("/v1/glossary/terms", json=term, headers=tenant.headers)
    assert created.status_code == 201
    await _flush_queue(settings)
    await drain_queue(llm)
    glossary = (await client.get("/v1/glossary", headers=tenant.headers)).json()
    assert glossary["recheck"]["status"] == "queued"

    engine, queue = create_engine(llm), create_queue(llm)
    try:
        assert (await sweep(engine, queue, llm, RUNNABLE))["requeued"] >= 1
    finally:
        await queue.aclose()
        await engine.dispose()
    await drain_queue(llm)
    glossary = (await client.get("/v1/glossary", headers=tenant.headers)).json()
    assert glossary["recheck"]["status"] == "succeeded"
