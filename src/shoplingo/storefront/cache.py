"""Per-process state of the storefront read path: its own connection pool, verified keys and
each tenant's versions, kept fresh by PostgreSQL notifications.

Consistency. The database triggers bump ``storefront_versions`` and send ``NOTIFY
shoplingo_storefront`` in the transaction that changes served text; PostgreSQL delivers the
notification to every listening process when (and only if) that transaction commits. On a
notification this process forgets the tenant's cached versions, so the next request reads them
again. A request therefore answers 304 from memory only when no commit that changed the
tenant's storefront has been delivered to this process since the versions were read; the gap
between a commit and its delivery is the time the notification takes to cross one local
socket (well under a millisecond on one machine or LAN). A body read from the database takes
its ETag from the same statement (the same snapshot) as its content and is kept under it
(``storefront.answers``); a later request whose ETag, from these versions, names it gets those
bytes, which is exactly as fresh as a 304.

While the listening connection is down no versions are cached (every request reads them from
the database), and every reconnection starts from empty caches, so a missed notification can
never keep a stale version alive. Cached keys also expire after
``storefront_key_cache_seconds``; a revocation evicts them at once through the same channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec
import structlog
from sqlalchemy.engine import make_url

from shoplingo.core.auth import Principal, hash_secret, split_key
from shoplingo.core.ratelimit import Budgets, budgets, decode_overrides
from shoplingo.legal.classifier import Classifier, classifier_for, shop_locales
from shoplingo.settings import Settings
from shoplingo.storefront.answers import AnswerCache
from shoplingo.storefront.locales import fallback_chain
from shoplingo.storefront.streams import StreamSlots

log = structlog.get_logger(__name__)

CHANNEL = "shoplingo_storefront"
MAX_ENTRIES = 10_000
RECONNECT_SECONDS = 1.0

KEY_QUERY = """
SELECT k.id, k.tenant_id, k.member_id, k.scopes, k.secret_hash, k.publishable,
       k.revoked_at IS NULL AND m.deactivated_at IS NULL AS active, m.role
FROM api_keys k
LEFT JOIN members m ON m.tenant_id = k.tenant_id AND m.id = k.member_id
WHERE k.prefix = $1
"""

TENANT_QUERY = """
SELECT t.source_locale, t.target_locales, (t.settings -> 'storefront')::text AS storefront,
       (t.settings -> 'legal')::text AS legal,
       (t.settings -> 'rate_limits')::text AS rate_limits,
       (SELECT coalesce(json_object_agg(v.locale, v.version), '{}')::text
        FROM storefront_versions v WHERE v.tenant_id = t.id) AS versions
FROM tenants t WHERE t.id = $1
"""


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


async def _keep_session(_: asyncpg.Connection) -> None:
    """Pool reset hook: read-only statements leave nothing to reset (saves a round trip)."""


@dataclass(slots=True)
class CachedKey:
    secret_hash: bytes
    principal: Principal | None  # None: revoked or its member deactivated
    expires: float


class _Fallbacks(msgspec.Struct):
    cors_origins: list[str] = msgspec.field(default_factory=list)
    fallbacks: dict[str, list[str]] = msgspec.field(default_factory=dict)


@dataclass(slots=True)
class TenantState:
    tenant_id: uuid.UUID
    source_locale: str
    targets: tuple[str, ...]
    fallbacks: dict[str, tuple[str, ...]]
    cors_origins: frozenset[str]
    versions: dict[str, int]
    # the tenant's current legal rules (translation.serving asks them about unapproved texts)
    classifier: Classifier
    # the tenant's storefront rate limits
    budgets: Budgets
    chains: dict[str, tuple[str, ...] | None] = field(default_factory=dict)

    @property
    def locales(self) -> list[str]:
        return [self.source_locale, *self.targets]

    def chain(self, requested: str) -> tuple[str, ...] | None:
        if requested not in self.chains:
            if len(self.chains) > 256:
                self.chains.clear()
            self.chains[requested] = fallback_chain(
                requested, source=self.source_locale, targets=self.targets, overrides=self.fallbacks
            )
        return self.chains[requested]


def tenant_state(tenant_id: uuid.UUID, row: Any, settings: Settings) -> TenantState:
    config = msgspec.json.decode(row["storefront"] or "{}", type=_Fallbacks)
    return TenantState(
        tenant_id=tenant_id,
        source_locale=row["source_locale"],
        targets=tuple(row["target_locales"]),
        fallbacks={k: tuple(v) for k, v in config.fallbacks.items()},
        cors_origins=frozenset(config.cors_origins),
        versions=msgspec.json.decode(row["versions"], type=dict[str, int]),
        classifier=classifier_for(
            tenant_id,
            {"legal": msgspec.json.decode(row["legal"])} if row["legal"] else None,
            shop_locales(row["source_locale"], row["target_locales"]),
        ),
        budgets=budgets(settings, decode_overrides(row["rate_limits"]), "storefront"),
    )


class Storefront:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dsn = asyncpg_dsn(settings.database_url)
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self.listening = False
        # bumped on every (re)connection and per tenant on each notification: a load that
        # started before either must not be stored
        self._epoch = 0
        self._generations: dict[uuid.UUID, int] = {}
        # bumped on every key notification: a key read that started before one must not be
        # stored (it may be the row as it was before a revocation)
        self._key_generation = 0
        self._tenants: dict[uuid.UUID, TenantState] = {}
        self._keys: dict[str, CachedKey] = {}
        # full token -> its verified entry: a warm request skips parsing and hashing the key
        self._verified: dict[str, CachedKey] = {}
        self.answers = AnswerCache(settings.storefront_answer_cache_bytes)
        self.streams = StreamSlots(
            settings.storefront_bundle_streams_per_key,
            settings.storefront_bundle_streams_per_tenant,
        )
        self._synced: set[str] = set()
        self._connected = asyncio.Event()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the storefront is not started")
        return self._pool

    async def start(self) -> None:
        # connects lazily: the API starts (and reports not ready) while PostgreSQL is down
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=0,
            max_size=self.settings.storefront_pool_size,
            reset=_keep_session,
            server_settings={"application_name": "shoplingo-storefront"},
        )
        self._task = asyncio.create_task(self._listen_forever())
        # serve at once, but give the listener a moment so a fresh process caches from the start
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=2)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pool is not None:
            await self._pool.close()

    # -- notifications -------------------------------------------------------------------

    async def _listen_forever(self) -> None:
        while True:
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(
                    self.dsn, server_settings={"application_name": "shoplingo-storefront-listen"}
                )
                conn.add_termination_listener(lambda _, event=lost: event.set())
                await conn.add_listener(CHANNEL, self._notified)
                self._listener = conn
                self._forget_all()
                self.listening = True
                self._connected.set()
                try:
                    await lost.wait()
                finally:
                    self.listening = False
                    self._listener = None
                    self._forget_all()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), timeout=1)
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("storefront_listener_down", error=str(exc))
            await asyncio.sleep(RECONNECT_SECONDS)

    def _forget_all(self) -> None:
        self._epoch += 1
        self._tenants.clear()
        self._keys.clear()
        self._verified.clear()
        # entries are keyed by versions and never go stale, but a reconnection is rare and a
        # clean start costs nothing
        self.answers.clear()

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload.startswith("key:"):
            self._key_generation += 1
            self._keys.pop(payload[4:], None)
            self._verified.clear()
        elif payload.startswith("sync:"):
            if len(self._synced) >= MAX_ENTRIES:
                self._synced.clear()
            self._synced.add(payload[5:])
        else:
            try:
                tenant_id = uuid.UUID(payload)
            except ValueError:
                return
            self._tenants.pop(tenant_id, None)
            self._generations[tenant_id] = self._generations.get(tenant_id, 0) + 1

    def seen(self, token: str) -> bool:
        """Whether ``NOTIFY shoplingo_storefront, 'sync:<token>'`` has arrived here. PostgreSQL
        delivers notifications in commit order, so once it has, so has every notification of
        a transaction that committed before it was sent (tests use this as a barrier)."""
        return token in self._synced

    # -- cached reads --------------------------------------------------------------------

    async def tenant(self, tenant_id: uuid.UUID) -> TenantState | None:
        state = self._tenants.get(tenant_id) if self.listening else None
        if state is not None:
            return state
        epoch, generation = self._epoch, self._generations.get(tenant_id, 0)
        row = await self.pool.fetchrow(TENANT_QUERY, tenant_id)
        if row is None:
            return None
        state = tenant_state(tenant_id, row, self.settings)
        if (
            self.listening
            and epoch == self._epoch
            and generation == self._generations.get(tenant_id, 0)
        ):
            if len(self._tenants) >= MAX_ENTRIES:
                self._tenants.clear()
            self._tenants[tenant_id] = state
        return state

    async def authenticate(self, token: str) -> Principal | None:
        """The key's principal, from memory when it was verified recently."""
        known = self._verified.get(token) if self.listening else None
        if known is not None and known.expires >= time.monotonic():
            return known.principal
        parts = split_key(token)
        if parts is None:
            return None
        prefix, secret = parts
        now = time.monotonic()
        entry = self._keys.get(prefix) if self.listening else None
        if entry is None or entry.expires < now:
            epoch, generation = self._epoch, self._key_generation
            row = await self.pool.fetchrow(KEY_QUERY, prefix)
            if row is None:
                return None
            entry = CachedKey(
                secret_hash=bytes(row["secret_hash"]),
                principal=Principal(
                    tenant_id=row["tenant_id"],
                    key_id=row["id"],
                    member_id=row["member_id"],
                    role=row["role"],
                    scopes=frozenset(row["scopes"]),
                    publishable=row["publishable"],
                )
                if row["active"]
                else None,
                expires=now + self.settings.storefront_key_cache_seconds,
            )
            if self.listening and epoch == self._epoch and generation == self._key_generation:
                if len(self._keys) >= MAX_ENTRIES:
                    self._keys.clear()
                self._keys[prefix] = entry
        if entry.principal is None or not hmac.compare_digest(
            entry.secret_hash, hash_secret(secret)
        ):
            return None
        if self.listening and self._keys.get(prefix) is entry:
            if len(self._verified) >= MAX_ENTRIES:
                self._verified.clear()
            self._verified[token] = entry
        return entry.principal
