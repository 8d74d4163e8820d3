"""arq functions for webhook deliveries (ids in, never ORM objects)."""

from __future__ import annotations

import uuid
from typing import Any

from shoplingo.core.db import transaction
from shoplingo.webhooks import delivery


async def deliver_webhook(ctx: dict[str, Any], tenant_id: str, delivery_id: str) -> str:
    return await delivery.deliver(
        ctx["sessionmaker"], ctx["redis"], ctx["settings"], uuid.UUID(tenant_id),
        uuid.UUID(delivery_id),
    )  # fmt: skip


async def dispatch_webhooks(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: new publishes become deliveries; deliveries whose message was lost are resent."""
    async with transaction(ctx["sessionmaker"]) as session:
        created = await delivery.dispatch(session, ctx["redis"], ctx["settings"])
    async with transaction(ctx["sessionmaker"]) as session:
        resent = await delivery.resend_lost(session, ctx["redis"], ctx["settings"])
    return {"created": created, "resent": resent}
