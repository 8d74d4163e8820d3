from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from shoplingo.core.auth import Caller, Scope, requires
from shoplingo.core.db import DbSession
from shoplingo.core.errors import ValidationFailed
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.core.views import view
from shoplingo.glossary.service import Change
from shoplingo.qa.checks import CHECKS
from shoplingo.qa.issues import blocking
from shoplingo.qa.schemas import IssueOut
from shoplingo.settings import Settings
from shoplingo.tenants.service import get_tenant
from shoplingo.translation.quality import service
from shoplingo.translation.quality.schemas import CheckOut, QaCheckIn, QaCheckOut, QaSettings


def _locale(field: str, value: str) -> str:
    try:
        return canonical_locale(value)
    except InvalidLocaleError:
        raise ValidationFailed(errors=[locale_field_error(field, value)]) from None


class QaController(Controller):
    path = "/v1/qa"
    tags = ["qa"]

    @post(
        "/check",
        guards=[requires(Scope.CATALOG_READ)],
        status_code=200,
        summary="Run the glossary and QA checks on any source/target pair",
    )
    async def check(
        self, db_session: DbSession, principal: Caller, data: JSONBody[QaCheckIn]
    ) -> QaCheckOut:
        source_locale = _locale("source_locale", data.source_locale)
        target_locale = _locale("target_locale", data.target_locale)
        raw: Any = (await (await db_session.connection()).get_raw_connection()).driver_connection
        qa = await service.load_context(raw, principal.tenant_id)
        issues = qa.inspect(data.source, data.target, source_locale, target_locale, data.field)
        return QaCheckOut(
            publishable=not blocking(issues),
            issues=[view(issue, IssueOut) for issue in issues],
            glossary_version=qa.glossary.version,
        )

    @get("/checks", guards=[requires(Scope.CATALOG_READ)], summary="Every check and its severity")
    async def list_checks(self, db_session: DbSession, principal: Caller) -> list[CheckOut]:
        tenant = await get_tenant(db_session, principal.tenant_id)
        disabled = set(service.settings_out(tenant).disabled_checks)
        return [view(c, CheckOut, disabled=c.id in disabled) for c in CHECKS.values()]

    @get("/settings", guards=[requires(Scope.CATALOG_READ)], summary="The tenant's QA settings")
    async def get_settings(self, db_session: DbSession, principal: Caller) -> QaSettings:
        return service.settings_out(await get_tenant(db_session, principal.tenant_id))

    @put(
        "/settings",
        guards=[requires(Scope.CATALOG_WRITE)],
        summary="Switch warning checks off, set length limits per field",
    )
    async def put_settings(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[QaSettings],
    ) -> QaSettings:
        change = Change(db_session, request.app.state.queue, settings, principal)
        return service.settings_out(await service.put_settings(change, data))
