"""What a valid product is, its canonical form and its content hash.

One owner for product validation: the HTTP API and the importers both hand raw values to
:func:`validate_product` and get either a :class:`ProductData` or field errors back (the bulk
importer's shortcut for plain rows is :mod:`shoplingo.catalog.quick`).

Over the usual 450 lines on purpose: every field's rule sits beside the others and the one
content hash, so a field added (as short_description, compare_at_price and published were)
is checked, normalised and hashed in one place.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from shoplingo.catalog.html import sanitize_html
from shoplingo.catalog.money import (
    currency_digits,
    currency_field_error,
    format_price,
    known_currency,
    minor_unit,
    written_price,
)
from shoplingo.core.errors import FieldError
from shoplingo.core.i18n import N_
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error

# Bump when validation or normalisation changes what a raw row becomes: import fingerprints
# taken under older rules then stop matching, so those rows are validated again.
RULES_VERSION = "2"  # 2: short_description, compare_at_price, published; WooCommerce sale prices

MAX_SKU = 255
MAX_TITLE = 255
MAX_DESCRIPTION = 65_535
MAX_SEO_TITLE = 255
MAX_SEO_DESCRIPTION = 1_000
MAX_VENDOR = 255
MAX_TAG = 255
MAX_TAGS = 250
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_NAME = 100
MAX_ATTRIBUTE_VALUE = 1_000
MAX_LEGAL_TEXT = 10_000
MAX_VARIANTS = 2_000
MAX_OPTIONS = 10
MAX_OPTION = 255
MAX_PRICE = Decimal("100000000000000")

LEGAL_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
# what a SKU may not contain: it is a path segment of the API (/v1/products/{sku})
SKU_PROBLEM = re.compile(r"[/\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class VariantData:
    sku: str | None
    options: tuple[tuple[str, str], ...]
    price: Decimal | None


@dataclass(frozen=True, slots=True)
class ProductData:
    """A validated, canonical product: what gets stored and hashed."""

    sku: str
    source_locale: str
    title: str
    description_html: str = ""
    seo_title: str | None = None
    seo_description: str | None = None
    vendor: str | None = None
    tags: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    legal: dict[str, str] = field(default_factory=dict)
    price: Decimal | None = None
    currency: str | None = None
    variants: tuple[VariantData, ...] = ()
    short_description: str | None = None
    compare_at_price: Decimal | None = None
    published: bool = True

    def content_hash(self) -> str:
        """SHA-256 of everything stored, in a fixed order (how a price is written aside)."""
        return hash_content(
            self.sku,
            self.source_locale,
            self.title,
            self.description_html,
            self.seo_title,
            self.seo_description,
            self.vendor,
            self.tags,
            self.attributes,
            self.legal,
            format_price(self.price, self.currency),
            self.currency,
            [(v.sku, v.options, format_price(v.price, self.currency)) for v in self.variants],
            short_description=self.short_description,
            compare_at_price=format_price(self.compare_at_price, self.currency),
            published=self.published,
        )


def hash_content(
    sku: str,
    source_locale: str,
    title: str,
    description_html: str,
    seo_title: str | None,
    seo_description: str | None,
    vendor: str | None,
    tags: Sequence[str],
    attributes: dict[str, str],
    legal: dict[str, str],
    price: str | None,
    currency: str | None,
    variants: list[tuple[str | None, tuple[tuple[str, str], ...], str | None]],
    *,
    short_description: str | None = None,
    compare_at_price: str | None = None,
    published: bool = True,
) -> str:
    """The content hash of a product's canonical values (prices written by format_price). The
    fields added later (short description, compare-at price, published) join the hash only
    when set, so the hash of a product without them is what it always was."""
    canonical: tuple[Any, ...] = (
        sku,
        source_locale,
        title,
        description_html,
        seo_title,
        seo_description,
        vendor,
        tags,
        sorted(attributes.items()) if attributes else (),
        sorted(legal.items()) if legal else (),
        price,
        currency,
        variants,
    )
    if short_description is not None or compare_at_price is not None or not published:
        canonical += (short_description, compare_at_price, published)
    return hashlib.sha256(_HASH_ENCODER.encode(canonical)).hexdigest()


_HASH_ENCODER = msgspec.json.Encoder()


class _Checker:
    """Collects field errors while reading one raw product."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.errors: list[FieldError] = []

    def fail(self, name: str, code: str, message: str, **params: Any) -> None:
        self.errors.append(
            FieldError(field=self.prefix + name, code=code, message=message, params=params)
        )

    def text(
        self, raw: dict[str, Any], name: str, max_length: int, *, required: bool = False
    ) -> str | None:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, "required", N_("{field} is required."), field=name)
            return None
        if not isinstance(value, str):
            self.fail(name, "invalid", N_("{field} must be text."), field=name)
            return None
        value = value.strip()
        if len(value) > max_length:
            self.fail(
                name,
                "too_long",
                N_("{field} is {length} characters long; the limit is {limit}."),
                field=name,
                length=len(value),
                limit=max_length,
            )
            return None
        return value

    def price(self, raw: Any, name: str, currency: str | None) -> Decimal | None:
        if raw is None or raw == "":
            return None
        try:
            if isinstance(raw, str) and not written_price(raw):
                raise InvalidOperation
            price = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
        except InvalidOperation:
            self.fail(name, "invalid_price", N_("{value} is not a price."), value=str(raw))
            return None
        if not price.is_finite() or price < 0 or price >= MAX_PRICE:
            self.fail(
                name,
                "invalid_price",
                N_("A price must be a number from 0 up to 100000000000000; got {value}."),
                value=str(raw),
            )
            return None
        if currency is not None and price != price.quantize(minor_unit(currency)):
            self.fail(
                name,
                "too_many_decimals",
                N_("{value} has more than {digits} decimal places, the most {currency} allows."),
                value=str(raw),
                currency=currency,
                digits=currency_digits(currency),
            )
            return None
        return price


def validate_product(
    raw: dict[str, Any], *, default_locale: str, prefix: str = ""
) -> tuple[ProductData | None, list[FieldError]]:
    """Check and normalize one product given as plain values (JSON or CSV alike)."""
    check = _Checker(prefix)

    sku = check.text(raw, "sku", MAX_SKU, required=True)
    if sku is not None and SKU_PROBLEM.search(sku):
        check.fail("sku", "invalid_sku", N_("A SKU cannot contain '/' or control characters."))
        sku = None

    locale_raw = raw.get("source_locale") or default_locale
    source_locale: str | None = None
    try:
        source_locale = canonical_locale(str(locale_raw))
    except InvalidLocaleError:
        check.errors.append(locale_field_error(check.prefix + "source_locale", str(locale_raw)))

    title = check.text(raw, "title", MAX_TITLE, required=True)
    description = raw.get("description_html") or ""
    if not isinstance(description, str):
        check.fail(
            "description_html", "invalid", N_("{field} must be text."), field="description_html"
        )
        description = ""
    description = sanitize_html(description)
    if len(description) > MAX_DESCRIPTION:
        check.fail(
            "description_html",
            "too_long",
            N_("{field} is {length} characters long; the limit is {limit}."),
            field="description_html",
            length=len(description),
            limit=MAX_DESCRIPTION,
        )
    seo_title = check.text(raw, "seo_title", MAX_SEO_TITLE)
    seo_description = check.text(raw, "seo_description", MAX_SEO_DESCRIPTION)
    short_description = _short_description(check, raw.get("short_description"))
    published = _published(check, raw.get("published"))
    vendor = check.text(raw, "vendor", MAX_VENDOR)

    tags = _tags(check, raw.get("tags"))
    attributes = _attributes(check, raw.get("attributes"))
    legal = _legal(check, raw.get("legal"))

    currency: str | None = None
    currency_raw = raw.get("currency")
    if currency_raw not in (None, ""):
        candidate = str(currency_raw).strip().upper()
        if known_currency(candidate):
            currency = candidate
        else:
            check.errors.append(currency_field_error(check.prefix + "currency", str(currency_raw)))
    price = check.price(raw.get("price"), "price", currency)
    compare_at_price = check.price(raw.get("compare_at_price"), "compare_at_price", currency)
    variants = _variants(check, raw.get("variants"), currency)
    has_price = (
        price is not None
        or compare_at_price is not None
        or any(v.price is not None for v in variants)
    )
    if has_price and currency is None and currency_raw in (None, ""):
        check.fail("currency", "required", N_("A currency is required when a price is given."))

    if check.errors or sku is None or title is None or source_locale is None:
        return None, check.errors
    return (
        ProductData(
            sku=sku,
            source_locale=source_locale,
            title=title,
            description_html=description,
            seo_title=seo_title,
            seo_description=seo_description,
            vendor=vendor,
            tags=tags,
            attributes=attributes,
            legal=legal,
            price=price,
            currency=currency,
            variants=variants,
            short_description=short_description,
            compare_at_price=compare_at_price,
            published=published,
        ),
        [],
    )


def _short_description(check: _Checker, raw: Any) -> str | None:
    """HTML like the description (sanitized), up to MAX_DESCRIPTION; blank is none."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        check.fail(
            "short_description", "invalid", N_("{field} must be text."), field="short_description"
        )
        return None
    value = sanitize_html(raw).strip()
    if len(value) > MAX_DESCRIPTION:
        check.fail(
            "short_description",
            "too_long",
            N_("{field} is {length} characters long; the limit is {limit}."),
            field="short_description",
            length=len(value),
            limit=MAX_DESCRIPTION,
        )
        return None
    return value or None


# how exports write a yes/no (WooCommerce 1/0, Shopify TRUE/FALSE)
_YES = frozenset({"1", "true", "yes", "y"})
_NO = frozenset({"0", "false", "no", "n", "-1"})


def _published(check: _Checker, raw: Any) -> bool:
    """Absent or empty: published (what every product was before the field existed)."""
    if raw is None or raw == "" or isinstance(raw, bool):
        return raw is not False
    text = str(raw).strip().lower()
    if text in _YES or not text:
        return True
    if text in _NO:
        return False
    check.fail("published", "invalid", N_("{field} must be true or false."), field="published")
    return True


def _tags(check: _Checker, raw: Any) -> tuple[str, ...]:
    if raw in (None, ""):
        return ()
    items = [t.strip() for t in raw.split(",")] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(t, str) for t in items):
        check.fail("tags", "invalid", N_("{field} must be a list of text."), field="tags")
        return ()
    tags = tuple(dict.fromkeys(t.strip() for t in items if t.strip()))
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        check.fail(
            "tags",
            "too_long",
            N_("At most {count} tags of up to {limit} characters each."),
            count=MAX_TAGS,
            limit=MAX_TAG,
        )
        return ()
    return tags


def _attributes(check: _Checker, raw: Any) -> dict[str, str]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        check.fail(
            "attributes",
            "invalid",
            N_("{field} must be an object of text values."),
            field="attributes",
        )
        return {}
    if len(raw) > MAX_ATTRIBUTES:
        check.fail(
            "attributes", "too_many", N_("At most {count} attributes."), count=MAX_ATTRIBUTES
        )
        return {}
    result: dict[str, str] = {}
    for name, value in raw.items():
        key = f"attributes.{name}"
        if not isinstance(value, str) or not str(name).strip():
            check.fail(key, "invalid", N_("{field} must be text."), field=key)
        elif len(name) > MAX_ATTRIBUTE_NAME or len(value) > MAX_ATTRIBUTE_VALUE:
            check.fail(
                key,
                "too_long",
                N_("{field} is {length} characters long; the limit is {limit}."),
                field=key,
                length=max(len(name), len(value)),
                limit=MAX_ATTRIBUTE_VALUE,
            )
        elif value.strip():
            result[str(name).strip()] = value.strip()
    return result


def _legal(check: _Checker, raw: Any) -> dict[str, str]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        check.fail(
            "legal", "invalid", N_("{field} must be an object of text values."), field="legal"
        )
        return {}
    result: dict[str, str] = {}
    for name, value in raw.items():
        key = f"legal.{name}"
        if not LEGAL_FIELD.match(str(name)):
            check.fail(
                key,
                "invalid_legal_field",
                N_("Legal field names are lower-case identifiers like warranty or safety_warning."),
            )
        elif not isinstance(value, str):
            check.fail(key, "invalid", N_("{field} must be text."), field=key)
        elif len(value) > MAX_LEGAL_TEXT:
            check.fail(
                key,
                "too_long",
                N_("{field} is {length} characters long; the limit is {limit}."),
                field=key,
                length=len(value),
                limit=MAX_LEGAL_TEXT,
            )
        elif value.strip():
            result[name] = value.strip()
    return result


def _variants(check: _Checker, raw: Any, currency: str | None) -> tuple[VariantData, ...]:
    if raw in (None, ""):
        return ()
    if not isinstance(raw, list):
        check.fail("variants", "invalid", N_("{field} must be a list."), field="variants")
        return ()
    if len(raw) > MAX_VARIANTS:
        check.fail("variants", "too_many", N_("At most {count} variants."), count=MAX_VARIANTS)
        return ()
    variants: list[VariantData] = []
    seen_skus: set[str] = set()
    for index, item in enumerate(raw):
        base = f"variants.{index}."
        if not isinstance(item, dict):
            check.fail(
                base.rstrip("."),
                "invalid",
                N_("{field} must be an object."),
                field=base.rstrip("."),
            )
            continue
        sub = _Checker(check.prefix + base)
        sku = sub.text(item, "sku", MAX_SKU)
        if sku is not None:
            if sku in seen_skus:
                sub.fail("sku", "duplicate_sku", N_("The SKU {sku} appears twice."), sku=sku)
            seen_skus.add(sku)
        options = _options(sub, item.get("options"))
        price = sub.price(item.get("price"), "price", currency)
        check.errors.extend(sub.errors)
        variants.append(VariantData(sku=sku, options=options, price=price))
    return tuple(variants)


def _options(check: _Checker, raw: Any) -> tuple[tuple[str, str], ...]:
    if raw in (None, ""):
        return ()
    if isinstance(raw, dict):
        raw = [{"name": k, "value": v} for k, v in raw.items()]
    if not isinstance(raw, list) or len(raw) > MAX_OPTIONS:
        check.fail(
            "options",
            "invalid",
            N_("options must be a list of up to {count} name/value pairs."),
            count=MAX_OPTIONS,
        )
        return ()
    options: list[tuple[str, str]] = []
    for index, option in enumerate(raw):
        name = option.get("name") if isinstance(option, dict) else None
        value = option.get("value") if isinstance(option, dict) else None
        if (
            not isinstance(name, str)
            or not isinstance(value, str)
            or not name.strip()
            or not value.strip()
        ):
            check.fail(
                f"options.{index}",
                "invalid",
                N_("Each option needs a name and a value."),
            )
        elif len(name) > MAX_OPTION or len(value) > MAX_OPTION:
            check.fail(
                f"options.{index}",
                "too_long",
                N_("{field} is {length} characters long; the limit is {limit}."),
                field=f"options.{index}",
                length=max(len(name), len(value)),
                limit=MAX_OPTION,
            )
        else:
            options.append((name.strip(), value.strip()))
    return tuple(options)
