"""The review, legal-rules and audit API bodies (a segment view extends translation's)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from shoplingo.translation.schemas import SegmentView, ServedOut
from shoplingo.translation.states import Status

Comment = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
TargetText = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]


class AuditEventOut(msgspec.Struct):
    id: uuid.UUID
    at: datetime
    action: str
    entity_type: str
    entity_id: str
    # the member behind the key (null for an integration key or the system)
    actor_member_id: uuid.UUID | None
    actor_key_id: uuid.UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ReviewOut(SegmentView):
    """A segment in the review queue: the shared segment view, who decided, and its history."""

    sku: str | None
    # the reviewer's comment the next translation follows
    instruction: str | None
    approved_by: uuid.UUID | None
    approved_at: datetime | None
    last_edited_by: uuid.UUID | None
    last_edited_at: datetime | None
    served: ServedOut
    created_at: datetime
    updated_at: datetime
    # this segment's audit events, oldest first
    history: list[AuditEventOut]


class ApproveIn(msgspec.Struct, forbid_unknown_fields=True):
    # the text you reviewed: refused with 409 target_changed if it changed since
    target_text: str | None = None


class RejectIn(msgspec.Struct, forbid_unknown_fields=True):
    comment: Comment


class EditIn(msgspec.Struct, forbid_unknown_fields=True):
    target_text: TargetText


class BulkApproveIn(msgspec.Struct, forbid_unknown_fields=True):
    ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=500)]
    # the text the reviewer read, by id: an item whose text changed since is refused
    # (target_changed); a legal item is approved in bulk only with the text it was read as
    texts: dict[uuid.UUID, TargetText] = {}


class BulkItemOut(msgspec.Struct):
    id: uuid.UUID
    approved: bool
    # the segment's status afterwards (null when it does not exist)
    status: Status | None
    # why it was refused: the code and detail a single approval would have answered with
    http_status: int | None = None
    code: str | None = None
    detail: str | None = None


class BulkApproveOut(msgspec.Struct):
    approved: int
    refused: int
    items: list[BulkItemOut]


class ReviewFilterIn(msgspec.Struct, forbid_unknown_fields=True):
    """Which review items (segments waiting in needs_review) a bulk decision takes; the same
    filters as the review queue listing. Empty: every item."""

    # only legal (true) or non-legal (false) text
    legal: bool | None = None
    # target locale: "de" is every German, "de-DE" only that one
    locale: str | None = None
    # only items with an issue of this check ("glossary.keep") or family ("glossary")
    issue: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


BulkLimit = Annotated[int, msgspec.Meta(ge=1, le=500)]


class BulkApproveMatchingIn(msgspec.Struct, forbid_unknown_fields=True):
    filter: ReviewFilterIn
    # when you looked at these items: what changed after it is left for your next review
    reviewed_at: Annotated[datetime, msgspec.Meta(tz=True)]
    # at most this many items, oldest first
    limit: BulkLimit = 100


class BulkRejectMatchingIn(msgspec.Struct, forbid_unknown_fields=True):
    filter: ReviewFilterIn
    # what is wrong: each item is translated again following it
    comment: Comment
    limit: BulkLimit = 100


class BulkRetranslateMatchingIn(msgspec.Struct, forbid_unknown_fields=True):
    filter: ReviewFilterIn
    limit: BulkLimit = 100


class BulkOutcomeItemOut(msgspec.Struct):
    id: uuid.UUID
    # approved, rejected or queued to be translated again
    done: bool
    # the segment's status afterwards
    status: Status | None
    # why it was refused: the code and detail a single call would have answered with
    http_status: int | None = None
    code: str | None = None
    detail: str | None = None


class BulkOutcomeOut(msgspec.Struct):
    done: int
    refused: int
    # more items matched than the limit took: call again for the next ones
    more: bool
    items: list[BulkOutcomeItemOut]
    # bulk-retranslate: the translation job that translates the items again
    translation_job_id: uuid.UUID | None = None


PatternName = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,40}$")]
Language = Annotated[str, msgspec.Meta(pattern=r"^(\*|[a-z]{2,3})$")]


class LegalPatternIO(msgspec.Struct, forbid_unknown_fields=True):
    name: PatternName
    # a Python regular expression, matched case-insensitively ((?-i:...) for a case-sensitive
    # part); no backreferences or named groups
    pattern: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class LegalSettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    # field names that are legal when they are product attributes (every legal.<name> is)
    fields: Annotated[list[str], msgspec.Meta(max_length=100)]
    # source language ("en", "de", ..., or "*" for every language) -> patterns; a language
    # left out has no patterns
    patterns: dict[Language, Annotated[list[LegalPatternIO], msgspec.Meta(max_length=100)]]


class LegalSettingsAdd(msgspec.Struct, forbid_unknown_fields=True):
    """Fields and patterns to add to the shop's own (PATCH); what it has stays."""

    fields: Annotated[list[str], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)
    patterns: dict[Language, Annotated[list[LegalPatternIO], msgspec.Meta(max_length=100)]] = (
        msgspec.field(default_factory=dict)
    )


class LegalBuiltInOut(msgspec.Struct):
    """The built-in rules, part of every tenant's rules: no setting switches them off."""

    fields: list[str]
    # language -> names of its built-in patterns
    patterns: dict[str, list[str]]


class LegalSettingsOut(msgspec.Struct):
    version: int
    # the rules in force: the built-in ones and the tenant's own
    fields: list[str]
    patterns: dict[str, list[LegalPatternIO]]
    # true until the tenant saved its own rules
    defaults: bool
    built_in: LegalBuiltInOut
