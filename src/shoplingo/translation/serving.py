"""What a shopper may see: the one function every shopper-facing read goes through.

For each segment, in order:

1. its own target text, when it is ``published`` and, for legal text, published through an
   approval (``approved_at`` set) and still for the product's current source text;
2. otherwise the last approved translation of the same source text (same source locale, target
   locale and source hash; see ``segment_approvals``), e.g. the approved warranty while an edit
   of it waits for review;
3. otherwise the source text itself, marked as a fallback.

An unapproved translation of legal text is never returned. Legality is the segment's stored
flag or what the tenant's current rules say of its source and target text together (a text
that became legal, or a claim written into a translation, is held back even before its
segment is re-classified).

The rule itself is two pure functions, :func:`text_servable` (step 1) and :func:`shopper_text`
(steps 1 to 3); :func:`servable_texts` applies them to ORM rows, and the storefront (which
reads its rows with its own SQL, the last approved text included) calls them as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import or_, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shoplingo.legal.classifier import Classifier, tenant_classifier
from shoplingo.models import Product, SegmentApproval, Tenant, Variant
from shoplingo.translation.memory import source_hash
from shoplingo.translation.sources import product_sources
from shoplingo.translation.states import SERVABLE, Status


class Origin(StrEnum):
    TRANSLATION = "translation"
    APPROVED = "approved"
    SOURCE = "source"


@dataclass(frozen=True, slots=True)
class Served:
    text: str
    origin: Origin
    # True when ``text`` is in the source language: nothing servable in the target locale
    fallback: bool


class SegmentLike(Protocol):
    """The columns of ``segments`` a read needs (an ORM Segment or a selected row)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def owner_id(self) -> uuid.UUID: ...
    @property
    def field(self) -> str: ...
    @property
    def source_locale(self) -> str: ...
    @property
    def target_locale(self) -> str: ...
    @property
    def source_text(self) -> str: ...
    @property
    def source_hash(self) -> str: ...
    @property
    def target_text(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def legal(self) -> bool: ...
    @property
    def approved_at(self) -> datetime | None: ...


def text_servable(
    status: str,
    target_text: str | None,
    *,
    approved: bool,
    legal: bool,
    field: str,
    source_text: str,
    source_locale: str,
    target_locale: str,
    classifier: Classifier,
) -> bool:
    """Step 1: whether a segment's own target text may be shown to a shopper, for the source
    text it was translated from. ``legal`` is the segment's stored flag; the tenant's current
    rules (``classifier``, both sides) are asked only when it matters (an unapproved servable
    text)."""
    if status not in SERVABLE or target_text is None:
        return False
    return approved or not (
        legal
        or classifier.reason(field, source_text, source_locale, target_locale, target_text)
        is not None
    )


def shopper_text(*, own: str | None, last_approved: str | None, source: str) -> Served:
    """Steps 1 to 3 for one segment: ``own`` is its text when :func:`text_servable` says so
    and it was translated from the current source (else None); ``last_approved`` the last
    approved text for the current source (``segment_approvals``), if any."""
    if own is not None:
        return Served(own, Origin.TRANSLATION, False)
    if last_approved is not None:
        return Served(last_approved, Origin.APPROVED, False)
    return Served(source, Origin.SOURCE, True)


def own_text_servable(segment: SegmentLike, classifier: Classifier) -> bool:
    """:func:`text_servable` for a segment row."""
    return text_servable(
        segment.status,
        segment.target_text,
        approved=segment.approved_at is not None,
        legal=segment.legal,
        field=segment.field,
        source_text=segment.source_text,
        source_locale=segment.source_locale,
        target_locale=segment.target_locale,
        classifier=classifier,
    )


def current_sources(product: Any, segments: Iterable[SegmentLike]) -> dict[uuid.UUID, str]:
    """Segment id -> the product's current source text for its field (``product`` with its
    variants loaded), for :func:`servable_texts`. Fields the product no longer has are left
    out."""
    texts = {
        (source.owner_id, source.field): source.text
        for source in product_sources(product, classifier=None)
    }
    return {
        segment.id: texts[(segment.owner_id, segment.field)]
        for segment in segments
        if (segment.owner_id, segment.field) in texts
    }


async def load_current_sources(
    session: AsyncSession, tenant_id: uuid.UUID, segments: Iterable[SegmentLike]
) -> dict[uuid.UUID, str]:
    """:func:`current_sources` for segments of any products, loading those products (only for
    stale segments: any other segment's source is its product's current one)."""
    stale = [s for s in segments if s.status == Status.STALE.value]
    if not stale:
        return {}
    owners = {s.owner_id for s in stale}
    variant_products = select(Variant.product_id).where(
        Variant.tenant_id == tenant_id, Variant.id.in_(owners)
    )
    products = await session.scalars(
        select(Product)
        .options(selectinload(Product.variants))
        .where(
            Product.tenant_id == tenant_id,
            or_(Product.id.in_(owners), Product.id.in_(variant_products)),
        )
    )
    found: dict[uuid.UUID, str] = {}
    for product in products:
        found.update(current_sources(product, stale))
    return found


async def servable_texts(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    segments: Iterable[SegmentLike],
    *,
    current_sources: Mapping[uuid.UUID, str] | None = None,
) -> dict[uuid.UUID, Served]:
    """Segment id -> what a shopper may see for it (see the module docstring for the rules).

    ``current_sources`` maps a segment id to the product's current source text when the caller
    has it (a storefront reading the product does): a segment translated from another source
    text (stale) then falls back to the current text, never to its outdated source. Without it
    the segment's own source text is used. One query, for the segments needing a fallback.
    """
    classifier = tenant_classifier(tenant_id, await session.get(Tenant, tenant_id))
    current = current_sources or {}
    served: dict[uuid.UUID, Served] = {}
    waiting: dict[uuid.UUID, tuple[str, str, str, str]] = {}
    for segment in segments:
        source = current.get(segment.id, segment.source_text)
        digest = source_hash(source) if segment.id in current else segment.source_hash
        if digest == segment.source_hash and own_text_servable(segment, classifier):
            served[segment.id] = shopper_text(
                own=segment.target_text, last_approved=None, source=source
            )
        else:
            waiting[segment.id] = (segment.source_locale, segment.target_locale, digest, source)
    if waiting:
        keys = {(s, t, h) for s, t, h, _ in waiting.values()}
        rows = await session.execute(
            select(
                SegmentApproval.source_locale,
                SegmentApproval.target_locale,
                SegmentApproval.source_hash,
                SegmentApproval.target_text,
            )
            .where(
                SegmentApproval.tenant_id == tenant_id,
                tuple_(
                    SegmentApproval.source_locale,
                    SegmentApproval.target_locale,
                    SegmentApproval.source_hash,
                ).in_(list(keys)),
            )
            .order_by(
                SegmentApproval.source_locale,
                SegmentApproval.target_locale,
                SegmentApproval.source_hash,
                SegmentApproval.approved_at.desc(),
                SegmentApproval.id.desc(),
            )
            .ext(
                distinct_on(
                    SegmentApproval.source_locale,
                    SegmentApproval.target_locale,
                    SegmentApproval.source_hash,
                )
            )
        )
        approved = {(r.source_locale, r.target_locale, r.source_hash): r.target_text for r in rows}
        for segment_id, (s, t, h, source) in waiting.items():
            served[segment_id] = shopper_text(
                own=None, last_approved=approved.get((s, t, h)), source=source
            )
    return served
