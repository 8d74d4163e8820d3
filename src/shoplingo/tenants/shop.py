"""A shop's own settings: its name, the locales it sells, its source locale and its default
currency. Never commits.

The default currency is stored as ``tenants.settings["currency"]`` (imports read it there when
neither the file nor ``?currency=`` names one). A change of the locales a shop sells is
announced through :data:`shoplingo.tenants.changes.LOCALES_CHANGED` (the storefront's change
feed withdraws a locale that is no longer sold, and publishes one that comes back); segments are
never deleted, so a locale that returns serves its translations again.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.currencies import currency_field_error, known_currency
from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.models import Tenant
from shoplingo.settings import Settings
from shoplingo.tenants.changes import locales_changed, rules_changed
from shoplingo.tenants.schemas import TenantUpdate
from shoplingo.tenants.service import get_tenant

CURRENCY = "currency"


def default_currency(tenant: Tenant) -> str | None:
    value = tenant.settings.get(CURRENCY)
    return str(value) if value else None


def _snapshot(tenant: Tenant) -> dict[str, Any]:
    return {
        "name": tenant.name,
        "source_locale": tenant.source_locale,
        "target_locales": list(tenant.target_locales),
        "default_currency": default_currency(tenant),
    }


def _locale(value: str, field: str, errors: list[FieldError]) -> str | None:
    try:
        return canonical_locale(value)
    except InvalidLocaleError:
        errors.append(locale_field_error(field, value))
        return None


def _checked(tenant: Tenant, data: TenantUpdate) -> dict[str, Any]:
    """The settings after ``data``, or ValidationFailed naming every bad field."""
    errors: list[FieldError] = []
    after = _snapshot(tenant)
    if data.name is not msgspec.UNSET:
        after["name"] = data.name
    if data.source_locale is not msgspec.UNSET:
        after["source_locale"] = _locale(data.source_locale, "source_locale", errors)
    if data.target_locales is not msgspec.UNSET:
        targets = [
            _locale(tag, f"target_locales.{i}", errors) for i, tag in enumerate(data.target_locales)
        ]
        after["target_locales"] = [t for t in targets if t is not None]
    if data.default_currency is not msgspec.UNSET:
        code = data.default_currency.strip().upper() if data.default_currency else None
        if code is not None and not known_currency(code):
            errors.append(currency_field_error("default_currency", data.default_currency or ""))
        after["default_currency"] = code
    if errors:
        raise ValidationFailed(errors=errors)
    # the source locale is never a target (as at creation); the order given is kept
    after["target_locales"] = list(
        dict.fromkeys(t for t in after["target_locales"] if t != after["source_locale"])
    )
    return after


async def update_tenant(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    data: TenantUpdate,
    *,
    actor: Principal | None,
) -> Tenant:
    """Apply ``data``, audited as ``tenant.updated`` (``actor`` None: the operator's CLI). A
    change of the locales sold changes what reads as legal (every text is read with the rules
    of every language the shop sells): the shop's segments are checked again."""
    tenant = await get_tenant(session, tenant_id, lock=True)
    before = _snapshot(tenant)
    after = _checked(tenant, data)
    if after == before:
        return tenant
    tenant.name = after["name"]
    tenant.source_locale = after["source_locale"]
    tenant.target_locales = after["target_locales"]
    stored = {k: v for k, v in tenant.settings.items() if k != CURRENCY}
    if after["default_currency"]:
        stored[CURRENCY] = after["default_currency"]
    tenant.settings = stored
    await session.flush()
    withdrawn = [t for t in before["target_locales"] if t not in after["target_locales"]]
    added = [t for t in after["target_locales"] if t not in before["target_locales"]]
    if withdrawn or added:
        await locales_changed(session, tenant_id, withdrawn, added)
    if withdrawn or added or after["source_locale"] != before["source_locale"]:
        await rules_changed(session, queue, settings, tenant_id)
    changed = [k for k in after if after[k] != before[k]]
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="tenant.updated",
        entity_type="tenant",
        entity_id=tenant_id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    await session.flush()
    await session.refresh(tenant)
    return tenant
