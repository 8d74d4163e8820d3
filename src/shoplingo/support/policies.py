"""Support policies (shipping times, return window, warranty terms) as the API changes them:
drafts are grounded on them, and the tenant's legal rules flag the legal ones. Never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.legal.classifier import tenant_classifier
from shoplingo.models import SupportPolicy
from shoplingo.support.errors import PolicyExists, blank, checked_locale, policy_not_found
from shoplingo.support.schemas import PolicyIn
from shoplingo.tenants.service import get_tenant


def _policy_state(policy: SupportPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "text": policy.text,
        "locale": policy.locale,
        "legal": policy.legal,
        "legal_reason": policy.legal_reason,
    }


async def _checked_policy(
    session: AsyncSession, tenant_id: uuid.UUID, data: PolicyIn
) -> tuple[str, str, str, str | None]:
    """(name, text, locale, legal reason) of a valid policy."""
    errors: list[FieldError] = []
    name, text = data.name.strip(), data.text.strip()
    if not name:
        errors.append(blank("name"))
    if not text:
        errors.append(blank("text"))
    tenant = await get_tenant(session, tenant_id)
    locale = checked_locale("locale", data.locale, errors) if data.locale else tenant.source_locale
    if errors:
        raise ValidationFailed(errors=errors)
    reason = tenant_classifier(tenant_id, tenant).content_reason(f"{name}\n{text}", locale)
    return name, text, locale, reason


async def list_policies(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[SupportPolicy]:
    return (
        await session.scalars(
            select(SupportPolicy)
            .where(SupportPolicy.tenant_id == tenant_id)
            .order_by(SupportPolicy.name, SupportPolicy.id)
        )
    ).all()


async def get_policy(
    session: AsyncSession, tenant_id: uuid.UUID, policy_id: uuid.UUID
) -> SupportPolicy:
    policy = await session.get(SupportPolicy, (tenant_id, policy_id))
    if policy is None:
        raise policy_not_found(policy_id)
    return policy


async def _store_policy(session: AsyncSession, policy: SupportPolicy, **values: Any) -> None:
    """Add ``policy`` or change it to ``values``; PolicyExists when the name is taken. The
    values are set inside the savepoint: set before it, they would be flushed (and the unique
    violation raised) outside it, leaving the whole transaction unusable."""
    taken = values.get("name") or policy.name  # read now: the rollback expires the row
    try:
        async with session.begin_nested():
            for name, value in values.items():
                setattr(policy, name, value)
            session.add(policy)
            await session.flush()
    except IntegrityError:
        raise PolicyExists(params={"name": taken}) from None


async def create_policy(
    session: AsyncSession, tenant_id: uuid.UUID, actor: Principal, data: PolicyIn
) -> SupportPolicy:
    name, text, locale, reason = await _checked_policy(session, tenant_id, data)
    policy = SupportPolicy(
        tenant_id=tenant_id,
        name=name,
        text=text,
        locale=locale,
        legal=reason is not None,
        legal_reason=reason,
    )
    await _store_policy(session, policy)
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="support_policy.created",
        entity_type="support_policy", entity_id=policy.id, after=_policy_state(policy),
    )  # fmt: skip
    return policy


async def update_policy(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    policy_id: uuid.UUID,
    actor: Principal,
    data: PolicyIn,
) -> SupportPolicy:
    policy = await get_policy(session, tenant_id, policy_id)
    name, text, locale, reason = await _checked_policy(session, tenant_id, data)
    before = _policy_state(policy)
    await _store_policy(
        session, policy, name=name, text=text, locale=locale, legal=reason is not None,
        legal_reason=reason,
    )  # fmt: skip
    if _policy_state(policy) != before:
        audit.record(
            session, tenant_id=tenant_id, actor=actor, action="support_policy.updated",
            entity_type="support_policy", entity_id=policy.id, before=before,
            after=_policy_state(policy),
        )  # fmt: skip
    return policy


async def delete_policy(
    session: AsyncSession, tenant_id: uuid.UUID, policy_id: uuid.UUID, actor: Principal
) -> None:
    policy = await get_policy(session, tenant_id, policy_id)
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="support_policy.deleted",
        entity_type="support_policy", entity_id=policy.id, before=_policy_state(policy),
    )  # fmt: skip
    await session.delete(policy)
    await session.flush()
