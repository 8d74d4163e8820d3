"""The bulk importer's quick path: a plain CSV row (no variants) straight to its canonical
values and content hash, without dataclasses or error bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from shoplingo.catalog.html import sanitize_html
from shoplingo.catalog.money import known_currency, minor_unit, written_price
from shoplingo.catalog.validation import (
    LEGAL_FIELD,
    MAX_ATTRIBUTE_NAME,
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES,
    MAX_DESCRIPTION,
    MAX_LEGAL_TEXT,
    MAX_PRICE,
    MAX_SEO_DESCRIPTION,
    MAX_SEO_TITLE,
    MAX_SKU,
    MAX_TAG,
    MAX_TAGS,
    MAX_TITLE,
    MAX_VENDOR,
    SKU_PROBLEM,
    hash_content,
)
from shoplingo.core.locales import InvalidLocaleError, canonical_locale

# A product as quick_product() returns it: sku, source_locale, title, description_html,
# seo_title, seo_description, vendor, tags, attributes, legal, price, currency, content_hash
QuickProduct = tuple[
    str,
    str,
    str,
    str,
    str | None,
    str | None,
    str | None,
    list[str],
    dict[str, str],
    dict[str, str],
    Decimal | None,
    str | None,
    str,
]
# the cells quick_product() reads, in this order
QUICK_FIELDS = (
    "sku", "title", "description_html", "source_locale", "seo_title", "seo_description",
    "vendor", "tags", "price", "currency",
)  # fmt: skip


def quick_product(
    cells: tuple[str, ...],
    attributes: Sequence[tuple[str, str]],
    legal: Sequence[tuple[str, str]],
    default_locale: str,
    default_currency: str | None,
) -> QuickProduct | None:
    """The canonical form and content hash of a product without variants given as the cells
    of a CSV row (``cells``: the :data:`QUICK_FIELDS` in order), when it is valid as written;
    None otherwise, and then :func:`validate_product` decides and names the errors.

    The bulk importer's path for the common case: no dataclasses, no error bookkeeping. A
    blank cell counts as absent; ``attributes`` and ``legal`` hold (name, cell) for the
    non-blank cells in column order; ``default_currency`` stands in for a blank currency.
    Whatever it accepts, :func:`validate_product` accepts with the same result (tests hold
    the two together).
    """
    (
        sku,
        title,
        description_html,
        source_locale,
        seo_title,
        seo_description,
        vendor,
        tags,
        price,
        currency,
    ) = cells
    sku = sku.strip()
    if not sku or len(sku) > MAX_SKU or SKU_PROBLEM.search(sku):
        return None
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        return None
    try:
        locale = canonical_locale(source_locale if source_locale.strip() else default_locale)
    except InvalidLocaleError:
        return None
    description = sanitize_html(description_html)
    seo_title_value = seo_title.strip() or None
    seo_description_value = seo_description.strip() or None
    vendor_value = vendor.strip() or None
    if (
        len(description) > MAX_DESCRIPTION
        or (seo_title_value is not None and len(seo_title_value) > MAX_SEO_TITLE)
        or (seo_description_value is not None and len(seo_description_value) > MAX_SEO_DESCRIPTION)
        or (vendor_value is not None and len(vendor_value) > MAX_VENDOR)
    ):
        return None

    tag_list: list[str] = []
    if tags.strip():
        tag_list = list(map(str.strip, tags.split(",")))
        if "" in tag_list or len(set(tag_list)) != len(tag_list):
            tag_list = list(dict.fromkeys(t for t in tag_list if t))
        if len(tag_list) > MAX_TAGS or max(map(len, tag_list), default=0) > MAX_TAG:
            return None
    attribute_map: dict[str, str] = {}
    if attributes:
        given = dict(attributes)  # a name given twice: the later cell, like the raw values
        if len(given) > MAX_ATTRIBUTES:
            return None
        for name, value in given.items():
            if (
                not name.strip()
                or len(name) > MAX_ATTRIBUTE_NAME
                or len(value) > MAX_ATTRIBUTE_VALUE
            ):
                return None
            if value.strip():
                attribute_map[name.strip()] = value.strip()
    legal_map: dict[str, str] = {}
    if legal:
        for name, value in dict(legal).items():
            if not LEGAL_FIELD.match(name) or len(value) > MAX_LEGAL_TEXT:
                return None
            if value.strip():
                legal_map[name] = value.strip()

    currency_code: str | None = None
    currency_given = currency if currency.strip() else default_currency
    if currency_given:
        currency_code = currency_given.strip().upper()
        if not known_currency(currency_code):
            return None
    amount: Decimal | None = None
    price_text: str | None = None
    price = price.strip()
    if price:
        if currency_code is None or not written_price(price):
            return None
        try:
            amount = Decimal(price)
        except InvalidOperation:
            return None
        if not amount.is_finite() or amount < 0 or amount >= MAX_PRICE:
            return None
        rounded = amount.quantize(minor_unit(currency_code))
        if rounded != amount:
            return None
        price_text = str(rounded)

    content_hash = hash_content(
        sku,
        locale,
        title,
        description,
        seo_title_value,
        seo_description_value,
        vendor_value,
        tag_list,
        attribute_map,
        legal_map,
        price_text,
        currency_code,
        [],
    )
    return (
        sku,
        locale,
        title,
        description,
        seo_title_value,
        seo_description_value,
        vendor_value,
        tag_list,
        attribute_map,
        legal_map,
        amount,
        currency_code,
        content_hash,
    )
