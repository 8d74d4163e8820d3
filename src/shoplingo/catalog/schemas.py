from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

# a price as sent: a JSON number or a string, checked by the catalog's rules (a Decimal here
# would read Arabic-Indic or full-width digits as a price before they could be refused)
PriceIn = str | float | int


class OptionValue(msgspec.Struct):
    name: str
    value: str


class VariantIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: str | None = None
    options: list[OptionValue] = []
    price: PriceIn | None = None


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    """A whole product for ``PUT /v1/products/{sku}`` (the SKU comes from the path)."""

    title: str
    # absent or null: the shop's source locale
    source_locale: Annotated[str, msgspec.Meta(pattern=r"\S")] | None = None
    description_html: str = ""
    seo_title: str | None = None
    seo_description: str | None = None
    vendor: str | None = None
    tags: list[str] = []
    attributes: dict[str, str] = {}
    # legal field -> text, e.g. {"warranty": "...", "safety_warning": "..."}
    legal: dict[str, str] = {}
    price: PriceIn | None = None
    currency: str | None = None
    variants: list[VariantIn] = []
    # a short summary (HTML), shown beside the price; translated like the description
    short_description: str | None = None
    # the price before a sale ("was"), in the product's currency
    compare_at_price: PriceIn | None = None
    # false: a draft, never served on the storefront, translated only when a job names its SKU
    published: bool = True


class ProductPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields present are changed; ``null`` clears an optional field."""

    title: str | UnsetType = UNSET
    source_locale: Annotated[str, msgspec.Meta(pattern=r"\S")] | UnsetType | None = UNSET
    description_html: str | UnsetType = UNSET
    seo_title: str | UnsetType | None = UNSET
    seo_description: str | UnsetType | None = UNSET
    vendor: str | UnsetType | None = UNSET
    tags: list[str] | UnsetType = UNSET
    attributes: dict[str, str] | UnsetType = UNSET
    legal: dict[str, str] | UnsetType = UNSET
    price: PriceIn | UnsetType | None = UNSET
    currency: str | UnsetType | None = UNSET
    variants: list[VariantIn] | UnsetType = UNSET
    short_description: str | UnsetType | None = UNSET
    compare_at_price: PriceIn | UnsetType | None = UNSET
    published: bool | UnsetType = UNSET


class VariantOut(msgspec.Struct):
    sku: str | None
    options: list[OptionValue]
    price: str | None


class ProductOut(msgspec.Struct):
    sku: str
    source_locale: str
    title: str
    description_html: str
    seo_title: str | None
    seo_description: str | None
    vendor: str | None
    tags: list[str]
    attributes: dict[str, str]
    legal: dict[str, str]
    # decimal string in the currency's minor units, e.g. "12.99"
    price: str | None
    currency: str | None
    variants: list[VariantOut]
    short_description: str | None
    compare_at_price: str | None
    published: bool
    content_hash: str
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


class ProductFilterIn(msgspec.Struct, forbid_unknown_fields=True):
    """Which products a bulk delete takes (all of the given criteria; at least one)."""

    sku_prefix: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    vendor: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    tag: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    # only products last changed before this instant
    updated_before: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class ProductsBulkDeleteIn(msgspec.Struct, forbid_unknown_fields=True):
    # exactly one of skus and filter
    skus: Annotated[list[str], msgspec.Meta(min_length=1, max_length=1000)] | None = None
    filter: ProductFilterIn | None = None
    # filter: at most this many products a call (oldest first); "more" says there are others
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100


class ProductBulkDeleteItemOut(msgspec.Struct):
    sku: str
    deleted: bool
    # why not: the code and detail a single DELETE would have answered with
    http_status: int | None = None
    code: str | None = None
    detail: str | None = None


class ProductsBulkDeleteOut(msgspec.Struct):
    deleted: int
    refused: int
    # the filter matched more products than the limit took: call again
    more: bool
    items: list[ProductBulkDeleteItemOut]
