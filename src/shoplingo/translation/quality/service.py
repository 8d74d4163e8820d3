"""Everything that decides whether a translation may be published: the tenant's glossary and
the QA checks, with the tenant's QA settings. One entry point for the pipeline, the
``/v1/qa/check`` endpoint, human edits and the re-check after a glossary change."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from shoplingo.core import audit
from shoplingo.core.db import jsonb_value
from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.glossary.cache import compiled_glossary
from shoplingo.glossary.enforcement import KEEP, Glossary
from shoplingo.glossary.service import Change, after_rules_change
from shoplingo.models import Tenant
from shoplingo.qa.checks import CHECKS, DEFAULT_MAX_LENGTH, Pair, QaConfig, run_checks
from shoplingo.qa.issues import Issue
from shoplingo.tenants.service import get_tenant
from shoplingo.translation.quality.schemas import QaSettings

TENANT_QA = "SELECT glossary_version, settings -> 'qa' AS qa FROM tenants WHERE id = $1"


def qa_config(settings: Mapping[str, Any] | None) -> QaConfig:
    """A tenant's ``settings.qa`` ({"disabled_checks": [...], "max_length": {...},
    "localized_links": false})."""
    settings = settings or {}
    return QaConfig(
        disabled=frozenset(settings.get("disabled_checks") or ()),
        max_length={**DEFAULT_MAX_LENGTH, **(settings.get("max_length") or {})},
        localized_links=bool(settings.get("localized_links")),
    )


@dataclass(frozen=True, slots=True)
class QaContext:
    glossary: Glossary
    config: QaConfig

    def inspect(
        self,
        source: str,
        target: str,
        source_locale: str,
        target_locale: str,
        field: str | None = None,
    ) -> list[Issue]:
        issues = self.glossary.check(source, target, target_locale)
        return issues + run_checks(
            Pair(source, target, source_locale, target_locale, field, self._keep(source, target)),
            self.config,
        )

    def _keep(self, source: str, target: str) -> tuple[str, ...]:
        """The keep terms of the source: they rightly stay unchanged (only the unchanged check
        reads them, and only for a target that is the source, so only then are they looked up)."""
        if target.strip() != source.strip():
            return ()
        return tuple(term.text for term in self.glossary.found_in(source) if term.kind == KEEP)


async def load_context(raw: Any, tenant_id: uuid.UUID) -> QaContext:
    """The tenant's current glossary and QA settings (``raw``: an asyncpg connection)."""
    row = await raw.fetchrow(TENANT_QA, tenant_id)
    version, settings = (row["glossary_version"], jsonb_value(row["qa"])) if row else (0, None)
    return QaContext(await compiled_glossary(raw, tenant_id, version), qa_config(settings))


def settings_out(tenant: Tenant) -> QaSettings:
    stored = tenant.settings.get("qa") or {}
    return QaSettings(
        disabled_checks=list(stored.get("disabled_checks") or ()),
        max_length=dict(stored.get("max_length") or {}),
        localized_links=bool(stored.get("localized_links")),
    )


async def put_settings(change: Change, data: QaSettings) -> Tenant:
    """Replace the tenant's QA settings; existing translations are re-checked under them."""
    errors = [
        FieldError(
            f"disabled_checks.{i}",
            "not_a_warning_check",
            N_("{check} is not a warning check: only warnings can be switched off."),
            {"check": name},
        )
        for i, name in enumerate(data.disabled_checks)
        if name not in CHECKS or CHECKS[name].severity != "warning"
    ]
    if errors:
        raise ValidationFailed(errors=errors)
    tenant = await get_tenant(change.session, change.tenant_id, lock=True)
    before = settings_out(tenant)
    after = QaSettings(
        disabled_checks=sorted(set(data.disabled_checks)),
        max_length=dict(data.max_length),
        localized_links=data.localized_links,
    )
    if after == before:
        return tenant
    tenant.settings = {**tenant.settings, "qa": msgspec.to_builtins(after)}
    audit.record(
        change.session,
        tenant_id=change.tenant_id,
        actor=change.principal,
        action="qa.settings_updated",
        entity_type="tenant",
        entity_id=change.tenant_id,
        before=msgspec.to_builtins(before),
        after=msgspec.to_builtins(after),
    )
    await after_rules_change(change)
    return tenant
