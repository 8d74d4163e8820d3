"""A batch that outlasts its claim lease is still translated once, and every token the model
spent is in the job's usage (issue 16, item 7)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from shoplingo.core.db import create_engine
from shoplingo.core.queue import create_queue
from shoplingo.core.sweeper import sweep_segments
from shoplingo.settings import Settings
from shoplingo.translation.runs import PREPARE_FUNCTION, RUN_FUNCTION
from tests.fixtures.fake_llm import reset_stats
from tests.fixtures.queue import drain_queue
from tests.fixtures.tenants import TenantCtx

PRODUCTS = 12


async def _sweep_continually(settings: Settings, stop: asyncio.Event) -> None:
    """The worker's sweeper, far more often than its cron would run it."""
    engine, queue = create_engine(settings), create_queue(settings)
    try:
        while not stop.is_set():
            await sweep_segments(engine, queue, settings, RUN_FUNCTION, PREPARE_FUNCTION)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
    finally:
        await queue.aclose()
        await engine.dispose()


async def test_a_batch_slower_than_its_lease_is_translated_once_and_fully_counted(
    client: AsyncTestClient[Litestar], llm_settings: Settings, tenant: TenantCtx, fake_llm: str
) -> None:
    # a 1 s model, a 2 s lease: a claimed batch waits longer than its lease for its calls
    slow = dataclasses.replace(
        llm_settings, translation_claim_lease_seconds=2, translation_batch_size=4,
        translation_parallel_jobs=3, llm_tenant_concurrency=2, sweep_requeue_after_seconds=0,
    )  # fmt: skip
    for n in range(PRODUCTS):
        body = {"title": f"Handmade walnut bowl number {n}"}
        response = await client.put(f"/v1/products/BOWL-{n}", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.text
    await reset_stats(fake_llm)
    async with httpx.AsyncClient(base_url=fake_llm) as http:
        (await http.post("/_control", json={"latency_ms": 1000})).raise_for_status()
    stop = asyncio.Event()
    sweeper = asyncio.create_task(_sweep_continually(slow, stop))
    try:
        created = await client.post(
            "/v1/translation-jobs", json={"target_locales": ["de-DE"], "all": True},
            headers=tenant.headers,
        )  # fmt: skip
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        await drain_queue(slow)
    finally:
        stop.set()
        await sweeper
        async with httpx.AsyncClient(base_url=fake_llm) as http:
            (await http.post("/_control", json={"latency_ms": 0})).raise_for_status()
            spent = (await http.get("/_stats")).json()

    job = (await client.get(f"/v1/translation-jobs/{job_id}", headers=tenant.headers)).json()
    assert job["status"] == "succeeded"
    assert job["counts"] == {"published": PRODUCTS}
    # each text went to the model exactly once
    assert spent["requests"] == PRODUCTS
    engine = create_engine(llm_settings)
    try:
        async with engine.connect() as conn:
            providers = (
                await conn.execute(
                    text("SELECT provider, count(*) FROM segments WHERE job_id = :j GROUP BY 1"),
                    {"j": job_id},
                )
            ).all()
    finally:
        await engine.dispose()
    assert dict(providers) == {"pseudo": PRODUCTS}  # none "translated" again from memory
    # every token the model returned is in the job's usage
    assert job["usage"]["prompt_tokens"] == spent["prompt_tokens"]
    assert job["usage"]["completion_tokens"] == spent["completion_tokens"]


async def _translating(settings: Settings, job_id: str) -> int:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT count(*) FROM segments WHERE job_id = :j AND status = 'translating'"),
                {"j": job_id},
            )
    finally:
        await engine.dispose()
    return int(found or 0)


async def test_tokens_of_a_claim_taken_back_mid_call_are_still_counted(
    client: AsyncTestClient[Litestar], llm_settings: Settings, tenant: TenantCtx, fake_llm: str
) -> None:
    """A claim can still be lost (a worker stalled past its lease): the calls it made were paid
    for, so they are in the job's usage even though another worker translated the texts."""
    quick = dataclasses.replace(
        llm_settings, translation_batch_size=4, translation_parallel_jobs=1,
        sweep_requeue_after_seconds=0,
    )  # fmt: skip
    for n in range(4):
        body = {"title": f"Hand-thrown clay vase number {n}"}
        response = await client.put(f"/v1/products/VASE-{n}", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.text
    await reset_stats(fake_llm)
    async with httpx.AsyncClient(base_url=fake_llm) as http:
        (await http.post("/_control", json={"latency_ms": 1000})).raise_for_status()
    try:
        created = await client.post(
            "/v1/translation-jobs", json={"target_locales": ["nl-NL"], "all": True},
            headers=tenant.headers,
        )  # fmt: skip
        job_id = created.json()["id"]
        worker = asyncio.create_task(drain_queue(quick))
        deadline = time.monotonic() + 30
        while await _translating(quick, job_id) == 0:
            assert time.monotonic() < deadline, "the worker never claimed a batch"
            await asyncio.sleep(0.05)
        # the sweeper takes every claim back, as it would from a worker stalled past its lease
        engine, queue = create_engine(quick), create_queue(quick)
        try:
            expired = dataclasses.replace(quick, translation_claim_lease_seconds=0)
            taken = await sweep_segments(engine, queue, expired, RUN_FUNCTION, PREPARE_FUNCTION)
        finally:
            await queue.aclose()
            await engine.dispose()
        assert taken["claims_taken_back"] == 4
        await worker
    finally:
        async with httpx.AsyncClient(base_url=fake_llm) as http:
            (await http.post("/_control", json={"latency_ms": 0})).raise_for_status()
            spent = (await http.get("/_stats")).json()

    job = (await client.get(f"/v1/translation-jobs/{job_id}", headers=tenant.headers)).json()
    assert job["counts"] == {"published": 4}
    assert spent["requests"] == 8  # the lost claim's calls, and the new claim's
    assert job["usage"]["prompt_tokens"] == spent["prompt_tokens"]
    assert job["usage"]["completion_tokens"] == spent["completion_tokens"]
