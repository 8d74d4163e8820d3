"""LLM call limits shared by every worker process through Redis.

Before each call a worker takes a slot: a lease in the global and in the tenant's set of
in-flight calls (sorted sets scored by expiry, so a killed process frees its slots when its
leases run out). Leases are short (``SHOPLINGO_LLM_SLOT_LEASE_SECONDS``) and renewed every
third of that while the call is out, so a live call keeps its slot however long it takes and a
killed worker's slots come back within seconds. A slot also takes one request from the
requests-per-minute budget and the estimated tokens from the tokens-per-minute budget. One Lua
script checks and takes everything atomically with the Redis server's clock, so workers on
several machines agree.

Budgets are sliding-window counters: the current window's count plus the previous window's
count weighted by how much of it still overlaps the last minute. That needs two numbers per
budget instead of a log of every call, and smooths the burst a fixed window allows at its edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shoplingo.settings import Settings

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# KEYS: global leases, tenant leases, request counts, token counts (hashes: window -> count)
# ARGV: lease id, lease ms, global limit, tenant limit, rpm, tpm, tokens, window ms, poll ms
# Returns {1, window} when the slot is taken, else {0, ms to wait before asking again}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease_ms = tonumber(ARGV[2])
local global_limit = tonumber(ARGV[3])
local tenant_limit = tonumber(ARGV[4])
local tokens = tonumber(ARGV[7])
local window_ms = tonumber(ARGV[8])
local poll_ms = tonumber(ARGV[9])
local window = math.floor(now / window_ms)
local elapsed = (now - window * window_ms) / window_ms

local function budget_wait(key, limit, cost)
  if limit <= 0 then return 0 end
  if cost > limit then cost = limit end
  local cur = tonumber(redis.call('HGET', key, tostring(window)) or '0')
  local prev = tonumber(redis.call('HGET', key, tostring(window - 1)) or '0')
  if cur + prev * (1 - elapsed) + cost <= limit then return 0 end
  if cur + cost <= limit then
    -- enough once more of the previous window has slid out
    local needed = 1 - (limit - cost - cur) / prev
    return math.max(1, math.ceil((needed - elapsed) * window_ms))
  end
  -- not before the next window, and then only once enough of this one has slid out
  local needed = 1 - (limit - cost) / cur
  return math.max(1, math.ceil((1 - elapsed + needed) * window_ms))
end

local wait = 0
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if global_limit > 0 and redis.call('ZCARD', KEYS[1]) >= global_limit then wait = poll_ms end
if tenant_limit > 0 and redis.call('ZCARD', KEYS[2]) >= tenant_limit then wait = poll_ms end
wait = math.max(wait, budget_wait(KEYS[3], tonumber(ARGV[5]), 1))
wait = math.max(wait, budget_wait(KEYS[4], tonumber(ARGV[6]), tokens))
if wait > 0 then return {0, wait} end

for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now + lease_ms, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], lease_ms)
end
for i = 3, 4 do
  redis.call('HINCRBY', KEYS[i], tostring(window), i == 3 and 1 or tokens)
  for _, old in ipairs(redis.call('HKEYS', KEYS[i])) do
    if tonumber(old) < window - 1 then redis.call('HDEL', KEYS[i], old) end
  end
  redis.call('PEXPIRE', KEYS[i], 2 * window_ms)
end
return {1, window}
"""

# KEYS: global leases, tenant leases. ARGV: lease id, lease ms. Pushes the lease's expiry out
# (only while it is still held: an expired lease is not brought back).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease_ms = tonumber(ARGV[2])
for i = 1, 2 do
  local score = redis.call('ZSCORE', KEYS[i], ARGV[1])
  if score and tonumber(score) > now then
    redis.call('ZADD', KEYS[i], 'XX', now + lease_ms, ARGV[1])
    if redis.call('PTTL', KEYS[i]) < lease_ms then redis.call('PEXPIRE', KEYS[i], lease_ms) end
  end
end
return 0
"""

# KEYS: token counts. ARGV: window, delta. A window that has already slid out is left alone.
_CORRECT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
end
return 0
"""


class SlotUnavailable(TimeoutError):
    """No slot came free within the limiter's ``max_wait_seconds``."""


def estimate_tokens(text: str) -> int:
    """A cautious token estimate: ~4 bytes of UTF-8 per token (CJK: ~1 token per character)."""
    return max(1, math.ceil(len(text.encode("utf-8")) / 4))


@dataclass(slots=True)
class Lease:
    id: str
    tenant_id: str
    window: int
    estimated_tokens: int
    limiter: Limiter = field(repr=False)

    async def record_usage(self, tokens: int) -> None:
        """Replace the estimate in the tokens-per-minute budget with the real usage."""
        delta = tokens - self.estimated_tokens
        if delta:
            await self.limiter.correct(self, delta)
            self.estimated_tokens = tokens


class Limiter:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        scope: str,
        concurrency: int,
        tenant_concurrency: int,
        requests_per_window: int,
        tokens_per_window: int,
        lease_seconds: float,
        window_seconds: float = 60.0,
        max_wait_seconds: float | None = 600.0,
        max_poll_seconds: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.redis = redis
        self.base = f"{prefix}:llm:{scope}"
        self.concurrency = concurrency
        self.tenant_concurrency = tenant_concurrency
        self.requests_per_window = requests_per_window
        self.tokens_per_window = tokens_per_window
        self.lease_ms = max(1, round(lease_seconds * 1000))
        self.window_ms = max(1, round(window_seconds * 1000))
        self.max_wait_seconds = max_wait_seconds
        self.max_poll_seconds = max_poll_seconds
        self.sleep = sleep
        self._acquire = redis.register_script(_ACQUIRE)
        self._correct = redis.register_script(_CORRECT)
        self._renew = redis.register_script(_RENEW)
        # In-process gates in front of the shared ones: waiters in this process queue here and
        # are woken the moment a call ends, instead of polling Redis (a poll interval is dead
        # time for a freed slot, comparable to a whole call).
        self._local = asyncio.Semaphore(concurrency) if concurrency > 0 else None
        self._local_tenants: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, redis: Redis, *, scope: str, **overrides: Any
    ) -> Limiter:
        values: dict[str, Any] = {
            "prefix": settings.redis_prefix,
            "scope": scope,
            "concurrency": settings.llm_concurrency,
            "tenant_concurrency": settings.llm_tenant_concurrency,
            "requests_per_window": settings.llm_requests_per_minute,
            "tokens_per_window": settings.llm_tokens_per_minute,
            "window_seconds": 60.0,
            "lease_seconds": settings.llm_slot_lease_seconds,
        }
        return cls(redis, **(values | overrides))

    def _keys(self, tenant_id: str) -> list[str]:
        return [
            f"{self.base}:leases",
            f"{self.base}:leases:{tenant_id}",
            f"{self.base}:requests",
            f"{self.base}:tokens",
        ]

    async def acquire(self, tenant_id: str, estimated_tokens: int) -> Lease:
        """Wait until every limit allows one more call, and take its share of each."""
        lease_id = uuid.uuid4().hex
        poll_ms = max(1, round(self.max_poll_seconds * 1000))
        deadline = (
            None if self.max_wait_seconds is None else time.monotonic() + self.max_wait_seconds
        )
        args: list[str | int] = [
            lease_id,
            self.lease_ms,
            self.concurrency,
            self.tenant_concurrency,
            self.requests_per_window,
            self.tokens_per_window,
            estimated_tokens,
            self.window_ms,
            poll_ms,
        ]
        while True:
            granted, value = await self._acquire(keys=self._keys(tenant_id), args=args)
            if granted:
                return Lease(lease_id, tenant_id, int(value), estimated_tokens, self)
            # jitter spreads the pollers out; the cap keeps a freed slot from idling long
            wait = min(int(value) / 1000, self.max_poll_seconds) * (0.5 + random.random() / 2)
            if deadline is not None and time.monotonic() + wait > deadline:
                raise SlotUnavailable(
                    f"no LLM slot for tenant {tenant_id} within {self.max_wait_seconds:g} s"
                )
            await self.sleep(wait)

    async def release(self, lease: Lease) -> None:
        keys = self._keys(lease.tenant_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(keys[0], lease.id)
            pipe.zrem(keys[1], lease.id)
            await pipe.execute()

    async def renew(self, lease: Lease) -> None:
        await self._renew(keys=self._keys(lease.tenant_id)[:2], args=[lease.id, self.lease_ms])

    async def _keep(self, lease: Lease) -> None:
        """Renew ``lease`` every third of its length until cancelled."""
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                await self.renew(lease)
            except RedisError as error:  # the next renewal may get through before expiry
                log.warning("llm_slot_renewal_failed", error=str(error))

    async def correct(self, lease: Lease, delta: int) -> None:
        await self._correct(keys=[self._keys(lease.tenant_id)[3]], args=[lease.window, delta])

    @asynccontextmanager
    async def slot(self, tenant_id: str, estimated_tokens: int) -> AsyncIterator[Lease]:
        """``async with limiter.slot(tenant, tokens) as lease:`` one call, then
        ``await lease.record_usage(real_tokens)``."""
        async with AsyncExitStack() as gates:
            if self._local is not None:
                await gates.enter_async_context(self._local)
            if self.tenant_concurrency > 0:
                tenant_gate = self._local_tenants.setdefault(
                    tenant_id, asyncio.Semaphore(self.tenant_concurrency)
                )
                await gates.enter_async_context(tenant_gate)
            lease = await self.acquire(tenant_id, estimated_tokens)
            keeper = asyncio.create_task(self._keep(lease))
            try:
                yield lease
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
                await self.release(lease)
