"""The one place that announces "these products' source text changed".

The products API and the bulk importer both report through :func:`source_changed`, inside the
transaction that made the change. Translations react (their segments go stale) through the
listener that :mod:`shoplingo.hooks` connects to :data:`SOURCE_CHANGED`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from shoplingo.core.signals import Signal

# (connection of the change's transaction, tenant id, ids of the changed products)
SOURCE_CHANGED: Signal[[AsyncConnection, uuid.UUID, Sequence[uuid.UUID]]] = Signal("source_changed")


async def source_changed(
    conn: AsyncConnection, tenant_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> None:
    """Existing products whose content changed (new products have nothing to invalidate)."""
    if product_ids:
        await SOURCE_CHANGED.send(conn, tenant_id, product_ids)
