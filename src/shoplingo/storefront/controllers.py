from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from shoplingo.core.auth import Caller, Scope, requires
from shoplingo.core.db import DbSession
from shoplingo.core.openapi import NOT_MODIFIED, responses
from shoplingo.core.pagination import clamp_limit
from shoplingo.settings import Settings
from shoplingo.storefront import config, feed, service
from shoplingo.storefront.cache import Storefront, TenantState
from shoplingo.storefront.locales import direction
from shoplingo.storefront.middleware import FROM_MEMORY, KEY_IN_URL, STREAMED, TENANT_KEY
from shoplingo.storefront.schemas import (
    BundleOut,
    ChangePage,
    ProductPage,
    ProductPageOut,
    StorefrontProduct,
    StorefrontSettings,
)

JSON = "application/json"
_ENCODER = msgspec.json.Encoder()
LocaleParam = Annotated[
    str | None,
    QueryParameter(description="a BCP 47 tag, e.g. de-AT (default: Accept-Language)"),
]


def _headers(
    request: Request[Any, Any, Any],
    negotiated: service.Negotiated,
    etag: str | None,
    vary: tuple[str, ...] = (),
) -> dict[str, str]:
    return service.answer_headers(
        request.app.state.settings,
        negotiated,
        etag,
        key_in_url=request.scope[KEY_IN_URL],  # type: ignore[literal-required]
        vary=vary,
    )


def _not_modified(headers: dict[str, str]) -> Response[bytes]:
    return Response(content=b"", status_code=304, headers=headers)


def _context(
    request: Request[Any, Any, Any], locale: str | None
) -> tuple[Storefront, TenantState, service.Negotiated]:
    state: TenantState = request.scope[TENANT_KEY]  # type: ignore[literal-required]
    negotiated = service.negotiate(state, locale, request.headers.get("accept-language"))
    return request.app.state.storefront, state, negotiated


def _accepts_gzip(header: str | None) -> bool:
    for part in (header or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class StorefrontController(Controller):
    """Shopper-facing reads for storefront plugins (publishable keys, CORS, ETags). The
    storefront middleware authenticates and checks the storefront:read scope."""

    path = "/v1/storefront"
    tags = ["storefront"]

    @get(
        "/products/{sku:str}",
        summary="One product in a locale, with its fallback chain",
        responses=responses(400, ok=ResponseSpec(StorefrontProduct), not_modified=NOT_MODIFIED),
        # cache hits are answered by the storefront middleware (see its docstring)
        opt={FROM_MEMORY: True},
    )
    async def product(
        self, request: Request[Any, Any, Any], sku: FromPath[str], locale: LocaleParam = None
    ) -> Response[bytes]:
        storefront, state, negotiated = _context(request, locale)
        etag = service.make_etag(state, negotiated, state.versions, f"product:{sku}")
        if_none_match = request.headers.get("if-none-match")
        if service.etag_matches(if_none_match, etag):
            return _not_modified(_headers(request, negotiated, etag))
        body, etag = await service.product_answer(storefront, state, sku, negotiated, etag)
        headers = _headers(request, negotiated, etag)
        if service.etag_matches(if_none_match, etag):
            return _not_modified(headers)
        return Response(content=body, media_type=JSON, headers=headers)

    @get(
        "/products",
        summary="Products in a locale; delta sync with updated_since",
        responses=responses(400, ok=ResponseSpec(ProductPageOut), not_modified=NOT_MODIFIED),
    )
    async def products(
        self,
        request: Request[Any, Any, Any],
        locale: LocaleParam = None,
        updated_since: Annotated[
            datetime | None,
            QueryParameter(description="only products whose served content changed after this"),
        ] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int | None, QueryParameter(description="page size (default 50)")] = None,
    ) -> Response[bytes]:
        storefront, state, negotiated = _context(request, locale)
        settings: Settings = request.app.state.settings
        size = clamp_limit(limit, settings.default_page_size, settings.max_page_size)
        resource = f"products:{updated_since.isoformat() if updated_since else ''}:{cursor}:{size}"
        if_none_match = request.headers.get("if-none-match")
        if if_none_match:
            etag = service.make_etag(state, negotiated, state.versions, resource)
            if service.etag_matches(if_none_match, etag):
                return _not_modified(_headers(request, negotiated, etag))
        items, next_cursor, versions = await service.list_products(
            storefront.pool,
            state,
            negotiated,
            updated_since=updated_since,
            cursor=cursor,
            limit=size,
        )
        etag = service.make_etag(state, negotiated, versions, resource)
        headers = _headers(request, negotiated, etag)
        if service.etag_matches(if_none_match, etag):
            return _not_modified(headers)
        page = ProductPage(
            locale=negotiated.locale,
            direction="rtl" if direction(negotiated.locale) == "rtl" else "ltr",
            fallback_chain=list(negotiated.chain),
            items=items,
            next_cursor=next_cursor,
        )
        return Response(content=_ENCODER.encode(page), media_type=JSON, headers=headers)

    @get(
        "/bundles/{locale:str}",
        summary="The whole published catalog in a locale, streamed (gzip when accepted)",
        responses=responses(400, ok=ResponseSpec(BundleOut), not_modified=NOT_MODIFIED),
        # at most a few at once per key and shop; cut off when the client stalls
        opt={STREAMED: True},
    )
    async def bundle(
        self, request: Request[Any, Any, Any], locale: FromPath[str]
    ) -> Response[bytes] | Stream:
        storefront, state, negotiated = _context(request, locale)
        gzip = _accepts_gzip(request.headers.get("accept-encoding"))
        resource = "bundle+gzip" if gzip else "bundle"
        if_none_match = request.headers.get("if-none-match")
        vary = ("Accept-Encoding",)
        etag = service.make_etag(state, negotiated, state.versions, resource)
        if service.etag_matches(if_none_match, etag):
            return _not_modified(_headers(request, negotiated, etag, vary))
        cached = storefront.answers.get(etag)
        if cached is not None:
            headers = _headers(request, negotiated, etag, vary)
            if gzip:
                headers["Content-Encoding"] = "gzip"
            return Response(content=cached, media_type=JSON, headers=headers)
        bundle = service.Bundle(storefront.pool, state, negotiated)
        await bundle.open()
        etag = service.make_etag(state, negotiated, bundle.versions, resource)
        headers = _headers(request, negotiated, etag, vary)
        if service.etag_matches(if_none_match, etag):
            await bundle.close()
            return _not_modified(headers)
        if gzip:
            headers["Content-Encoding"] = "gzip"
        settings: Settings = request.app.state.settings
        body = await bundle.spool(
            settings.storefront_bundle_page_size,
            gzip=gzip,
            max_memory=settings.storefront_bundle_spool_bytes,
        )
        if storefront.answers.fits(body.size):
            content = body.read_all()
            storefront.answers.put(etag, content)
            return Response(content=content, media_type=JSON, headers=headers)
        return Stream(body.chunks(), media_type=JSON, headers=headers)

    @get(
        "/changes",
        summary="What changed, in order; poll with since=next_cursor",
        responses=responses(400, ok=ResponseSpec(ChangePage)),
    )
    async def changes(
        self,
        request: Request[Any, Any, Any],
        since: FromQuery[str | None] = None,
        locale: Annotated[
            str | None, QueryParameter(description="only changes that affect this locale")
        ] = None,
        limit: Annotated[int | None, QueryParameter(description="page size (default 50)")] = None,
    ) -> Response[bytes]:
        storefront: Storefront = request.app.state.storefront
        state: TenantState = request.scope[TENANT_KEY]  # type: ignore[literal-required]
        locales = service.negotiate(state, locale, None).targets if locale else None
        settings: Settings = request.app.state.settings
        page: ChangePage = await feed.read_changes(
            storefront.pool,
            state.tenant_id,
            since=since,
            locales=locales,
            limit=clamp_limit(limit, settings.default_page_size, settings.max_page_size),
        )
        return Response(
            content=_ENCODER.encode(page),
            media_type=JSON,
            headers={"Cache-Control": "private, no-store", "Vary": "Authorization, Origin"},
        )


class StorefrontSettingsController(Controller):
    path = "/v1/tenant/storefront"
    tags = ["storefront"]
    guards = [requires(Scope.ADMIN)]

    @get("/", summary="Storefront settings: CORS origins and fallback overrides")
    async def read_settings(self, db_session: DbSession, principal: Caller) -> StorefrontSettings:
        return await config.read(db_session, principal.tenant_id)

    @put("/", summary="Replace the storefront settings")
    async def replace_settings(
        self, db_session: DbSession, principal: Caller, data: JSONBody[StorefrontSettings]
    ) -> StorefrontSettings:
        return await config.replace(db_session, principal.tenant_id, data, actor=principal)
