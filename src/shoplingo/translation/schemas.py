from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec


class TranslationJobCreate(msgspec.Struct, forbid_unknown_fields=True):
    target_locales: list[str]
    skus: list[str] | None = None
    all: bool = False
    changed_since: datetime | None = None
    # default: every translatable field (title, description_html, seo_title, seo_description,
    # tags, attributes, legal, options)
    fields: list[str] | None = None


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


class SegmentOut(msgspec.Struct):
    id: uuid.UUID
    owner: str  # "product" or "variant:<sku or position>"
    field: str
    source_locale: str
    target_locale: str
    source_text: str
    target_text: str | None
    status: str
    legal: bool
    legal_reason: str | None
    issues: list[dict[str, Any]]
    provider: str | None
    model: str | None
    attempts: int
    last_error: str | None
    updated_at: datetime
    # whether a shopper may see target_text now (published; legal text only when approved)
    servable: bool
    # what a shopper sees for this field now: this text, the last approved one, or the
    # source text as a fallback (review.reads)
    served_text: str
    served_origin: str  # translation | approved | source


class ProductTranslations(msgspec.Struct):
    sku: str
    segments: list[SegmentOut]
