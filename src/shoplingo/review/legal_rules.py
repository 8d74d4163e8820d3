"""The tenant's legal rules (which fields and patterns make a text legal): reading them,
checking new ones (a tenant's patterns must be ones RE2 runs, in linear time on every text)
and replacing them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.legal.classifier import (
    BUILT_IN_RULES,
    LegalPattern,
    LegalRules,
    PatternRefused,
    check_tenant_pattern,
    field_key,
)
from shoplingo.models import Tenant
from shoplingo.settings import Settings
from shoplingo.tenants.changes import rules_changed
from shoplingo.tenants.service import get_tenant

_REFUSED = {
    "unsupported": (
        "unsupported_pattern",
        N_(
            "Patterns use RE2 syntax: lookahead, lookbehind, backreferences and named groups "
            "are not supported."
        ),
    ),
    "too_large": (
        "pattern_too_large",
        N_("This pattern is too large to run; split it into smaller rules."),
    ),
    "invalid": ("invalid_pattern", N_("This is not a valid regular expression: {reason}")),
}


def _pattern_errors(language: str, index: int, name: str, pattern: str) -> list[FieldError]:
    if LegalPattern(name, pattern) in BUILT_IN_RULES.patterns.get(language, ()):
        return []  # a built-in rule sent back as it is (it stays on Python's engine)
    try:
        check_tenant_pattern(pattern)
    except PatternRefused as refused:
        code, message = _REFUSED[refused.problem]
        return [
            FieldError(
                field=f"patterns.{language}.{index}.pattern",
                code=code,
                message=message,
                params={"reason": refused.reason},
            )
        ]
    return []


def check_rules(
    fields: Sequence[str], patterns: Mapping[str, Sequence[tuple[str, str]]]
) -> tuple[tuple[str, ...], dict[str, tuple[LegalPattern, ...]]]:
    errors: list[FieldError] = []
    names: list[str] = []
    for index, name in enumerate(fields):
        key = field_key(name)
        if not re.fullmatch(r"[a-z0-9_]{1,80}", key):
            errors.append(
                FieldError(
                    field=f"fields.{index}",
                    code="invalid_field_name",
                    message=N_("A field name has 1 to 80 letters, digits, spaces or _."),
                )
            )
        names.append(key)
    checked: dict[str, tuple[LegalPattern, ...]] = {}
    for language, items in patterns.items():
        for index, (name, pattern) in enumerate(items):
            errors.extend(_pattern_errors(language, index, name, pattern))
        checked[language] = tuple(LegalPattern(n, p) for n, p in items)
    if errors:
        raise ValidationFailed(errors=errors)
    return tuple(dict.fromkeys(names)), checked


async def get_rules(session: AsyncSession, tenant_id: uuid.UUID) -> tuple[LegalRules, bool]:
    """The tenant's legal rules, and whether they are the defaults (none of its own)."""
    tenant = await get_tenant(session, tenant_id)
    stored = tenant.settings.get("legal") or {}
    return LegalRules.from_settings(tenant.settings), not (
        stored.get("fields") or stored.get("patterns")
    )


async def put_rules(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    actor: Principal,
    *,
    fields: Sequence[str],
    patterns: Mapping[str, Sequence[tuple[str, str]]],
    add: bool = False,
) -> LegalRules:
    """Replace the tenant's own rules (the built-in ones stay, whatever the body says), or with
    ``add`` add to them (what the tenant added before stays); existing segments are
    re-classified by a job after commit."""
    names, checked = check_rules(fields, patterns)
    tenant = await get_tenant(session, tenant_id, lock=True)
    old = LegalRules.from_settings(tenant.settings)
    if add:
        names = tuple(dict.fromkeys([*old.fields, *names]))
        checked = {
            lang: tuple(dict.fromkeys([*old.patterns.get(lang, ()), *checked.get(lang, ())]))
            for lang in {*old.patterns, *checked}
        }
    rules = LegalRules.with_additions(names, checked, old.version + 1)
    return await _store(session, queue, settings, tenant, actor, old, rules, "legal_rules.updated")


async def reset_rules(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    actor: Principal,
) -> LegalRules:
    """Back to the defaults: the tenant's own fields and patterns are dropped (the built-in
    rules were never the tenant's to drop); existing segments are re-classified."""
    tenant = await get_tenant(session, tenant_id, lock=True)
    old = LegalRules.from_settings(tenant.settings)
    rules = LegalRules.with_additions((), {}, old.version + 1)
    return await _store(session, queue, settings, tenant, actor, old, rules, "legal_rules.reset")


async def _store(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant: Tenant,
    actor: Principal,
    old: LegalRules,
    rules: LegalRules,
    action: str,
) -> LegalRules:
    tenant.settings = {**tenant.settings, "legal": rules.to_settings()}
    await session.flush()
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        action=action,
        entity_type="legal_rules",
        entity_id=tenant.id,
        before=old.to_settings(),
        after=rules.to_settings(),
    )
    await rules_changed(session, queue, settings, tenant.id)
    return rules
