from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, QueryParameter
from litestar.response import Stream

from shoplingo.catalog.imports import service as imports
from shoplingo.catalog.imports.schemas import ImportCounts, ImportOut, ImportProgress
from shoplingo.catalog.imports.uploads import store_upload
from shoplingo.core.auth import Caller, Scope, requires
from shoplingo.core.db import DbSession
from shoplingo.core.i18n import Translator
from shoplingo.core.openapi import UPLOAD, responses, upload_body
from shoplingo.core.pagination import Page, clamp_limit
from shoplingo.ids import uuid7
from shoplingo.models import Job
from shoplingo.settings import Settings


def import_out(job: Job) -> ImportOut:
    params = job.params
    return ImportOut(
        id=job.id,
        status=job.status,
        format=params["format"],
        filename=params.get("filename"),
        size_bytes=params.get("size_bytes", 0),
        currency=params.get("currency"),
        currency_source=params.get("currency_source"),
        source_locale=params["source_locale"],
        mode=params.get("mode", "replace"),
        progress=msgspec.convert(imports.progress_of(job), ImportProgress),
        counts=msgspec.convert(job.counts or {}, ImportCounts),
        error=job.error,
        attempts=job.attempts,
        errors_url=f"/v1/imports/{job.id}/errors",
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


CATALOG_UPLOAD = upload_body(
    {
        "text/csv": "sku,title,price,currency\nA-1,Desk lamp,19.90,EUR\n",
        "application/x-ndjson": '{"sku": "A-1", "title": "Desk lamp", "price": "19.90", '
        '"currency": "EUR"}\n',
        "multipart/form-data": "",
    },
    "The catalog file: the raw body (CSV, JSON Lines, a Shopify or WooCommerce CSV export) "
    "or one file part of a multipart form.",
)


class ImportController(Controller):
    path = "/v1/imports"
    tags = ["imports"]

    @post(
        "/",
        guards=[requires(Scope.CATALOG_WRITE)],
        request_max_body_size=None,  # enforced while streaming, with a clear 413
        status_code=202,
        opt={UPLOAD: CATALOG_UPLOAD},
        summary="Upload a catalog file (raw body or multipart); 202 with the import to poll",
        description="Formats: csv, jsonl, shopify, woocommerce (detected from the header "
        "unless ?format= is given). Shopify and WooCommerce exports carry no currency: "
        "give ?currency= or set the shop's default_currency (PATCH /v1/tenant); the import "
        "says which it used (currency, currency_source). A re-import changes only the "
        "fields the file has columns for (an empty cell clears one); ?mode=replace makes "
        "each row the whole product. Send Idempotency-Key to make retries safe.",
    )
    async def create_import(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        format: FromQuery[str | None] = None,
        currency: FromQuery[str | None] = None,
        source_locale: FromQuery[str | None] = None,
        mode: Annotated[
            str,
            QueryParameter(
                description="merge (default): change what the file mentions; replace: each "
                "row is the whole product"
            ),
        ] = "merge",
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", max_length=255)
        ] = None,
    ) -> Response[ImportOut]:
        format_name, currency, source_locale = imports.check_options(
            format, currency, source_locale, mode
        )
        job_id = uuid7()
        upload = await store_upload(
            request,
            imports.upload_path(settings, principal.tenant_id, job_id),
            settings.import_max_bytes,
        )
        job, created = await imports.create_import(
            db_session,
            request.app.state.queue,
            settings,
            tenant_id=principal.tenant_id,
            job_id=job_id,
            upload=upload,
            format_name=format_name,
            currency=currency,
            source_locale=source_locale,
            idempotency_key=idempotency_key,
            mode=mode,
        )
        await db_session.flush()
        await db_session.refresh(job)
        headers = {"Location": f"/v1/imports/{job.id}"}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        return Response(import_out(job), status_code=202, headers=headers)

    @get("/", guards=[requires(Scope.CATALOG_READ)], summary="Imports, newest first")
    async def list_imports(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        cursor: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int | None, QueryParameter(description="page size")] = None,
    ) -> Page[ImportOut]:
        size = clamp_limit(limit, settings.default_page_size, settings.max_page_size)
        jobs = await imports.list_imports(
            db_session, principal.tenant_id, limit=size + 1, before=cursor
        )
        page = [import_out(j) for j in jobs[:size]]
        return Page(items=page, next_cursor=str(page[-1].id) if len(jobs) > size else None)

    @get("/{import_id:uuid}", guards=[requires(Scope.CATALOG_READ)], summary="Status and progress")
    async def get_import(
        self, db_session: DbSession, principal: Caller, import_id: FromPath[uuid.UUID]
    ) -> ImportOut:
        return import_out(await imports.get_import(db_session, principal.tenant_id, import_id))

    @post(
        "/{import_id:uuid}/cancel",
        guards=[requires(Scope.CATALOG_WRITE)],
        status_code=200,
        summary="Cancel an import that is queued or running: nothing of it is written",
        responses=responses(409),
    )
    async def cancel_import(
        self, db_session: DbSession, principal: Caller, import_id: FromPath[uuid.UUID]
    ) -> ImportOut:
        return import_out(await imports.cancel_import(db_session, principal.tenant_id, import_id))

    @get(
        "/{import_id:uuid}/errors",
        guards=[requires(Scope.CATALOG_READ)],
        summary="The rejected rows as CSV: line, sku, column, code, message",
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text/*
    )
    async def get_errors(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        import_id: FromPath[uuid.UUID],
    ) -> Stream:
        await imports.get_import(db_session, principal.tenant_id, import_id)
        translator: Translator = request.app.state.translator
        language = translator.language_for(request.headers.get("accept-language"))
        return Stream(
            imports.error_rows_csv(
                request.app.state.db_sessionmaker,
                translator,
                language,
                principal.tenant_id,
                import_id,
            ),
            media_type="text/csv",  # Litestar adds "; charset=utf-8" to text/*
            headers={
                "Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"',
                "Content-Language": language,
            },
        )
