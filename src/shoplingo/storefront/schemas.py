from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import msgspec

Direction = Literal["ltr", "rtl"]


class Text(msgspec.Struct, omit_defaults=True):
    value: str
    # the locale this text is in (a locale of the fallback chain, or the product's source)
    locale: str
    # true when this is the source text standing in for a missing (or unapproved) translation
    fallback: bool = False


class TagList(msgspec.Struct, omit_defaults=True):
    values: list[str]
    locale: str
    fallback: bool = False


class NamedText(msgspec.Struct):
    name: str
    value: Text


class OptionOut(msgspec.Struct):
    name: Text
    value: Text


class Price(msgspec.Struct):
    # exact amount with the currency's minor units, e.g. "12.99"
    amount: str
    currency: str | None
    # for display in the requested locale, e.g. "12,99 €"
    formatted: str


class StorefrontVariant(msgspec.Struct):
    sku: str | None
    options: list[OptionOut]
    price: Price | None


class StorefrontProduct(msgspec.Struct):
    sku: str
    # the locale this product was rendered for, and its text direction
    locale: str
    direction: Direction
    title: Text
    description_html: Text | None
    short_description: Text | None
    seo_title: Text | None
    seo_description: Text | None
    vendor: str | None
    tags: TagList | None
    attributes: list[NamedText]
    legal: list[NamedText]
    price: Price | None
    # the price before a sale ("was"), when the product is on sale
    compare_at_price: Price | None
    variants: list[StorefrontVariant]
    updated_at: datetime


class Tombstone(msgspec.Struct):
    """A product deleted since ``updated_since``: remove it from the local copy."""

    sku: str
    deleted: bool = True


class ProductPage(msgspec.Struct):
    locale: str
    direction: Direction
    fallback_chain: list[str]
    items: list[StorefrontProduct | Tombstone]
    # pass as ?cursor= for the next page; null on the last page
    next_cursor: str | None


class BundleOut(msgspec.Struct):
    """The whole published catalog in one locale (documents the streamed bundle's shape)."""

    locale: str
    direction: Direction
    fallback_chain: list[str]
    changes_cursor: str
    products: list[StorefrontProduct]


@dataclass
class ProductPageOut:
    """:class:`ProductPage` as the OpenAPI document shows it (msgspec cannot describe a union
    of untagged structs; a dataclass of the same fields can)."""

    locale: str
    direction: Direction
    fallback_chain: list[str]
    items: list[StorefrontProduct | TombstoneOut]
    next_cursor: str | None


@dataclass
class TombstoneOut:
    """:class:`Tombstone` as the OpenAPI document shows it: ``deleted`` is always sent."""

    sku: str
    deleted: Literal[True]


class Change(msgspec.Struct):
    sku: str
    # "*" when every locale is affected (source text, price, deletion)
    locale: str
    kind: Literal["published", "withdrawn", "product", "deleted"]
    changed_at: datetime


class ChangePage(msgspec.Struct):
    items: list[Change]
    # where to continue from (?since=); the same position again when nothing is new
    next_cursor: str
    has_more: bool


Origin = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
LocaleTag = Annotated[str, msgspec.Meta(min_length=1, max_length=35)]


class StorefrontSettings(msgspec.Struct, forbid_unknown_fields=True):
    # browser origins allowed to call /v1/storefront with this tenant's keys
    cors_origins: list[Origin] = msgspec.field(default_factory=list)
    # a locale -> the locales tried after it, instead of its CLDR parents
    fallbacks: dict[LocaleTag, list[LocaleTag]] = msgspec.field(default_factory=dict)
