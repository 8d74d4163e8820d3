from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from shoplingo.catalog import bulk, service
from shoplingo.catalog.money import format_price
from shoplingo.catalog.schemas import (
    OptionValue,
    ProductBulkDeleteItemOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    ProductsBulkDeleteIn,
    ProductsBulkDeleteOut,
    VariantOut,
)
from shoplingo.core.auth import Caller, Scope, requires
from shoplingo.core.db import DbSession
from shoplingo.core.i18n import Translator
from shoplingo.core.openapi import responses
from shoplingo.core.pagination import Page, clamp_limit
from shoplingo.models import Product
from shoplingo.settings import Settings


def product_out(product: Product) -> ProductOut:
    return ProductOut(
        sku=product.sku,
        source_locale=product.source_locale,
        title=product.title,
        description_html=product.description_html,
        seo_title=product.seo_title,
        seo_description=product.seo_description,
        vendor=product.vendor,
        tags=list(product.tags),
        attributes=dict(product.attributes),
        legal=dict(product.legal),
        price=format_price(product.price, product.currency),
        currency=product.currency,
        variants=[
            VariantOut(
                sku=v.sku,
                options=[OptionValue(name=o["name"], value=o["value"]) for o in v.options],
                price=format_price(v.price, product.currency),
            )
            for v in product.variants
        ],
        short_description=product.short_description,
        compare_at_price=format_price(product.compare_at_price, product.currency),
        published=product.published,
        content_hash=product.content_hash,
        version=product.version,
        created_at=product.created_at,
        updated_at=product.updated_at,
        deleted_at=product.deleted_at,
    )


class ProductController(Controller):
    path = "/v1/products"
    tags = ["products"]

    @get("/", guards=[requires(Scope.CATALOG_READ)], summary="List products, oldest change first")
    async def list_products(
        self,
        db_session: DbSession,
        principal: Caller,
        settings: NamedDependency[Settings],
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int | None, QueryParameter(description="page size (default 50)")] = None,
        updated_since: Annotated[
            datetime | None, QueryParameter(description="only products changed after this instant")
        ] = None,
        include_deleted: Annotated[
            bool, QueryParameter(description="include soft-deleted products (tombstones for sync)")
        ] = False,
    ) -> Page[ProductOut]:
        rows, next_cursor = await service.list_products(
            db_session,
            principal.tenant_id,
            limit=clamp_limit(limit, settings.default_page_size, settings.max_page_size),
            cursor=cursor,
            updated_since=updated_since,
            include_deleted=include_deleted,
        )
        return Page(items=[product_out(p) for p in rows], next_cursor=next_cursor)

    @get("/{sku:str}", guards=[requires(Scope.CATALOG_READ)], summary="Get a product by SKU")
    async def get_product(
        self,
        db_session: DbSession,
        principal: Caller,
        sku: FromPath[str],
    ) -> ProductOut:
        return product_out(await service.get_product(db_session, principal.tenant_id, sku))

    @put(
        "/{sku:str}",
        guards=[requires(Scope.CATALOG_WRITE)],
        summary="Create or replace a product (201 when created, 200 when replaced)",
        responses=responses(
            created=ResponseSpec(ProductOut, description="Created: the product is new"),
        ),
        response_description="Replaced: the product existed",
    )
    async def put_product(
        self,
        db_session: DbSession,
        principal: Caller,
        sku: FromPath[str],
        data: JSONBody[ProductIn],
    ) -> Response[ProductOut]:
        product, created = await service.put_product(
            db_session, principal.tenant_id, sku, msgspec.to_builtins(data)
        )
        return Response(product_out(product), status_code=201 if created else 200)

    @patch("/{sku:str}", guards=[requires(Scope.CATALOG_WRITE)], summary="Change some fields")
    async def patch_product(
        self,
        db_session: DbSession,
        principal: Caller,
        sku: FromPath[str],
        data: JSONBody[ProductPatch],
    ) -> ProductOut:
        product = await service.patch_product(
            db_session, principal.tenant_id, sku, msgspec.to_builtins(data)
        )
        return product_out(product)

    @delete("/{sku:str}", guards=[requires(Scope.CATALOG_WRITE)], summary="Delete (soft)")
    async def delete_product(
        self,
        db_session: DbSession,
        principal: Caller,
        sku: FromPath[str],
    ) -> None:
        await service.delete_product(db_session, principal.tenant_id, sku)

    @post(
        "/bulk-delete",
        guards=[requires(Scope.CATALOG_WRITE)],
        status_code=200,
        summary="Delete (soft) a list of SKUs or every product a filter matches; each reported",
    )
    async def bulk_delete(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        data: JSONBody[ProductsBulkDeleteIn],
    ) -> ProductsBulkDeleteOut:
        wanted = bulk.ProductFilter(**msgspec.structs.asdict(data.filter)) if data.filter else None
        bulk.check_selection(data.skus, wanted)
        more = False
        if data.skus is not None:
            items = await bulk.delete_skus(db_session, principal.tenant_id, data.skus, principal)
        else:
            assert wanted is not None
            items, more = await bulk.delete_matching(
                db_session, principal.tenant_id, wanted, principal, limit=data.limit
            )
        translator: Translator = request.app.state.translator
        language = translator.language_for(request.headers.get("accept-language"))
        out = [
            ProductBulkDeleteItemOut(
                sku=item.sku,
                deleted=item.deleted,
                http_status=item.error.status_code if item.error else None,
                code=item.error.code if item.error else None,
                detail=translator.translate(language, item.error.message, item.error.params)
                if item.error
                else None,
            )
            for item in items
        ]
        deleted = sum(1 for item in out if item.deleted)
        return ProductsBulkDeleteOut(
            deleted=deleted, refused=len(out) - deleted, more=more, items=out
        )
