"""/v1/webhooks: endpoints (admin scope) and their deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from shoplingo.core.auth import Caller, Scope, requires
from shoplingo.core.db import DbSession
from shoplingo.core.pagination import Page, clamp_limit
from shoplingo.core.views import view
from shoplingo.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from shoplingo.settings import Settings
from shoplingo.webhooks import endpoints
from shoplingo.webhooks.schemas import (
    DeliveryAttemptOut,
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPatch,
)


def webhook_out(endpoint: WebhookEndpoint) -> WebhookOut:
    return view(endpoint, WebhookOut)


def delivery_out(delivery: WebhookDelivery, attempts: list[WebhookDeliveryAttempt]) -> DeliveryOut:
    return view(delivery, DeliveryOut, attempt_log=[view(a, DeliveryAttemptOut) for a in attempts])


class WebhookController(Controller):
    path = "/v1/webhooks"
    tags = ["webhooks"]
    guards = [requires(Scope.ADMIN)]

    @get("/", summary="List webhook endpoints")
    async def list_endpoints(self, db_session: DbSession, principal: Caller) -> list[WebhookOut]:
        return [
            webhook_out(e) for e in await endpoints.list_endpoints(db_session, principal.tenant_id)
        ]

    @post("/", summary="Add an endpoint; the signing secret is shown only in this response")
    async def create_endpoint(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[WebhookCreate],
    ) -> WebhookCreated:
        endpoint = await endpoints.create_endpoint(
            db_session,
            principal.tenant_id,
            url=data.url,
            events=data.events,
            description=data.description,
            actor=principal,
            allow_private=settings.webhook_allow_private_targets,
        )
        return view(endpoint, WebhookCreated)  # the one response that has the secret

    @get("/{endpoint_id:uuid}", summary="One webhook endpoint")
    async def get_endpoint(
        self, db_session: DbSession, principal: Caller, endpoint_id: FromPath[uuid.UUID]
    ) -> WebhookOut:
        return webhook_out(
            await endpoints.get_endpoint(db_session, principal.tenant_id, endpoint_id)
        )

    @patch("/{endpoint_id:uuid}", summary="Change an endpoint (url, events, active)")
    async def update_endpoint(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        endpoint_id: FromPath[uuid.UUID],
        data: JSONBody[WebhookPatch],
    ) -> WebhookOut:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        endpoint = await endpoints.update_endpoint(
            db_session, principal.tenant_id, endpoint_id, changes, actor=principal,
            allow_private=settings.webhook_allow_private_targets,
        )  # fmt: skip
        return webhook_out(endpoint)

    @delete("/{endpoint_id:uuid}", status_code=204, summary="Remove an endpoint")
    async def delete_endpoint(
        self, db_session: DbSession, principal: Caller, endpoint_id: FromPath[uuid.UUID]
    ) -> None:
        await endpoints.delete_endpoint(
            db_session, principal.tenant_id, endpoint_id, actor=principal
        )

    @get("/{endpoint_id:uuid}/deliveries", summary="Deliveries to an endpoint, newest first")
    async def deliveries(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        endpoint_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int | None, QueryParameter(description="page size (default 50)")] = None,
    ) -> Page[DeliveryOut]:
        rows, next_cursor = await endpoints.list_deliveries(
            db_session,
            principal.tenant_id,
            endpoint_id,
            cursor=cursor,
            limit=clamp_limit(limit, settings.default_page_size, settings.max_page_size),
        )
        attempts = await endpoints.attempts_of(
            db_session, principal.tenant_id, [d.id for d in rows]
        )
        return Page(items=[delivery_out(d, attempts[d.id]) for d in rows], next_cursor=next_cursor)
