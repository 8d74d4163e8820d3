"""The audit log as the API lists it: filters and keyset pages (writing is core.audit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.pagination import keyset_page
from shoplingo.models import AuditEvent


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: uuid.UUID | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None


async def list_audit(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    audit_filter: AuditFilter,
    *,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[AuditEvent], str | None]:
    """Oldest first, keyset paginated; ``actor`` is a member id or an API key id."""
    query = select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
    if audit_filter.actor is not None:
        query = query.where(
            or_(
                AuditEvent.actor_member_id == audit_filter.actor,
                AuditEvent.actor_key_id == audit_filter.actor,
            )
        )
    if audit_filter.action is not None:
        query = query.where(AuditEvent.action == audit_filter.action)
    if audit_filter.entity_type is not None:
        query = query.where(AuditEvent.entity_type == audit_filter.entity_type)
    if audit_filter.entity_id is not None:
        query = query.where(AuditEvent.entity_id == audit_filter.entity_id)
    if audit_filter.since is not None:
        query = query.where(AuditEvent.at > audit_filter.since)
    return await keyset_page(
        session, query, at=AuditEvent.at, row_id=AuditEvent.id, limit=limit, cursor=cursor
    )
