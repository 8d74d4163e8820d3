from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

Kind = Literal["translate", "keep", "forbidden"]


class TargetIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    # translate: the required translation; forbidden: a word that must not appear
    text: str | None = None
    # translate: inflected forms that also count; forbidden: more words that must not appear
    variants: list[str] = []


class TermIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    term: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    kind: Kind
    case_sensitive: bool = False
    # locale (de, de-AT) -> target; not allowed for keep terms
    targets: dict[str, TargetIn] = {}
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class TermOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    term: str
    kind: Kind
    case_sensitive: bool
    targets: dict[str, TargetIn]
    note: str | None
    created_at: datetime
    updated_at: datetime


class RecheckOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: str
    processed: int
    total: int | None
    counts: dict[str, int]


class GlossaryOut(msgspec.Struct, kw_only=True):
    version: int
    terms: dict[str, int]  # per kind
    # the background re-check of existing translations after the last change
    recheck: RecheckOut | None


class ImportRowErrorOut(msgspec.Struct, kw_only=True):
    row: int  # CSV line number or TBX entry number (1-based)
    column: str | None
    code: str
    message: str


class ImportReport(msgspec.Struct, kw_only=True):
    version: int
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[ImportRowErrorOut]


class TermFilterIn(msgspec.Struct, forbid_unknown_fields=True):
    """Which terms a bulk delete takes (the listing's filters; at least one)."""

    kind: Kind | None = None
    # the term contains this (any case)
    q: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class TermsBulkDeleteIn(msgspec.Struct, forbid_unknown_fields=True):
    # exactly one of ids and filter
    ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=1000)] | None = None
    filter: TermFilterIn | None = None
    # filter: at most this many terms a call (oldest first); "more" says there are others
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1000


class TermBulkDeleteItemOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    deleted: bool
    # why not: the code and detail a single DELETE would have answered with
    http_status: int | None = None
    code: str | None = None
    detail: str | None = None


class TermsBulkDeleteOut(msgspec.Struct, kw_only=True):
    # the glossary version after the call (unchanged when nothing was deleted)
    version: int
    deleted: int
    refused: int
    more: bool
    items: list[TermBulkDeleteItemOut]
