"""A product row (with its published texts) as a shopper in one locale sees it. Pure code."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from shoplingo.catalog.money import format_price
from shoplingo.legal.classifier import Classifier
from shoplingo.storefront.locales import direction
from shoplingo.storefront.schemas import (
    NamedText,
    OptionOut,
    Price,
    StorefrontProduct,
    StorefrontVariant,
    TagList,
    Text,
)
from shoplingo.translation.serving import shopper_text, text_servable

# (owner id, field, locale, target text, status, legal, approved, translated from the current
# source text, last approved text for the current source text)
TextRow = tuple[str, str, str, str | None, str, bool, bool, bool, str | None]
_TEXTS = msgspec.json.Decoder(list[TextRow])
# (id, sku, options, price)
_VARIANTS = msgspec.json.Decoder(list[tuple[str, str | None, list[dict[str, Any]], str | None]])
_DICT = msgspec.json.Decoder(dict[str, str])
# comma, Arabic comma, ideographic comma, fullwidth comma
_TAG_SEPARATORS = re.compile("\\s*[,\u060c\u3001\uff0c]\\s*")


def language(tag: str) -> str:
    return tag.split("-", 1)[0]


def price(amount: Decimal | None, currency: str | None, tag: str) -> Price | None:
    if amount is None:
        return None
    exact = format_price(amount, currency)
    return Price(
        amount=exact, currency=currency, formatted=format_price(Decimal(exact), currency, tag)
    )


def render(
    row: Any, requested: str, chain: tuple[str, ...], classifier: Classifier
) -> StorefrontProduct:
    """``row``: a product with ``variants`` and its ``texts`` (JSON) for ``chain``. Each field
    takes the first locale of the chain for which translation.serving serves a text (the segment's
    own, or the last approved one for the same source), else the source text as a fallback;
    ``classifier``: the tenant's current legal rules."""
    source: str = row["source_locale"]
    texts: dict[tuple[str, str, str], TextRow] = {
        (t[0], t[1], t[2]): t for t in _TEXTS.decode(row["texts"])
    }
    is_fallback = language(source) != language(requested)

    def pick(owner: str, field: str, source_text: str) -> Text:
        for locale in chain:
            if locale == source:
                break
            hit = texts.get((owner, field, locale))
            if hit is None:
                continue
            _, _, _, target, status, legal, approved, current, last_approved = hit
            # a segment not translated from the current text (stale) is not servable anyway;
            # the product's text stands in for its source when asking the legal rules
            own = (
                target
                if current
                and text_servable(
                    status,
                    target,
                    approved=approved,
                    legal=legal,
                    field=field,
                    source_text=source_text,
                    source_locale=source,
                    target_locale=locale,
                    classifier=classifier,
                )
                else None
            )
            served = shopper_text(own=own, last_approved=last_approved, source=source_text)
            if not served.fallback:
                return Text(value=served.text, locale=locale)
        return Text(value=source_text, locale=source, fallback=is_fallback)

    def optional(owner: str, field: str, value: str | None) -> Text | None:
        return pick(owner, field, value) if value and value.strip() else None

    product_id = str(row["id"])
    tags: list[str] = list(row["tags"])
    tag_list: TagList | None = None
    if tags:
        joined = pick(product_id, "tags", ", ".join(tags))
        values = tags if joined.locale == source else _TAG_SEPARATORS.split(joined.value.strip())
        tag_list = TagList(values=values, locale=joined.locale, fallback=joined.fallback)

    named: Callable[[str, dict[str, str]], list[NamedText]] = lambda prefix, values: [  # noqa: E731
        NamedText(name=name, value=pick(product_id, f"{prefix}.{name}", value))
        for name, value in sorted(values.items())
        if value and value.strip()
    ]
    currency: str | None = row["currency"]
    variants = []
    for variant_id, sku, options, amount in _VARIANTS.decode(row["variants"]):
        variants.append(
            StorefrontVariant(
                sku=sku,
                options=[
                    OptionOut(
                        name=pick(variant_id, f"options.{i}.name", str(o.get("name") or "")),
                        value=pick(variant_id, f"options.{i}.value", str(o.get("value") or "")),
                    )
                    for i, o in enumerate(options)
                ],
                price=price(Decimal(amount), currency, requested) if amount is not None else None,
            )
        )
    return StorefrontProduct(
        sku=row["sku"],
        locale=requested,
        direction="rtl" if direction(requested) == "rtl" else "ltr",
        title=pick(product_id, "title", row["title"]),
        description_html=optional(product_id, "description_html", row["description_html"]),
        short_description=optional(product_id, "short_description", row["short_description"]),
        seo_title=optional(product_id, "seo_title", row["seo_title"]),
        seo_description=optional(product_id, "seo_description", row["seo_description"]),
        vendor=row["vendor"],
        tags=tag_list,
        attributes=named("attributes", _DICT.decode(row["attributes"])),
        legal=named("legal", _DICT.decode(row["legal"])),
        price=price(row["price"], currency, requested),
        compare_at_price=price(row["compare_at_price"], currency, requested),
        variants=variants,
        updated_at=row["updated_at"],
    )
