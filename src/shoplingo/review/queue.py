"""The review queue: which segments wait for a person, one segment, and what a review view
shows next to it (its audit history and the product or variant it belongs to)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.errors import FieldError, NotFound, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.core.pagination import keyset_page
from shoplingo.models import AuditEvent, Product, Segment, Variant
from shoplingo.translation.states import Status

SEGMENT_STATUSES = tuple(s.value for s in Status)


def segment_not_found(segment_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Segment {id} was not found."), code="segment_not_found", params={"id": segment_id}
    )


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    status: str | None = Status.NEEDS_REVIEW.value
    legal: bool | None = None
    locale: str | None = None
    issue: str | None = None
    # only segments that did not change after this instant (what a reviewer saw then)
    changed_before: datetime | None = None


def _check_filter(review_filter: ReviewFilter) -> ReviewFilter:
    errors: list[FieldError] = []
    locale = review_filter.locale
    if locale is not None:
        try:
            locale = canonical_locale(locale)
        except InvalidLocaleError:
            errors.append(locale_field_error("locale", locale))
    if review_filter.status is not None and review_filter.status not in SEGMENT_STATUSES:
        errors.append(
            FieldError(
                field="status",
                code="unknown_status",
                message=N_("Unknown status {status}; statuses: {statuses}."),
                params={"status": review_filter.status, "statuses": ", ".join(SEGMENT_STATUSES)},
            )
        )
    if errors:
        raise ValidationFailed(errors=errors)
    return ReviewFilter(
        status=review_filter.status,
        legal=review_filter.legal,
        locale=locale,
        issue=review_filter.issue,
        changed_before=review_filter.changed_before,
    )


async def list_reviews(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    review_filter: ReviewFilter,
    *,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[Segment], str | None]:
    """Oldest first (by when the segment was created), keyset paginated."""
    wanted = _check_filter(review_filter)
    query = select(Segment).where(Segment.tenant_id == tenant_id)
    if wanted.status is not None:
        query = query.where(Segment.status == wanted.status)
    if wanted.legal is not None:
        query = query.where(Segment.legal.is_(wanted.legal))
    if wanted.locale is not None:
        # "de" is every German; "de-DE" only that one
        query = query.where(
            or_(
                Segment.target_locale == wanted.locale,
                Segment.target_locale.startswith(wanted.locale + "-", autoescape=True),
            )
        )
    if wanted.changed_before is not None:
        query = query.where(Segment.updated_at <= wanted.changed_before)
    if wanted.issue is not None:
        # a check id ("placeholders", "glossary.keep") or a family of them ("glossary")
        query = query.where(
            text(
                "EXISTS (SELECT 1 FROM jsonb_array_elements(segments.qa_issues) AS i "
                "WHERE i ->> 'check' = :issue OR i ->> 'check' LIKE :family)"
            ).bindparams(issue=wanted.issue, family=wanted.issue.replace("%", "") + ".%")
        )
    return await keyset_page(
        session, query, at=Segment.created_at, row_id=Segment.id, limit=limit, cursor=cursor
    )


async def get_segment(
    session: AsyncSession, tenant_id: uuid.UUID, segment_id: uuid.UUID
) -> Segment:
    segment = await session.get(Segment, (tenant_id, segment_id))
    if segment is None:
        raise segment_not_found(segment_id)
    return segment


async def histories(
    session: AsyncSession, tenant_id: uuid.UUID, segment_ids: Sequence[uuid.UUID]
) -> dict[str, list[AuditEvent]]:
    """Each segment's audit events, oldest first (one query)."""
    found: dict[str, list[AuditEvent]] = {str(i): [] for i in segment_ids}
    if not segment_ids:
        return found
    events = await session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.tenant_id == tenant_id,
            AuditEvent.entity_type == "segment",
            AuditEvent.entity_id.in_(list(found)),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    for event in events:
        found[event.entity_id].append(event)
    return found


async def owners(
    session: AsyncSession, tenant_id: uuid.UUID, segments: Sequence[Segment]
) -> dict[uuid.UUID, tuple[str | None, str]]:
    """owner id -> (product SKU, "product" or "variant:<sku or position>")."""
    product_ids = {s.owner_id for s in segments if s.owner_kind == "product"}
    variant_ids = {s.owner_id for s in segments if s.owner_kind == "variant"}
    found: dict[uuid.UUID, tuple[str | None, str]] = {}
    if product_ids:
        for product_id, sku in await session.execute(
            select(Product.id, Product.sku).where(
                Product.tenant_id == tenant_id, Product.id.in_(product_ids)
            )
        ):
            found[product_id] = (sku, "product")
    if variant_ids:
        for variant_id, variant_sku, position, sku in await session.execute(
            select(Variant.id, Variant.sku, Variant.position, Product.sku)
            .join(
                Product,
                (Product.tenant_id == Variant.tenant_id) & (Product.id == Variant.product_id),
            )
            .where(Variant.tenant_id == tenant_id, Variant.id.in_(variant_ids))
        ):
            found[variant_id] = (sku, f"variant:{variant_sku or f'#{position + 1}'}")
    return found
