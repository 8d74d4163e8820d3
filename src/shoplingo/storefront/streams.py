"""What one client can hold of a storefront process while an answer is sent to it.

A bundle is read and encoded before its first byte is sent (``service.Bundle.spool``), so a
client holds no database connection while it reads. What it still holds is the spooled body and
a request of the process: the number of bundle requests answered at once is limited per key and
per shop (429 with Retry-After beyond), and a send the client takes none of for
``storefront_send_timeout_seconds`` ends the answer (the server then closes the connection).
The limits are per API process: N processes allow N times as many.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from litestar.types import Message, Send

from shoplingo.core.errors import ProblemError
from shoplingo.core.i18n import N_

# a slot frees when an answer ends; a stalled one ends within the send timeout
RETRY_AFTER_SECONDS = 5


class ClientStalled(Exception):
    """The client took nothing of a send for the whole send timeout."""


def too_many_streams(per: str, limit: int) -> ProblemError:
    message = (
        N_(
            "This key already has {limit} bundle downloads in progress: retry when one has "
            "finished (see Retry-After)."
        )
        if per == "key"
        else N_(
            "This shop already has {limit} bundle downloads in progress: retry when one has "
            "finished (see Retry-After)."
        )
    )
    return ProblemError(
        message,
        code="too_many_bundle_streams",
        status_code=429,
        params={"limit": limit},
        extra={"limit": limit, "per": per},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class StreamSlots:
    """Counts of the bundle answers in progress, per key and per tenant."""

    __slots__ = ("_keys", "_tenants", "per_key", "per_tenant")

    def __init__(self, per_key: int, per_tenant: int) -> None:
        self.per_key = per_key
        self.per_tenant = per_tenant
        self._keys: dict[uuid.UUID, int] = {}
        self._tenants: dict[uuid.UUID, int] = {}

    def acquire(self, key_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        """Take a slot, or raise 429 naming the limit that is reached."""
        if self._keys.get(key_id, 0) >= self.per_key:
            raise too_many_streams("key", self.per_key)
        if self._tenants.get(tenant_id, 0) >= self.per_tenant:
            raise too_many_streams("tenant", self.per_tenant)
        self._keys[key_id] = self._keys.get(key_id, 0) + 1
        self._tenants[tenant_id] = self._tenants.get(tenant_id, 0) + 1

    def release(self, key_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        for counts, owner in ((self._keys, key_id), (self._tenants, tenant_id)):
            left = counts.get(owner, 0) - 1
            if left > 0:
                counts[owner] = left
            else:
                counts.pop(owner, None)

    def in_use(self, tenant_id: uuid.UUID) -> int:
        return self._tenants.get(tenant_id, 0)


def guarded_send(send: Send, timeout: float) -> Send:
    """``send`` that raises ClientStalled when one call does not complete within ``timeout``
    (the server applies backpressure: a send waits while the client's socket is full)."""

    async def timed(event: Message) -> None:
        message: Any = event
        try:
            async with asyncio.timeout(timeout):
                await send(message)
        except TimeoutError:
            raise ClientStalled from None

    return timed
