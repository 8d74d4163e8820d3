"""Request rate limits per API key and per tenant, shared by every API process through Redis.

Each call is charged to two token buckets at once: its key's and its tenant's, in one of two
classes (``storefront`` reads; ``api``, every other call), so a busy plugin cannot spend the
budget the shop's own integrations need and one key cannot spend its tenant's whole budget. A
bucket holds up to ``burst`` tokens and refills at ``rate`` per second; a call is let through
only when both buckets hold its cost, and then takes it from both. One Lua script reads,
refills and charges both buckets with the Redis server's clock: one round trip per request,
and every process (on any machine) agrees.

Limits come from the settings (``rate_limit_*``) unless the tenant overrides them
(``tenants.settings["rate_limits"]``, changed through ``tenants.rate_limits``). A rate of 0
means no limit for that bucket.

When Redis is unreachable the limiter fails open (the call goes through, without headers) and
says so in the log, once per ``OUTAGE_SECONDS``, during which it does not ask Redis again: a
Redis outage must not take the storefront down or slow every request by a timeout.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import structlog
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from shoplingo.core.auth import Principal
from shoplingo.core.errors import ProblemError
from shoplingo.core.i18n import N_
from shoplingo.settings import Settings

log = structlog.get_logger(__name__)

Kind = Literal["storefront", "api"]
KINDS: tuple[Kind, ...] = ("storefront", "api")
# the tenant setting's key in tenants.settings
SETTING = "rate_limits"
OUTAGE_SECONDS = 5.0

# KEYS: the key's bucket, the tenant's bucket (hashes: t = last update, v = tokens then)
# ARGV: cost, key rate, key burst, tenant rate, tenant burst (a rate <= 0: no limit)
# Returns {allowed, key tokens left, tenant tokens left, seconds to wait} as strings (Redis
# would truncate Lua numbers to integers); an unlimited bucket reports -1 tokens.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost = tonumber(ARGV[1])
local levels = {}
local wait = 0
for i = 1, 2 do
  local rate, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  if rate > 0 then
    local state = redis.call('HMGET', KEYS[i], 't', 'v')
    local level = burst
    if state[1] then
      level = math.min(burst, tonumber(state[2]) + math.max(0, now - tonumber(state[1])) * rate)
    end
    levels[i] = level
    if level < cost then wait = math.max(wait, (cost - level) / rate) end
  else
    levels[i] = -1
  end
end
if wait == 0 then
  for i = 1, 2 do
    local rate, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
    if rate > 0 then
      levels[i] = levels[i] - cost
      redis.call('HSET', KEYS[i], 't', string.format('%.6f', now),
                 'v', string.format('%.6f', levels[i]))
      -- a bucket left alone until full again holds nothing worth keeping
      redis.call('PEXPIRE', KEYS[i], math.ceil((burst - levels[i]) / rate * 1000) + 1000)
    end
  end
end
return {wait == 0 and '1' or '0', string.format('%.6f', levels[1]),
        string.format('%.6f', levels[2]), string.format('%.6f', wait)}
"""


class RateLimitOverrides(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A tenant's own limits; a field left out (None) takes the deployment's default. Rates are
    requests per second, bursts the requests a bucket holds when full."""

    storefront_key_per_second: float | None = None
    storefront_key_burst: int | None = None
    storefront_tenant_per_second: float | None = None
    storefront_tenant_burst: int | None = None
    api_key_per_second: float | None = None
    api_key_burst: int | None = None
    api_tenant_per_second: float | None = None
    api_tenant_burst: int | None = None


FIELDS: tuple[str, ...] = RateLimitOverrides.__struct_fields__


def default_limits(settings: Settings) -> dict[str, float]:
    """Every field of ``RateLimitOverrides`` with the deployment's value."""
    return {name: getattr(settings, f"rate_limit_{name}") for name in FIELDS}


@dataclass(frozen=True, slots=True)
class Bucket:
    rate: float  # tokens per second; <= 0: no limit
    burst: float


@dataclass(frozen=True, slots=True)
class Budgets:
    """The two buckets a call of one class is charged to."""

    key: Bucket
    tenant: Bucket

    @property
    def unlimited(self) -> bool:
        return self.key.rate <= 0 and self.tenant.rate <= 0


def budgets(settings: Settings, overrides: Mapping[str, Any] | None, kind: Kind) -> Budgets:
    """The limits of one class of calls for a tenant (its overrides as stored, or None)."""
    values = default_limits(settings)
    if overrides:
        values.update({k: v for k, v in overrides.items() if k in values and v is not None})
    return Budgets(
        key=Bucket(float(values[f"{kind}_key_per_second"]), float(values[f"{kind}_key_burst"])),
        tenant=Bucket(
            float(values[f"{kind}_tenant_per_second"]), float(values[f"{kind}_tenant_burst"])
        ),
    )


def decode_overrides(raw: str | bytes | None) -> dict[str, Any] | None:
    """The stored setting (JSON text, as the storefront's raw SQL reads it) as a mapping."""
    if not raw:
        return None
    value = msgspec.json.decode(raw)
    return value if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        """``RateLimit-*`` (draft-ietf-httpapi-ratelimit-headers) for the bucket that binds,
        and ``Retry-After`` when the call was refused."""
        out = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset_seconds).encode()),
        ]
        if not self.allowed:
            out.append((b"retry-after", str(self.retry_after).encode()))
        return out


def rate_limited(verdict: Verdict, kind: Kind, scope: str) -> ProblemError:
    """The 429 for a refused call; ``scope`` names the bucket that ran dry (key or tenant)."""
    return ProblemError(
        N_("Too many requests: retry after the time in Retry-After."),
        code="rate_limited",
        status_code=429,
        extra={"limit_class": kind, "limit_scope": scope, "retry_after": verdict.retry_after},
        headers={name.decode(): value.decode() for name, value in verdict.headers()},
    )


def _verdict(bucket: Bucket, level: float, allowed: bool, wait: float) -> Verdict:
    remaining = max(0.0, level)
    return Verdict(
        allowed=allowed,
        limit=int(bucket.burst),
        remaining=math.floor(remaining),
        reset_seconds=math.ceil(max(0.0, bucket.burst - remaining) / bucket.rate),
        retry_after=max(1, math.ceil(wait)) if not allowed else 0,
    )


class RateLimiter:
    """Charges calls to their buckets (see the module docstring). Owns its Redis client, with
    short timeouts: a stalled Redis costs a request at most ``rate_limit_redis_timeout_seconds``
    once per outage window."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.prefix = f"{settings.redis_prefix}:ratelimit"
        timeout = settings.rate_limit_redis_timeout_seconds
        self.redis = Redis(
            connection_pool=ConnectionPool.from_url(
                settings.redis_url, socket_connect_timeout=timeout, socket_timeout=timeout
            )
        )
        self._take = self.redis.register_script(_TAKE)
        self._down_until = 0.0

    async def aclose(self) -> None:
        await self.redis.aclose()

    async def take(
        self,
        kind: Kind,
        budgets: Budgets,
        *,
        key_id: uuid.UUID,
        tenant_id: uuid.UUID,
        cost: float = 1.0,
    ) -> tuple[Verdict, str] | None:
        """Charge one call: (the verdict of the bucket that binds, "key" or "tenant"), or None
        when nothing limits it (no limit set, or Redis down: fail open)."""
        if budgets.unlimited or time.monotonic() < self._down_until:
            return None
        keys = [f"{self.prefix}:{kind}:key:{key_id}", f"{self.prefix}:{kind}:tenant:{tenant_id}"]
        key, tenant = budgets.key, budgets.tenant
        args = [cost, key.rate, key.burst, tenant.rate, tenant.burst]
        try:
            answer = await self._take(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._down_until = time.monotonic() + OUTAGE_SECONDS
            log.warning(
                "rate_limits_unavailable",
                error=str(exc) or type(exc).__name__,
                detail=f"calls go through unlimited; Redis is asked again in {OUTAGE_SECONDS} s",
            )
            return None
        allowed, key_level, tenant_level, wait = (float(v) for v in answer)
        if key.rate <= 0:
            use_key = False
        elif tenant.rate <= 0:
            use_key = True
        elif not allowed:
            # the bucket that needs longer to hold the cost again
            use_key = (cost - key_level) / key.rate >= (cost - tenant_level) / tenant.rate
        else:
            use_key = key_level <= tenant_level
        if use_key:
            return _verdict(key, key_level, allowed == 1, wait), "key"
        return _verdict(tenant, tenant_level, allowed == 1, wait), "tenant"


class ApiRateLimitMiddleware(ASGIMiddleware):
    """Charges every authenticated call outside the storefront (which charges its own, see
    ``storefront.middleware``) to the ``api`` limits; runs after the key is authenticated."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, exclude: tuple[str, ...]) -> None:
        # judged on the request's path (Litestar's exclude_path_pattern is moving to the route's)
        skip = re.compile("|".join(exclude))
        self.should_bypass_for_scope = lambda scope: skip.match(scope["path"]) is not None

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        principal = scope.get("user")
        if not isinstance(principal, Principal):
            # OPTIONS passes without a key (see core.auth); nothing to charge
            await next_app(scope, receive, send)
            return
        app: Any = scope["app"]
        limiter: RateLimiter = app.state.rate_limiter
        charged = await limiter.take(
            "api",
            budgets(limiter.settings, principal.rate_limits, "api"),
            key_id=principal.key_id,
            tenant_id=principal.tenant_id,
        )
        if charged is None:
            await next_app(scope, receive, send)
            return
        verdict, bucket = charged
        if not verdict.allowed:
            raise rate_limited(verdict, "api", bucket)
        extra = verdict.headers()

        async def send_with_limits(event: Message) -> None:
            message: Any = event
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await next_app(scope, receive, send_with_limits)
