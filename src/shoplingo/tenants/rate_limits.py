"""A tenant's request rate limits (the buckets are ``core.ratelimit``'s). Never commits.

Stored under ``tenants.settings["rate_limits"]`` as the fields the tenant set; the rest follow
the deployment's defaults. The key lookup of every API call reads them with the key, and the
storefront's tenant cache is refreshed by the tenants trigger when the settings change. A
tenant's owner may set a limit up to ``rate_limit_tenant_max_factor`` times its default (the
limits protect the other tenants too); ``shoplingo tenants rate-limits`` sets any value.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.ratelimit import FIELDS, SETTING, default_limits
from shoplingo.settings import Settings
from shoplingo.tenants.schemas import RateLimitsOut, RateLimitsUpdate
from shoplingo.tenants.service import get_tenant


def _out(settings: Settings, stored: dict[str, Any]) -> RateLimitsOut:
    values: dict[str, Any] = default_limits(settings)
    values.update(stored)
    return msgspec.convert(
        {**values, "overridden": [name for name in FIELDS if name in stored]},
        RateLimitsOut,
        strict=False,
    )


async def read(session: AsyncSession, settings: Settings, tenant_id: uuid.UUID) -> RateLimitsOut:
    tenant = await get_tenant(session, tenant_id)
    return _out(settings, tenant.settings.get(SETTING) or {})


def _above_ceiling(settings: Settings, changes: dict[str, Any]) -> list[FieldError]:
    defaults = default_limits(settings)
    errors = []
    for name, value in changes.items():
        ceiling = defaults[name] * settings.rate_limit_tenant_max_factor
        # a rate of 0 is no limit at all: above any ceiling when the default is a limit
        unlimited = name.endswith("_per_second") and value == 0 and defaults[name] > 0
        if value is not None and (unlimited or (defaults[name] > 0 and value > ceiling)):
            errors.append(
                FieldError(
                    field=name,
                    code="above_ceiling",
                    message=N_("{field} may be at most {ceiling} for this shop."),
                    params={"field": name, "ceiling": f"{ceiling:g}"},
                )
            )
    return errors


async def update(
    session: AsyncSession,
    settings: Settings,
    tenant_id: uuid.UUID,
    data: RateLimitsUpdate,
    *,
    actor: Principal | None,
) -> RateLimitsOut:
    """Apply ``data`` (null: back to the default). ``actor`` None is the operator (the CLI),
    whom no ceiling binds."""
    changes = {
        name: getattr(data, name) for name in FIELDS if getattr(data, name) is not msgspec.UNSET
    }
    if actor is not None and (errors := _above_ceiling(settings, changes)):
        raise ValidationFailed(errors=errors)
    tenant = await get_tenant(session, tenant_id, lock=True)
    before: dict[str, Any] = tenant.settings.get(SETTING) or {}
    after = {**before, **changes}
    after = {name: after[name] for name in FIELDS if after.get(name) is not None}
    tenant.settings = {**tenant.settings, SETTING: after}
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="tenant.rate_limits_changed",
        entity_type="tenant",
        entity_id=tenant_id,
        before=before or None,
        after=after,
    )
    await session.flush()
    return _out(settings, after)
