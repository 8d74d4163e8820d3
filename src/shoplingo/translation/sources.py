"""What of a product gets translated: one source text per (owner, field)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from shoplingo.legal.classifier import DEFAULT_CLASSIFIER, Classifier

FIELDS = (
    "title",
    "description_html",
    "short_description",
    "seo_title",
    "seo_description",
    "tags",
    "attributes",
    "legal",
    "options",
)


@dataclass(frozen=True, slots=True)
class SourceText:
    owner_kind: str  # product | variant
    owner_id: uuid.UUID
    field: str
    text: str
    legal: bool
    legal_reason: str | None


def product_sources(
    product: Any,
    fields: Iterable[str] = FIELDS,
    classifier: Classifier | None = DEFAULT_CLASSIFIER,
    target_locale: str | None = None,
) -> Iterator[SourceText]:
    """The translatable texts of a product row (with ``variants`` loaded), empty ones skipped,
    each classified legal or not by the tenant's ``classifier`` (legal.classifier) for a
    translation into ``target_locale`` (its language's rules read the source too); with
    ``classifier=None`` nothing is classified (for callers that only need the texts)."""
    wanted = set(fields)
    locale = product.source_locale if classifier is not None else ""

    def reason_for(field: str, value: str) -> str | None:
        if classifier is None:
            return None
        return classifier.reason(field, value, locale, target_locale)

    def text(field: str, value: str | None) -> Iterator[SourceText]:
        if value and value.strip():
            reason = reason_for(field, value)
            yield SourceText("product", product.id, field, value, reason is not None, reason)

    if "title" in wanted:
        yield from text("title", product.title)
    if "description_html" in wanted:
        yield from text("description_html", product.description_html)
    if "short_description" in wanted:
        # getattr: a row read before the field existed (or a caller's stand-in) has none
        yield from text("short_description", getattr(product, "short_description", None))
    if "seo_title" in wanted:
        yield from text("seo_title", product.seo_title)
    if "seo_description" in wanted:
        yield from text("seo_description", product.seo_description)
    if "tags" in wanted and product.tags:
        yield from text("tags", ", ".join(product.tags))
    if "attributes" in wanted:
        for name, value in sorted(product.attributes.items()):
            yield from text(f"attributes.{name}", value)
    if "legal" in wanted:
        for name, value in sorted(product.legal.items()):
            yield from text(f"legal.{name}", value)
    if "options" in wanted:
        for variant in product.variants:
            for index, option in enumerate(variant.options):
                for part in ("name", "value"):
                    value = option.get(part)
                    if value and value.strip():
                        field = f"options.{index}.{part}"
                        reason = reason_for(field, value)
                        yield SourceText(
                            "variant", variant.id, field, value, reason is not None, reason
                        )
