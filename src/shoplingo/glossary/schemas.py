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
