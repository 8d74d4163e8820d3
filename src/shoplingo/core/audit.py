"""Append-only audit trail: who did what to which entity, with before and after."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.auth import Principal
from shoplingo.models import AuditEvent


def record(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    actor: Principal | None,
    action: str,
    entity_type: str,
    entity_id: str | uuid.UUID,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the session; it commits (or rolls back) with the change it describes."""
    event = AuditEvent(
        tenant_id=tenant_id,
        actor_key_id=actor.key_id if actor else None,
        actor_member_id=actor.member_id if actor else None,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    session.add(event)
    return event
