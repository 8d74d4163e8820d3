"""Request and response bodies of /v1/webhooks (msgspec structs)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

EventType = Literal["translations.published"]


class WebhookCreate(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    events: list[EventType] = msgspec.field(default_factory=lambda: ["translations.published"])
    description: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class WebhookPatch(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    events: list[EventType] | None = None
    description: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    active: bool | None = None


class WebhookOut(msgspec.Struct):
    id: uuid.UUID
    url: str
    description: str | None
    events: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    # the signing secret: shown only here
    secret: str


class DeliveryAttemptOut(msgspec.Struct):
    number: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None


class DeliveryOut(msgspec.Struct):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, object]
    # every attempt, oldest first
    attempt_log: list[DeliveryAttemptOut]
