from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from shoplingo.qa.schemas import IssueOut
from shoplingo.translation.serving import Origin
from shoplingo.translation.states import Status


class TranslationJobCreate(msgspec.Struct, forbid_unknown_fields=True):
    target_locales: list[str]
    skus: list[str] | None = None
    all: bool = False
    changed_since: datetime | None = None
    # default: every translatable field (title, description_html, short_description, seo_title,
    # seo_description, tags, attributes, legal, options)
    fields: list[str] | None = None
    # also translate again the texts a glossary or QA error holds for review (after a glossary
    # change), under the glossary in force; legal text held only for being legal is left alone
    retranslate_held: bool = False


class TranslationProgress(msgspec.Struct):
    done: int
    total: int
    percent: float | None


class TranslationUsage(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    # null when a model used has no price configured (SHOPLINGO_LLM_PRICES)
    estimated_cost_usd: float | None


class ModelUsageOut(msgspec.Struct):
    provider: str
    model: str | None
    segments: int
    prompt_tokens: int
    completion_tokens: int
    estimated_cost_usd: float | None


class UsageOut(msgspec.Struct):
    since: datetime | None
    until: datetime | None
    models: list[ModelUsageOut]
    prompt_tokens: int
    completion_tokens: int
    estimated_cost_usd: float | None


class TranslationJobOut(msgspec.Struct):
    id: uuid.UUID
    status: str
    target_locales: list[str]
    fields: list[str]
    retranslate_held: bool
    # segments of this run by status (queued, translating, published, needs_review, ...)
    counts: dict[str, int]
    # texts already translated from the same source, left alone
    up_to_date: int
    # true while a worker is still writing the run's segments (total grows until then)
    preparing: bool
    progress: TranslationProgress
    usage: TranslationUsage
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SegmentView(msgspec.Struct):
    """A segment as both the translations and the reviews APIs show it (each adds its own)."""

    id: uuid.UUID
    owner: str  # "product" or "variant:<sku or position>"
    field: str
    source_locale: str
    target_locale: str
    source_text: str
    target_text: str | None
    status: Status
    legal: bool
    legal_reason: str | None
    issues: list[IssueOut]


class ServedOut(msgspec.Struct):
    """What a shopper would see for a segment right now (see translation.serving)."""

    text: str
    # translation: this segment's text; approved: the last approved text for the same source;
    # source: the source-language text (nothing servable in this locale)
    origin: Origin
    fallback: bool


class SegmentOut(SegmentView):
    """A segment in a product's translations listing."""

    provider: str | None
    model: str | None
    attempts: int
    last_error: str | None
    updated_at: datetime
    # whether a shopper may see target_text now (published; legal text only when approved)
    servable: bool
    # what a shopper sees for this field now: this text, the last approved one, or the
    # source text as a fallback (translation.serving)
    served_text: str
    served_origin: Origin


class ProductTranslations(msgspec.Struct):
    sku: str
    segments: list[SegmentOut]
