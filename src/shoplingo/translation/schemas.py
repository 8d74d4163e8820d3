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


class TranslationJobOut(msgspec.Struct):
    id: uuid.UUID
    status: str
    target_locales: list[str]
    fields: list[str]
    # segments of this run by status (queued, translating, published, needs_review, ...)
    counts: dict[str, int]
    # texts already translated from the same source, left alone
    up_to_date: int
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


class ProductTranslations(msgspec.Struct):
    sku: str
    segments: list[SegmentOut]
