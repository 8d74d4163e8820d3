"""Every table, imported here so ``Base.metadata`` is complete for Alembic and the app."""

from shoplingo.models.api_key import ApiKey
from shoplingo.models.audit import AuditEvent
from shoplingo.models.base import Base
from shoplingo.models.glossary import GlossaryTerm
from shoplingo.models.job import ImportRowError, Job
from shoplingo.models.product import Product, Variant
from shoplingo.models.segment import Segment, SegmentApproval, TokenUsage, TranslationMemory
from shoplingo.models.storefront import (
    StorefrontChange,
    StorefrontVersion,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
)
from shoplingo.models.support import Conversation, Message, ReplyDraft, SupportPolicy
from shoplingo.models.tenant import Invitation, Member, Tenant

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Conversation",
    "GlossaryTerm",
    "ImportRowError",
    "Invitation",
    "Job",
    "Member",
    "Message",
    "Product",
    "ReplyDraft",
    "Segment",
    "SegmentApproval",
    "StorefrontChange",
    "StorefrontVersion",
    "SupportPolicy",
    "Tenant",
    "TokenUsage",
    "TranslationMemory",
    "Variant",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookEndpoint",
]
