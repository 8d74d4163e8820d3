"""Signed deliveries of ``translations.published``, with retries.

The change log (``storefront_changes``, written by triggers) is the source: a worker cron turns
what is new past each endpoint's position into a delivery row, and an arq job POSTs it. A
failed POST is retried with exponential backoff (a deferred arq job per attempt, named
``job_key(KIND, delivery id, attempt)``); every attempt is recorded (a
``webhook_delivery_attempts`` row: when, how long, status code, error), its outcome also on the
delivery.
A delivery is not a ``jobs`` row: its own attempts, backoff and refusals
(``webhook_*`` settings) are not :func:`shoplingo.core.jobs.run_tracked`'s. Never commits (the
job wrapper does).

Signature: ``Shoplingo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
A receiver recomputes it over the raw body and rejects old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import structlog
from arq.connections import ArqRedis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shoplingo.core.db import transaction
from shoplingo.core.jobs import job_key
from shoplingo.core.queue import enqueue, enqueue_after_commit
from shoplingo.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from shoplingo.settings import Settings
from shoplingo.storefront.feed import FEED_HORIZON
from shoplingo.webhooks.endpoints import PUBLISHED
from shoplingo.webhooks.targets import TargetRefused, UnusableTarget, pin_target

log = structlog.get_logger(__name__)

KIND = "webhook"
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


def _send_after_commit(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    delivery: WebhookDelivery,
    *,
    attempt: int,
    defer_by: float | None = None,
) -> None:
    enqueue_after_commit(
        session, queue, settings, DELIVER_FUNCTION, str(delivery.tenant_id), str(delivery.id),
        job_id=job_key(KIND, delivery.id, attempt), defer_by=defer_by,
    )  # fmt: skip


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
            _send_after_commit(session, queue, settings, delivery, attempt=0)
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
            job_id=job_key(KIND, row.id, row.attempts),
        )  # fmt: skip
    return len(rows)


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
    attempted_at, started = datetime.now(UTC), time.monotonic()
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
    duration_ms = round((time.monotonic() - started) * 1000)

    async with transaction(sessionmaker) as session:
        delivery = await session.get(
            WebhookDelivery, (tenant_id, delivery_id), with_for_update=True
        )
        if delivery is None or delivery.status != "pending":
            return delivery.status if delivery else "missing"
        delivery.attempts += 1
        session.add(
            WebhookDeliveryAttempt(
                tenant_id=tenant_id, delivery_id=delivery_id, number=delivery.attempts,
                attempted_at=attempted_at, duration_ms=duration_ms, status_code=status_code,
                error=error,
            )
        )  # fmt: skip
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
            _send_after_commit(
                session, queue, settings, delivery, attempt=delivery.attempts, defer_by=delay
            )
        log.info(
            "webhook_attempt",
            delivery_id=str(delivery_id),
            attempt=delivery.attempts,
            status_code=status_code,
            error=error,
        )
        return delivery.status
