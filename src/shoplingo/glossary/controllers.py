from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from shoplingo.core.auth import Caller, Principal, Scope, requires
from shoplingo.core.db import DbSession
from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.i18n import N_, Translator
from shoplingo.core.openapi import OK_CONTENT, UPLOAD, responses, upload_body
from shoplingo.core.pagination import Page, clamp_limit
from shoplingo.core.views import view
from shoplingo.glossary import bulk, exchange, service
from shoplingo.glossary.schemas import (
    GlossaryOut,
    ImportReport,
    ImportRowErrorOut,
    Kind,
    RecheckOut,
    TermBulkDeleteItemOut,
    TermIn,
    TermOut,
    TermsBulkDeleteIn,
    TermsBulkDeleteOut,
)
from shoplingo.models import GlossaryTerm
from shoplingo.settings import Settings
from shoplingo.tenants.service import get_tenant

Format = Literal["csv", "tbx"]
# Litestar adds "; charset=utf-8" to a text/* media type itself
MEDIA_TYPES = {"csv": "text/csv", "tbx": "application/x-tbx+xml"}
# as the answers carry them
EXPORT_CONTENT = {
    media: Schema(type=OpenAPIType.STRING)
    for media in ("text/csv; charset=utf-8", "application/x-tbx+xml")
}
GLOSSARY_UPLOAD = upload_body(
    {
        "text/csv": "term,kind,target:de\nShoplingo,keep,\ncotton,translate,Baumwolle\n",
        "application/x-tbx+xml": '<?xml version="1.0"?>\n<tbx type="TBX-Basic" xml:lang="en">'
        '<text><body><conceptEntry id="1"><langSec xml:lang="en"><termSec><term>cotton'
        "</term></termSec></langSec></conceptEntry></body></text></tbx>",
    },
    "The terms as CSV (a term column, kind, one column per target locale) or a TBX file; "
    "?format= overrides the Content-Type.",
)


def term_out(term: GlossaryTerm) -> TermOut:
    return view(term, TermOut)


def _change(
    request: Request[Any, Any, Any], db_session: Any, settings: Settings, principal: Principal
) -> service.Change:
    return service.Change(db_session, request.app.state.queue, settings, principal)


def _format_of(request: Request[Any, Any, Any], given: Format | None) -> Format:
    if given is not None:
        return given
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("text/csv", "application/csv"):
        return "csv"
    if content_type.endswith("xml") or "tbx" in content_type:
        return "tbx"
    raise ValidationFailed(
        errors=[
            FieldError(
                "format",
                "unknown_format",
                N_("Say which format the file is in: ?format=csv or ?format=tbx."),
            )
        ]
    )


class GlossaryController(Controller):
    path = "/v1/glossary"
    tags = ["glossary"]

    @get("/", guards=[requires(Scope.CATALOG_READ)], summary="Version, term counts, re-check")
    async def get_glossary(self, db_session: DbSession, principal: Caller) -> GlossaryOut:
        version, counts, recheck = await service.summary(db_session, principal.tenant_id)
        return GlossaryOut(
            version=version,
            terms=counts,
            recheck=view(recheck, RecheckOut) if recheck else None,
        )

    @get("/terms", guards=[requires(Scope.CATALOG_READ)], summary="List terms, oldest first")
    async def list_terms(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int | None, QueryParameter(description="page size (default 50)")] = None,
        kind: FromQuery[Kind | None] = None,
        q: Annotated[str | None, QueryParameter(description="term contains (any case)")] = None,
    ) -> Page[TermOut]:
        rows, next_cursor = await service.list_terms(
            db_session,
            principal.tenant_id,
            limit=clamp_limit(limit, settings.default_page_size, settings.max_page_size),
            cursor=cursor,
            kind=kind,
            contains=q,
        )
        return Page(items=[term_out(t) for t in rows], next_cursor=next_cursor)

    @post(
        "/terms",
        guards=[requires(Scope.CATALOG_WRITE)],
        summary="Add a term",
        responses=responses(409),
    )
    async def create_term(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[TermIn],
    ) -> Response[TermOut]:
        change = _change(request, db_session, settings, principal)
        term = await service.create_term(change, data)
        return Response(
            term_out(term),
            status_code=201,
            headers={"Location": f"/v1/glossary/terms/{term.id}"},
        )

    @get("/terms/{term_id:uuid}", guards=[requires(Scope.CATALOG_READ)], summary="One term")
    async def get_term(
        self, db_session: DbSession, principal: Caller, term_id: FromPath[uuid.UUID]
    ) -> TermOut:
        return term_out(await service.get_term(db_session, principal.tenant_id, term_id))

    @put(
        "/terms/{term_id:uuid}",
        guards=[requires(Scope.CATALOG_WRITE)],
        summary="Replace",
        responses=responses(409),
    )
    async def replace_term(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        term_id: FromPath[uuid.UUID],
        data: JSONBody[TermIn],
    ) -> TermOut:
        change = _change(request, db_session, settings, principal)
        return term_out(await service.replace_term(change, term_id, data))

    @delete("/terms/{term_id:uuid}", guards=[requires(Scope.CATALOG_WRITE)], summary="Delete")
    async def delete_term(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        term_id: FromPath[uuid.UUID],
    ) -> None:
        await service.delete_term(_change(request, db_session, settings, principal), term_id)

    @post(
        "/terms/bulk-delete",
        guards=[requires(Scope.CATALOG_WRITE)],
        status_code=200,
        summary="Delete many terms (by ids or a filter); each reported, one new version",
    )
    async def bulk_delete_terms(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        data: JSONBody[TermsBulkDeleteIn],
    ) -> TermsBulkDeleteOut:
        wanted = bulk.TermFilter(kind=data.filter.kind, q=data.filter.q) if data.filter else None
        bulk.check_selection(data.ids, wanted)
        change = _change(request, db_session, settings, principal)
        if data.ids is not None:
            outcome = await bulk.delete_ids(change, data.ids)
        else:
            assert wanted is not None
            outcome = await bulk.delete_matching(change, wanted, limit=data.limit)
        translator: Translator = request.app.state.translator
        language = translator.language_for(request.headers.get("accept-language"))
        items = [
            TermBulkDeleteItemOut(
                id=item.id,
                deleted=item.error is None,
                http_status=item.error.status_code if item.error else None,
                code=item.error.code if item.error else None,
                detail=translator.translate(language, item.error.message, item.error.params)
                if item.error
                else None,
            )
            for item in outcome.items
        ]
        deleted = sum(1 for item in items if item.deleted)
        return TermsBulkDeleteOut(
            version=outcome.version,
            deleted=deleted,
            refused=len(items) - deleted,
            more=outcome.more,
            items=items,
        )

    @post(
        "/import",
        guards=[requires(Scope.CATALOG_WRITE)],
        status_code=200,
        summary="Add or update terms from CSV or TBX (raw body); bad rows are reported",
        opt={UPLOAD: GLOSSARY_UPLOAD},
    )
    async def import_terms(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        format: FromQuery[Format | None] = None,
    ) -> ImportReport:
        kind = _format_of(request, format)
        text = exchange.decode(await request.body())
        if kind == "csv":
            rows = list(exchange.read_csv(text))
            column: Callable[[str], str] = exchange.csv_column
        else:
            tenant = await get_tenant(db_session, principal.tenant_id)
            rows = list(exchange.read_tbx(text, tenant.source_locale.split("-")[0]))
            column = exchange.tbx_column
        outcome = await service.import_terms(
            _change(request, db_session, settings, principal), rows
        )
        translator: Translator = request.app.state.translator
        language = translator.language_for(request.headers.get("accept-language"))
        return ImportReport(
            version=outcome.version,
            created=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            failed=outcome.failed,
            errors=[
                ImportRowErrorOut(
                    row=row,
                    column=column(error.field),
                    code=error.code,
                    message=translator.translate(language, error.message, error.params),
                )
                for row, error in outcome.errors
            ],
        )

    @get(
        "/export",
        guards=[requires(Scope.CATALOG_READ)],
        summary="Every term as CSV or TBX",
        opt={OK_CONTENT: EXPORT_CONTENT},
    )
    async def export_terms(
        self, db_session: DbSession, principal: Caller, format: FromQuery[Format] = "csv"
    ) -> Response[str]:
        terms = await service.all_terms(db_session, principal.tenant_id)
        if format == "csv":
            body = exchange.write_csv(terms)
        else:
            tenant = await get_tenant(db_session, principal.tenant_id)
            body = exchange.write_tbx(terms, tenant.source_locale)
        return Response(
            body,
            media_type=MEDIA_TYPES[format],
            headers={"Content-Disposition": f'attachment; filename="glossary.{format}"'},
        )
