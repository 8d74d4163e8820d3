"""A tenant's storefront settings: CORS origins and fallback overrides. Never commits.

Stored under ``tenants.settings["storefront"]``; the tenants trigger bumps the tenant's
storefront version when they change, so cached answers and chains are dropped everywhere.
"""

from __future__ import annotations

import re
import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.storefront.schemas import StorefrontSettings
from shoplingo.tenants.service import get_tenant

KEY = "storefront"
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")


async def read(session: AsyncSession, tenant_id: uuid.UUID) -> StorefrontSettings:
    tenant = await get_tenant(session, tenant_id)
    return msgspec.convert(tenant.settings.get(KEY, {}), StorefrontSettings)


def _clean(data: StorefrontSettings) -> StorefrontSettings:
    errors: list[FieldError] = []
    origins: list[str] = []
    for i, origin in enumerate(data.cors_origins):
        value = origin.strip().lower().rstrip("/")
        if not _ORIGIN.match(value):
            errors.append(
                FieldError(
                    field=f"cors_origins.{i}",
                    code="invalid_origin",
                    message=N_("{value} is not an origin (scheme://host[:port], no path)."),
                    params={"value": origin},
                )
            )
        origins.append(value)
    fallbacks: dict[str, list[str]] = {}
    for tag, steps in data.fallbacks.items():
        try:
            key = canonical_locale(tag)
        except InvalidLocaleError:
            errors.append(locale_field_error(f"fallbacks.{tag}", tag))
            continue
        fallbacks[key] = []
        for i, step in enumerate(steps):
            try:
                fallbacks[key].append(canonical_locale(step))
            except InvalidLocaleError:
                errors.append(locale_field_error(f"fallbacks.{tag}.{i}", step))
    if errors:
        raise ValidationFailed(errors=errors)
    return StorefrontSettings(cors_origins=list(dict.fromkeys(origins)), fallbacks=fallbacks)


async def replace(
    session: AsyncSession, tenant_id: uuid.UUID, data: StorefrontSettings, *, actor: Principal
) -> StorefrontSettings:
    cleaned = _clean(data)
    tenant = await get_tenant(session, tenant_id, lock=True)
    before = tenant.settings.get(KEY)
    after = msgspec.to_builtins(cleaned)
    tenant.settings = {**tenant.settings, KEY: after}
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="storefront.settings_changed",
        entity_type="tenant",
        entity_id=tenant_id,
        before=before,
        after=after,
    )
    await session.flush()
    return cleaned
