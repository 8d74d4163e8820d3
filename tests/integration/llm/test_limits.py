"""The Redis-backed limiter, shared by several limiter objects as workers would share it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from shoplingo.llm.limits import Limiter, SlotUnavailable, estimate_tokens
from shoplingo.settings import Settings


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


def make_limiter(settings: Settings, redis: Redis, scope: str, **options: Any) -> Limiter:
    values: dict[str, Any] = {
        "prefix": settings.redis_prefix,
        "scope": scope,
        "concurrency": 0,
        "tenant_concurrency": 0,
        "requests_per_window": 0,
        "tokens_per_window": 0,
        "lease_seconds": 10.0,
        "max_poll_seconds": 0.01,
    }
    return Limiter(redis, **(values | options))


def scope() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


async def test_concurrency_is_never_exceeded_globally_or_per_tenant(
    settings: Settings, redis: Redis
) -> None:
    name = scope()
    other_process = Redis.from_url(settings.redis_url)
    limiters = [
        make_limiter(settings, client, name, concurrency=5, tenant_concurrency=2)
        for client in (redis, other_process)
    ]
    in_flight: Counter[str] = Counter()
    peak: Counter[str] = Counter()

    async def call(n: int) -> None:
        tenant = f"tenant-{n % 4}"
        async with limiters[n % 2].slot(tenant, 10):
            in_flight["all"] += 1
            in_flight[tenant] += 1
            peak["all"] = max(peak["all"], in_flight["all"])
            peak[tenant] = max(peak[tenant], in_flight[tenant])
            await asyncio.sleep(0.01)
            in_flight["all"] -= 1
            in_flight[tenant] -= 1

    try:
        await asyncio.gather(*(call(n) for n in range(60)))
    finally:
        await other_process.aclose()

    assert peak["all"] == 5  # reached, never passed
    assert all(peak[f"tenant-{t}"] <= 2 for t in range(4))
    assert max(peak[f"tenant-{t}"] for t in range(4)) == 2
    assert await redis.zcard(f"{settings.redis_prefix}:llm:{name}:leases") == 0


async def test_a_lease_of_a_dead_process_expires_and_frees_its_slot(
    settings: Settings, redis: Redis
) -> None:
    limiter = make_limiter(settings, redis, scope(), concurrency=1, lease_seconds=0.3)
    await limiter.acquire("tenant", 1)  # never released: its process "died"

    started = time.monotonic()
    async with limiter.slot("tenant", 1):
        waited = time.monotonic() - started

    assert 0.2 <= waited < 1.5


async def test_a_released_slot_is_free_at_once(settings: Settings, redis: Redis) -> None:
    limiter = make_limiter(settings, redis, scope(), concurrency=1, tenant_concurrency=1)
    started = time.monotonic()
    for _ in range(5):
        async with limiter.slot("tenant", 1):
            pass
    assert time.monotonic() - started < 0.5


async def test_the_request_budget_makes_the_next_call_wait(
    settings: Settings, redis: Redis
) -> None:
    window = 0.6
    limiter = make_limiter(settings, redis, scope(), requests_per_window=3, window_seconds=window)

    started = time.monotonic()
    for _ in range(3):
        async with limiter.slot("tenant", 1):
            pass
    immediate = time.monotonic() - started
    async with limiter.slot("tenant", 1):
        waited = time.monotonic() - started - immediate

    assert immediate < 0.1
    # at least a third of a window must slide by before a fourth call fits in any window
    assert window / 4 <= waited < 2 * window


async def test_the_token_budget_uses_the_real_usage_once_known(
    settings: Settings, redis: Redis
) -> None:
    window = 5.0
    limiter = make_limiter(
        settings,
        redis,
        scope(),
        tokens_per_window=100,
        window_seconds=window,
        max_wait_seconds=0.2,
    )

    async with limiter.slot("tenant", 80) as lease:
        await lease.record_usage(10)  # far less than estimated
    async with limiter.slot("tenant", 80):
        pass  # 10 + 80 fits
    with pytest.raises(SlotUnavailable):
        async with limiter.slot("tenant", 30):  # 90 + 30 does not
            pass


async def test_one_call_larger_than_the_whole_budget_still_runs_alone(
    settings: Settings, redis: Redis
) -> None:
    limiter = make_limiter(
        settings, redis, scope(), tokens_per_window=100, window_seconds=5, max_wait_seconds=0.2
    )
    async with limiter.slot("tenant", 5_000):
        pass
    with pytest.raises(SlotUnavailable):
        async with limiter.slot("tenant", 1):
            pass


async def test_waiting_is_bounded(settings: Settings, redis: Redis) -> None:
    limiter = make_limiter(settings, redis, scope(), concurrency=1, max_wait_seconds=0.2)
    async with limiter.slot("tenant", 1):
        started = time.monotonic()
        with pytest.raises(SlotUnavailable):
            await limiter.acquire("tenant", 1)
        assert time.monotonic() - started < 0.5


async def test_keys_carry_the_prefix_and_expire(settings: Settings, redis: Redis) -> None:
    name = scope()
    limiter = make_limiter(settings, redis, name, concurrency=2, requests_per_window=10)
    async with limiter.slot("tenant", 5):
        keys = sorted([k.decode() async for k in redis.scan_iter(match=f"*{name}*")])
        ttls = [await redis.pttl(key) for key in keys]

    base = f"{settings.redis_prefix}:llm:{name}"
    assert keys == [f"{base}:leases", f"{base}:leases:tenant", f"{base}:requests", f"{base}:tokens"]
    assert all(ttl > 0 for ttl in ttls)


def test_token_estimate_counts_bytes() -> None:
    assert estimate_tokens("") == 1
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("防水跑鞋") == 3  # 12 bytes


HOLDER = """
import asyncio, sys
from redis.asyncio import Redis
from shoplingo.llm.limits import Limiter
from shoplingo.settings import get_settings

async def main() -> None:
    settings = get_settings()
    limiter = Limiter.from_settings(
        settings, Redis.from_url(settings.redis_url), scope=sys.argv[1], concurrency=1,
        tenant_concurrency=1, requests_per_window=0, tokens_per_window=0,
    )
    async with limiter.slot("tenant", 1):
        print("held", flush=True)
        await asyncio.sleep(3600)  # a call that never ends

asyncio.run(main())
"""


def _start_holder(settings: Settings, name: str) -> subprocess.Popen[bytes]:
    """A process that takes a slot (1 s leases) and never ends its call."""
    env = {
        **os.environ,
        "SHOPLINGO_REDIS_URL": settings.redis_url,
        "SHOPLINGO_REDIS_PREFIX": settings.redis_prefix,
        "SHOPLINGO_LLM_SLOT_LEASE_SECONDS": "1",
    }
    return subprocess.Popen([sys.executable, "-c", HOLDER, name], env=env, stdout=subprocess.PIPE)


async def test_a_killed_callers_slot_is_free_within_seconds_and_a_live_one_keeps_it(
    settings: Settings, redis: Redis
) -> None:
    name = scope()
    holder = _start_holder(settings, name)
    try:
        assert holder.stdout is not None
        assert await asyncio.to_thread(holder.stdout.readline) == b"held\n"
        waiting = make_limiter(settings, redis, name, concurrency=1, max_wait_seconds=2.5)
        # a call that outlasts its lease keeps its slot while its process lives
        with pytest.raises(SlotUnavailable):
            await waiting.acquire("tenant", 1)

        holder.send_signal(signal.SIGKILL)  # the worker dies mid-call
        holder.wait(timeout=10)
        started = time.monotonic()
        async with make_limiter(settings, redis, name, concurrency=1, max_wait_seconds=5).slot(
            "tenant", 1
        ):
            assert time.monotonic() - started < 3
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
