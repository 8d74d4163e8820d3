"""Webhook endpoints, and signed deliveries of ``translations.published`` with retries.

The change log (``storefront_changes``, written by triggers) is the source: a worker cron turns
what is new past each endpoint's position into a delivery row, and an arq job POSTs it. A
failed POST is retried with exponential backoff (a deferred arq job per attempt); every
attempt's outcome is recorded on the delivery. Never commits (the job wrapper does).

Signature: ``Shoplingo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
A receiver recomputes it over the raw body and rejects old timestamps (replays).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import random
import secrets
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec
import structlog
from arq.connections import ArqRedis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.db import transaction
from shoplingo.core.errors import FieldError, NotFound, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.pagination import keyset_page
from shoplingo.core.queue import enqueue, enqueue_after_commit
from shoplingo.models import WebhookDelivery, WebhookEndpoint
from shoplingo.settings import Settings
from shoplingo.storefront.service import FEED_HORIZON

log = structlog.get_logger(__name__)

PUBLISHED = "translations.published"
DELIVER_FUNCTION = "deliver_webhook"
SIGNATURE_HEADER = "Shoplingo-Signature"
BATCH = 500
MAX_BATCHES_PER_TICK = 20

NEW_PUBLISHES = f"""
SELECT c.txid, c.id, c.sku, c.locale, c.changed_at
FROM storefront_changes c
WHERE c.tenant_id = :tenant_id AND (c.txid, c.id) > (:txid, :row_id) AND c.kind = 'published'
  AND c.txid < {FEED_HORIZON}
ORDER BY c.txid, c.id
LIMIT :limit
"""
HORIZON = f"SELECT {FEED_HORIZON}"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does (used by the tests, documented in the README)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def backoff_seconds(settings: Settings, attempts: int) -> float:
    """After the n-th failed attempt: base * 2^(n-1), capped, plus up to 10% jitter."""
    delay = min(
        settings.webhook_backoff_max_seconds,
        settings.webhook_backoff_base_seconds * 2 ** (attempts - 1),
    )
    return float(delay) * (1 + random.random() * 0.1)


def endpoint_not_found(endpoint_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Webhook endpoint {id} was not found."),
        code="webhook_not_found",
        params={"id": endpoint_id},
    )


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _forbidden(address: Address) -> bool:
    """An address a tenant must not reach through us: anything not on the public internet
    (private and shared networks such as carrier-grade NAT, where Alibaba Cloud's metadata
    service lives, loopback, link-local, reserved) and multicast."""
    return not address.is_global or address.is_multicast


async def _addresses(host: str) -> list[Address]:
    """The host's addresses (itself when it is one); OSError when the name does not resolve."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


class UnusableTarget(Exception):
    """A delivery cannot go to the endpoint's URL (the message says why)."""


class TargetRefused(UnusableTarget):
    """The URL leads to a forbidden address, or cannot lead anywhere: never retried."""

    def __init__(
        self, reason: str = "the URL leads to a private, loopback or link-local address"
    ) -> None:
        super().__init__(f"refused: {reason}")


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    """Where a delivery connects: the URL with its host replaced by an address checked once.
    The request names the original host (Host header, TLS server name and certificate check),
    but the name is not looked up again, so a DNS answer that changes between the check and
    the request (DNS rebinding) cannot point it at a forbidden address."""

    # one per address the name has, to try in turn (IPv6 may be broken where IPv4 works)
    urls: tuple[httpx.URL, ...]
    host_header: str
    server_name: str


async def pin_target(url: str, *, allow_private: bool) -> PinnedTarget:
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")
    try:
        addresses = await _addresses(host)
    except UnicodeError as exc:  # a label too long for DNS, say
        raise TargetRefused(f"the host name is not valid ({exc})") from exc
    except OSError as exc:
        raise UnusableTarget(f"the host name did not resolve: {exc}") from exc
    if not allow_private and any(map(_forbidden, addresses)):
        raise TargetRefused
    return PinnedTarget(
        urls=tuple(parsed.copy_with(host=str(address)) for address in addresses),
        host_header=parsed.netloc.decode("ascii"),
        server_name=host,
    )


def _valid_host(raw_host: bytes) -> bool:
    """An IP address, or a DNS name whose labels fit DNS (httpx accepts longer ones)."""
    host = raw_host.decode("ascii")
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        labels = host.rstrip(".").split(".")
        return len(host) <= 253 and all(0 < len(label) <= 63 for label in labels)


def _checked_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if (
        parsed is None
        or parsed.scheme not in ("http", "https")
        or not parsed.host
        or not _valid_host(parsed.raw_host)
    ):
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="url",
                    code="invalid_url",
                    message=N_("Give an absolute http(s) URL, e.g. https://shop.example/hooks."),
                )
            ]
        )
    return url


async def create_endpoint(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    url: str,
    events: Sequence[str],
    description: str | None,
    actor: Principal,
) -> WebhookEndpoint:
    horizon = int(await session.scalar(text(HORIZON)) or 0)
    endpoint = WebhookEndpoint(
        tenant_id=tenant_id,
        url=_checked_url(url),
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
    session: AsyncSession, tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, (tenant_id, endpoint_id))
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
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, tenant_id, endpoint_id)
    before = {"url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
    if changes.get("url") is not None:
        endpoint.url = _checked_url(changes["url"])
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
    endpoint = await get_endpoint(session, tenant_id, endpoint_id)
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


def delivery_job_id(delivery_id: uuid.UUID, attempt: int) -> str:
    return f"webhook:{delivery_id}:{attempt}"


# -- worker side -------------------------------------------------------------------------


async def dispatch(session: AsyncSession, queue: ArqRedis, settings: Settings) -> int:
    """New publishes past each active endpoint's position become deliveries. Returns how many
    deliveries were created."""
    endpoints = (
        await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.active.is_(True), WebhookEndpoint.events.contains([PUBLISHED]))
            .with_for_update(skip_locked=True)
        )
    ).all()
    created = 0
    for endpoint in endpoints:
        for _ in range(MAX_BATCHES_PER_TICK):
            rows = (
                await session.execute(
                    text(NEW_PUBLISHES),
                    {
                        "tenant_id": endpoint.tenant_id,
                        "txid": endpoint.cursor_txid,
                        "row_id": endpoint.cursor_id,
                        "limit": BATCH,
                    },
                )
            ).all()
            if not rows:
                break
            delivery_id = uuid.uuid4()
            delivery = WebhookDelivery(
                tenant_id=endpoint.tenant_id,
                id=delivery_id,
                endpoint_id=endpoint.id,
                event_type=PUBLISHED,
                status="pending",
                payload={
                    "id": str(delivery_id),
                    "type": PUBLISHED,
                    "created_at": datetime.now().astimezone().isoformat(),
                    "data": {
                        "changes": [
                            {
                                "sku": r.sku,
                                "locale": r.locale,
                                "changed_at": r.changed_at.isoformat(),
                            }
                            for r in rows
                        ]
                    },
                },
            )
            session.add(delivery)
            endpoint.cursor_txid, endpoint.cursor_id = rows[-1].txid, rows[-1].id
            enqueue_after_commit(
                session, queue, settings, DELIVER_FUNCTION, str(endpoint.tenant_id),
                str(delivery_id), job_id=delivery_job_id(delivery_id, 0),
            )  # fmt: skip
            created += 1
            if len(rows) < BATCH:
                break
    await session.flush()
    return created


async def resend_lost(session: AsyncSession, queue: ArqRedis, settings: Settings) -> int:
    """Pending deliveries whose job message is overdue (Redis lost it) are sent again."""
    overdue = timedelta(seconds=max(60, settings.sweep_requeue_after_seconds))
    rows = (
        await session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status == "pending",
                func.coalesce(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
                < func.now() - overdue,
            )
            .limit(1000)
        )
    ).all()
    for row in rows:
        await enqueue(
            queue, settings, DELIVER_FUNCTION, str(row.tenant_id), str(row.id),
            job_id=delivery_job_id(row.id, row.attempts),
        )  # fmt: skip
    return len(rows)


async def prune_changes(session: AsyncSession, settings: Settings) -> int:
    if settings.storefront_changes_retention_days <= 0:
        return 0
    result = await session.execute(
        text("DELETE FROM storefront_changes WHERE changed_at < now() - make_interval(days => :d)"),
        {"d": settings.storefront_changes_retention_days},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    delivery_id: uuid.UUID,
) -> str:
    """One attempt; no transaction is open while the request is out. Returns the status."""
    async with transaction(sessionmaker) as session:
        delivery = await session.get(WebhookDelivery, (tenant_id, delivery_id))
        if delivery is None or delivery.status != "pending":
            return delivery.status if delivery else "missing"
        endpoint = await session.get(WebhookEndpoint, (tenant_id, delivery.endpoint_id))
        if endpoint is None or not endpoint.active:
            delivery.status = "failed"
            delivery.last_error = "the endpoint was disabled"
            return delivery.status
        url, secret = endpoint.url, endpoint.secret
        body = msgspec.json.encode(delivery.payload)

    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Shoplingo-Webhooks/1",
        "Shoplingo-Event": PUBLISHED,
        "Shoplingo-Delivery": str(delivery_id),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    status_code: int | None = None
    error: str | None = None
    refused = False
    try:
        target = await pin_target(url, allow_private=settings.webhook_allow_private_targets)
        # straight to the checked address: no proxy from the environment (it would look the
        # name up again, and check TLS against the address)
        async with httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds, trust_env=False
        ) as client:
            for n, pinned in enumerate(target.urls, start=1):
                try:
                    response = await client.post(
                        pinned,
                        content=body,
                        headers={**headers, "Host": target.host_header},
                        extensions={"sni_hostname": target.server_name},
                    )
                    break
                except httpx.ConnectError:
                    if n == len(target.urls):
                        raise
        status_code = response.status_code
        if not response.is_success:
            error = f"HTTP {status_code}"
    except UnusableTarget as exc:
        refused = isinstance(exc, TargetRefused)
        error = str(exc)[:500]
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]

    async with transaction(sessionmaker) as session:
        delivery = await session.get(
            WebhookDelivery, (tenant_id, delivery_id), with_for_update=True
        )
        if delivery is None or delivery.status != "pending":
            return delivery.status if delivery else "missing"
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        delivery.updated_at = func.now()
        if error is None:
            delivery.status = "succeeded"
            delivery.delivered_at = func.now()
            delivery.next_attempt_at = None
        elif refused or delivery.attempts >= settings.webhook_max_attempts:
            delivery.status = "failed"
            delivery.next_attempt_at = None
        else:
            delay = backoff_seconds(settings, delivery.attempts)
            delivery.next_attempt_at = func.now() + timedelta(seconds=delay)
            enqueue_after_commit(
                session, queue, settings, DELIVER_FUNCTION, str(tenant_id), str(delivery_id),
                job_id=delivery_job_id(delivery_id, delivery.attempts), defer_by=delay,
            )  # fmt: skip
        log.info(
            "webhook_attempt",
            delivery_id=str(delivery_id),
            attempt=delivery.attempts,
            status_code=status_code,
            error=error,
        )
        return delivery.status
