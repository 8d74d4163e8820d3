from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from shoplingo.qa.schemas import IssueOut
from shoplingo.support.states import DraftStatus, TranslationStatus

PolicyName = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
PolicyBody = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
MessageText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
Instructions = Annotated[str, msgspec.Meta(max_length=4_000)]
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: PolicyName
    text: PolicyBody
    # the language the policy is written in (default: the shop's source locale)
    locale: str | None = None


class PolicyOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    text: str
    locale: str
    # the tenant's legal rules flag it (a draft that repeats it then needs approval)
    legal: bool
    legal_reason: str | None
    created_at: datetime
    updated_at: datetime


class ConversationIn(msgspec.Struct, forbid_unknown_fields=True):
    # the helpdesk's id for the thread: sending the same one again returns the conversation
    external_id: ExternalId
    customer_message: MessageText
    agent_locale: str
    # detected from the message when not given
    customer_locale: str | None = None
    # products the customer writes about: their facts ground the drafts
    skus: Annotated[list[Sku], msgspec.Meta(max_length=20)] = []


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    text: MessageText
    # a customer's message is translated for the agent, an agent's for the customer
    author: Literal["customer", "agent"] = "customer"


class DraftIn(msgspec.Struct, forbid_unknown_fields=True):
    # what the reply should do, e.g. "Offer a replacement" (in the agent's language)
    instructions: Instructions | None = None


class DraftEditIn(msgspec.Struct, forbid_unknown_fields=True):
    # the reply in the agent's language; it is translated again for the customer
    agent_text: MessageText


class DraftApproveIn(msgspec.Struct, forbid_unknown_fields=True):
    # the customer-language text you reviewed: 409 target_changed if it changed since
    customer_text: str | None = None


class DraftRetryIn(msgspec.Struct, forbid_unknown_fields=True):
    # new instructions draft the reply afresh; without, the failed step runs again
    instructions: Instructions | None = None


class DetectionOut(msgspec.Struct):
    language: str  # ISO 639-1, e.g. "de"
    confidence: float  # 0..1 (lingua)


class CustomerLanguageOut(msgspec.Struct):
    locale: str
    # given (by the caller), detected (from the customer's words) or fallback (detection was
    # not confident: the shop's source locale stands in until a message says more)
    origin: str
    detection: DetectionOut | None
    note: str | None


class TranslationOut(msgspec.Struct):
    # queued, translated, not_needed (same language), failed or blocked (moderation)
    status: TranslationStatus
    locale: str
    text: str | None
    error: str | None


class MessageOut(msgspec.Struct):
    id: uuid.UUID
    author: str
    author_member_id: uuid.UUID | None
    text: str
    locale: str
    translation: TranslationOut
    draft_id: uuid.UUID | None
    created_at: datetime


class UsedPolicyOut(msgspec.Struct):
    id: uuid.UUID
    name: str


class UsedProductOut(msgspec.Struct):
    sku: str
    title: str


class DraftOut(msgspec.Struct):
    id: uuid.UUID
    conversation_id: uuid.UUID
    # queued (being drafted or translated), ready (may be sent), needs_approval (legal, or
    # glossary/QA errors: a reviewer approves), approved, sent, failed, blocked (moderation)
    status: DraftStatus
    # failed or blocked: why (retry with POST .../retry)
    error: str | None
    instructions: str | None
    agent_locale: str
    agent_text: str | None
    customer_locale: str
    customer_text: str | None
    policies_used: list[UsedPolicyOut]
    products_used: list[UsedProductOut]
    issues: list[IssueOut]
    legal: bool
    legal_reason: str | None
    model: str | None
    requested_by: uuid.UUID | None
    edited_by: uuid.UUID | None
    approved_by: uuid.UUID | None
    approved_at: datetime | None
    sent_by: uuid.UUID | None
    sent_at: datetime | None
    requested_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ConversationOut(msgspec.Struct):
    id: uuid.UUID
    external_id: str
    customer_language: CustomerLanguageOut
    agent_locale: str
    skus: list[str]
    messages: list[MessageOut]
    drafts: list[DraftOut]
    created_at: datetime
    updated_at: datetime


class ConversationSummaryOut(msgspec.Struct):
    id: uuid.UUID
    external_id: str
    customer_locale: str
    agent_locale: str
    created_at: datetime
    updated_at: datetime
