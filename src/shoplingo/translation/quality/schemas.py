"""The /v1/qa request and response bodies (issues: qa.schemas.IssueOut)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from shoplingo.qa.schemas import IssueOut


class QaCheckIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    source: Annotated[str, msgspec.Meta(max_length=100_000)]
    target: Annotated[str, msgspec.Meta(max_length=100_000)]
    source_locale: str
    target_locale: str
    field: str | None = None


class QaCheckOut(msgspec.Struct, kw_only=True):
    # false when an error-level issue would keep this text from being published
    publishable: bool
    issues: list[IssueOut]
    glossary_version: int


class QaSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # warning checks switched off for this tenant (error checks always run)
    disabled_checks: list[str] = []
    # field -> maximum characters of a translation (defaults: title 255, seo_title 70, ...)
    max_length: dict[str, Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]] = {}
    # translations may point links (href, src) at localized pages; script URLs stay refused
    localized_links: bool = False


class CheckOut(msgspec.Struct, kw_only=True):
    id: str
    severity: Literal["error", "warning"]
    description: str
    disabled: bool
