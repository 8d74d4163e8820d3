"""The segment claims a worker holds, kept alive while their model calls are out.

A claim is a lease: ``claimed_at`` older than ``SHOPLINGO_TRANSLATION_CLAIM_LEASE_SECONDS``
means its worker died, and the sweeper puts the segment back in the queue. A batch can wait
longer than that for its calls (a slow model, a busy tenant's concurrency limit), so while a
worker holds claims a heartbeat renews them every third of the lease. ``claimed_at`` is also
the claim's identity: only the worker whose ``claimed_at`` is current may save, so each renewal
hands back the new values, and a claim is taken out of the heartbeat (``release``) before its
batch is saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import asyncpg
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger(__name__)

# a claim that was taken back (or saved) meanwhile is left alone
RENEW = """
UPDATE segments AS s SET claimed_at = clock_timestamp()
FROM unnest($2::uuid[], $3::timestamptz[]) AS c(id, claimed_at)
WHERE s.tenant_id = $1 AND s.id = c.id AND s.status = 'translating'
  AND s.claimed_at = c.claimed_at
RETURNING s.id, s.claimed_at
"""


class ClaimKeeper:
    """``async with ClaimKeeper(...) as claims:`` ``claims.hold(rows)`` after each claim, and
    ``await claims.release(ids)`` for the claim values to save a batch with."""

    def __init__(self, engine: AsyncEngine, tenant_id: uuid.UUID, lease_seconds: float) -> None:
        self.engine = engine
        self.tenant_id = tenant_id
        self.interval = max(lease_seconds, 0.1) / 3
        self._held: dict[uuid.UUID, datetime] = {}
        # a renewal and a release never interleave: a batch is saved with its current values
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def hold(self, claimed: Sequence[Any]) -> None:
        self._held.update({row["id"]: row["claimed_at"] for row in claimed})

    async def release(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, datetime]:
        async with self._lock:
            return {i: self._held.pop(i) for i in ids if i in self._held}

    async def renew(self) -> None:
        async with self._lock:
            if not self._held:
                return
            ids, values = zip(*self._held.items(), strict=True)
            async with self.engine.connect() as conn:
                raw: Any = (await conn.get_raw_connection()).driver_connection
                rows = await raw.fetch(RENEW, self.tenant_id, list(ids), list(values))
            self._held.update({row["id"]: row["claimed_at"] for row in rows})

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.renew()
            except (SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as e:
                # the next beat may still get through before the lease runs out
                log.warning("claim_renewal_failed", error=str(e))

    async def __aenter__(self) -> ClaimKeeper:
        self._task = asyncio.create_task(self._beat())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._task is not None:
            async with self._lock:  # a renewal under way finishes first
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
