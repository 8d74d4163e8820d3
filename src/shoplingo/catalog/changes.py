"""The one place that announces "these products' source text changed".

Translations subscribe to it (to mark their segments stale); the products API and the bulk
importer both report through :func:`source_changed`, inside the transaction that made the
change, so a listener's writes commit or roll back with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

SourceChangedListener = Callable[[AsyncConnection, uuid.UUID, Sequence[uuid.UUID]], Awaitable[None]]
_listeners: list[SourceChangedListener] = []


def on_source_changed(listener: SourceChangedListener) -> SourceChangedListener:
    """Register a listener (a decorator); registering the same function twice is a no-op."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def remove_listener(listener: SourceChangedListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


async def source_changed(
    conn: AsyncConnection, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> None:
    """Existing products whose content changed (new products have nothing to invalidate)."""
    if not product_ids:
        return
    for listener in list(_listeners):
        await listener(conn, tenant_id, product_ids)
