"""arq functions for webhooks and the change log (ids in, never ORM objects)."""

from __future__ import annotations

import uuid
from typing import Any

from shoplingo.core.db import transaction
from shoplingo.storefront import webhooks


async def deliver_webhook(ctx: dict[str, Any], tenant_id: str, delivery_id: str) -> str:
    return await webhooks.deliver(
        ctx["sessionmaker"], ctx["redis"], ctx["settings"], uuid.UUID(tenant_id),
        uuid.UUID(delivery_id),
    )  # fmt: skip


async def dispatch_webhooks(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: new publishes become deliveries; deliveries whose message was lost are resent."""
    async with transaction(ctx["sessionmaker"]) as session:
        created = await webhooks.dispatch(session, ctx["redis"], ctx["settings"])
    async with transaction(ctx["sessionmaker"]) as session:
        resent = await webhooks.resend_lost(session, ctx["redis"], ctx["settings"])
    return {"created": created, "resent": resent}


async def prune_changes(ctx: dict[str, Any]) -> int:
    """Cron: the change feed keeps storefront_changes_retention_days of history."""
    async with transaction(ctx["sessionmaker"]) as session:
        return await webhooks.prune_changes(session, ctx["settings"])
