"""Webhook endpoints: create (with its signing secret), read, change and remove them, and list
the deliveries to one. Every change is audited. Never commits.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.errors import NotFound
from shoplingo.core.i18n import N_
from shoplingo.core.pagination import keyset_page
from shoplingo.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from shoplingo.storefront.feed import FEED_HORIZON
from shoplingo.webhooks.targets import checked_target

PUBLISHED = "translations.published"
HORIZON = f"SELECT {FEED_HORIZON}"


def endpoint_not_found(endpoint_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Webhook endpoint {id} was not found."),
        code="webhook_not_found",
        params={"id": endpoint_id},
    )


async def create_endpoint(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    url: str,
    events: Sequence[str],
    description: str | None,
    actor: Principal,
    allow_private: bool,
) -> WebhookEndpoint:
    url = await checked_target(url, allow_private=allow_private)
    horizon = int(await session.scalar(text(HORIZON)) or 0)
    endpoint = WebhookEndpoint(
        tenant_id=tenant_id,
        url=url,
        events=list(dict.fromkeys(events)) or [PUBLISHED],
        description=description,
        secret="whsec_" + secrets.token_urlsafe(32),
        active=True,
        # only what is published from now on
        cursor_txid=horizon,
        cursor_id=0,
    )
    session.add(endpoint)
    await session.flush()
    await session.refresh(endpoint)
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="webhook.created",
        entity_type="webhook_endpoint",
        entity_id=endpoint.id,
        after={"url": endpoint.url, "events": endpoint.events},
    )
    return endpoint


async def list_endpoints(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[WebhookEndpoint]:
    return (
        await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.tenant_id == tenant_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    ).all()


async def get_endpoint(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> WebhookEndpoint:
    """``for_update`` locks the row for a change or removal: a request that removed it meanwhile
    makes this a 404 rather than an UPDATE or DELETE of nothing."""
    endpoint = await session.get(
        WebhookEndpoint, (tenant_id, endpoint_id), with_for_update=for_update
    )
    if endpoint is None:
        raise endpoint_not_found(endpoint_id)
    return endpoint


async def update_endpoint(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    actor: Principal,
    allow_private: bool,
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, tenant_id, endpoint_id, for_update=True)
    before = {"url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
    if changes.get("url") is not None:
        endpoint.url = await checked_target(changes["url"], allow_private=allow_private)
    if changes.get("events") is not None:
        endpoint.events = list(dict.fromkeys(changes["events"]))
    if changes.get("active") is not None:
        endpoint.active = bool(changes["active"])
    if "description" in changes:
        endpoint.description = changes["description"]
    endpoint.updated_at = func.now()
    await session.flush()
    await session.refresh(endpoint)
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="webhook.updated",
        entity_type="webhook_endpoint",
        entity_id=endpoint.id,
        before=before,
        after={"url": endpoint.url, "events": endpoint.events, "active": endpoint.active},
    )
    return endpoint


async def delete_endpoint(
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, *, actor: Principal
) -> None:
    endpoint = await get_endpoint(session, tenant_id, endpoint_id, for_update=True)
    await session.delete(endpoint)
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="webhook.deleted",
        entity_type="webhook_endpoint",
        entity_id=endpoint_id,
        before={"url": endpoint.url, "events": endpoint.events},
    )
    await session.flush()


async def list_deliveries(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first."""
    await get_endpoint(session, tenant_id, endpoint_id)
    query = select(WebhookDelivery).where(
        WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.endpoint_id == endpoint_id
    )
    return await keyset_page(
        session, query, at=WebhookDelivery.created_at, row_id=WebhookDelivery.id, limit=limit,
        cursor=cursor, newest_first=True,
    )  # fmt: skip


async def attempts_of(
    session: AsyncSession, tenant_id: uuid.UUID, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookDeliveryAttempt]]:
    """Each delivery's attempts, oldest first (one query for a page of deliveries)."""
    found: dict[uuid.UUID, list[WebhookDeliveryAttempt]] = {d: [] for d in delivery_ids}
    rows = await session.scalars(
        select(WebhookDeliveryAttempt)
        .where(
            WebhookDeliveryAttempt.tenant_id == tenant_id,
            WebhookDeliveryAttempt.delivery_id.in_(list(delivery_ids)),
        )
        .order_by(WebhookDeliveryAttempt.delivery_id, WebhookDeliveryAttempt.number)
    )
    for row in rows:
        found[row.delivery_id].append(row)
    return found
