"""arq functions for the storefront's change log (ids in, never ORM objects)."""

from __future__ import annotations

from typing import Any

from shoplingo.core.db import transaction
from shoplingo.storefront import feed


async def prune_changes(ctx: dict[str, Any]) -> int:
    """Cron: the change feed keeps storefront_changes_retention_days of history."""
    async with transaction(ctx["sessionmaker"]) as session:
        return await feed.prune_changes(session, ctx["settings"])
