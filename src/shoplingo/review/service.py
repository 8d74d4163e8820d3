"""Review: approving, rejecting and editing translations, and the tenant's legal rules.

Never commits: the request boundary does (jobs are enqueued after commit). Every decision is
written to the audit log in the same transaction as the change it describes.

Who may approve (:func:`check_approver`): a member's personal key (never an integration key)
holding ``review:approve``, of an active member whose role is reviewer or owner, who is not the
member whose edit the text is (four-eyes). Each refusal is a 403 with its own code.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal, Scope, missing_scope
from shoplingo.core.db import transaction_time
from shoplingo.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ProblemError,
    ValidationFailed,
)
from shoplingo.core.i18n import N_
from shoplingo.core.jobs import send_after_commit
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.core.pagination import keyset_page
from shoplingo.legal.classifier import LegalPattern, LegalRules, compile_alternatives, field_key
from shoplingo.models import (
    AuditEvent,
    Job,
    Member,
    Product,
    Segment,
    SegmentApproval,
    Variant,
)
from shoplingo.qa.issues import blocking
from shoplingo.settings import Settings
from shoplingo.tenants.changes import rules_changed
from shoplingo.tenants.service import get_tenant
from shoplingo.translation import memory, runs
from shoplingo.translation.quality.service import load_context as load_qa_context
from shoplingo.translation.states import Status, after_human_edit, transition

APPROVER_ROLES = ("reviewer", "owner")
SEGMENT_STATUSES = tuple(s.value for s in Status)


class IntegrationKeyCannotApprove(Forbidden):
    code = "integration_key_cannot_approve"
    message = N_("Only a member's personal key can approve or reject; integration keys never can.")


class IntegrationKeyCannotEditLegal(Forbidden):
    code = "integration_key_cannot_edit_legal"
    message = N_(
        "Legal text is edited with a member's personal key, so that someone else approves it."
    )


class RoleCannotApprove(Forbidden):
    code = "role_cannot_approve"
    message = N_("Only an active member with the role reviewer or owner can do this.")


class FourEyes(Forbidden):
    code = "four_eyes"
    message = N_("You edited this text last: another reviewer has to approve it.")


class TargetChanged(Conflict):
    code = "target_changed"
    message = N_("The text changed since you reviewed it: review the current text.")


def segment_not_found(segment_id: uuid.UUID) -> NotFound:
    return NotFound(
        N_("Segment {id} was not found."), code="segment_not_found", params={"id": segment_id}
    )


# --- who may decide ---------------------------------------------------------------------


async def check_reviewer(session: AsyncSession, actor: Principal) -> None:
    """A member key with review:approve of an active reviewer or owner (not four-eyes yet)."""
    if actor.member_id is None:
        raise IntegrationKeyCannotApprove()
    if not actor.has(Scope.REVIEW_APPROVE):
        raise missing_scope([Scope.REVIEW_APPROVE.value])
    # read fresh: a role changed or a member deactivated after the key was authenticated
    member = await session.get(Member, (actor.tenant_id, actor.member_id))
    if member is None or member.deactivated_at is not None or member.role not in APPROVER_ROLES:
        raise RoleCannotApprove()


async def check_approver(session: AsyncSession, actor: Principal, segment: Segment) -> None:
    await check_reviewer(session, actor)
    if segment.last_edited_by is not None and segment.last_edited_by == actor.member_id:
        raise FourEyes()


# --- segments -----------------------------------------------------------------------------


async def _locked_segment(
    session: AsyncSession, tenant_id: uuid.UUID, segment_id: uuid.UUID
) -> Segment:
    segment = await session.scalar(
        select(Segment)
        .where(Segment.tenant_id == tenant_id, Segment.id == segment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if segment is None:
        raise segment_not_found(segment_id)
    return segment


def _state(segment: Segment) -> dict[str, Any]:
    return {
        "status": segment.status,
        "target_text": segment.target_text,
        "approved_by": str(segment.approved_by) if segment.approved_by else None,
        "last_edited_by": str(segment.last_edited_by) if segment.last_edited_by else None,
    }


async def approve(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    segment_id: uuid.UUID,
    actor: Principal,
    *,
    reviewed_text: str | None = None,
) -> Segment:
    """needs_review -> approved -> published, by a reviewer who did not write the text."""
    segment = await _locked_segment(session, tenant_id, segment_id)
    await check_approver(session, actor, segment)
    if reviewed_text is not None and reviewed_text != segment.target_text:
        raise TargetChanged()
    transition(segment.status, Status.APPROVED)
    if segment.target_text is None:  # needs_review always has a text; never publish nothing
        raise TargetChanged()
    before = _state(segment)
    now = await transaction_time(session)
    assert actor.member_id is not None
    segment.status = transition(Status.APPROVED, Status.PUBLISHED, legal=segment.legal).value
    segment.approved_by = actor.member_id
    segment.approved_at = now
    segment.published_at = now
    session.add(
        SegmentApproval(
            tenant_id=tenant_id,
            segment_id=segment.id,
            source_locale=segment.source_locale,
            target_locale=segment.target_locale,
            source_hash=segment.source_hash,
            target_text=segment.target_text,
            approved_by=actor.member_id,
            approved_key_id=actor.key_id,
            approved_at=now,
        )
    )
    await session.flush()
    # the next translation of the same text reuses the approved one (it still gets reviewed
    # when it is legal)
    raw: Any = (await (await session.connection()).get_raw_connection()).driver_connection
    await memory.remember(
        raw,
        tenant_id,
        segment.source_locale,
        segment.target_locale,
        [(segment.source_text, segment.target_text)],
        origin="human",
        approved=True,
    )
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="segment.approved",
        entity_type="segment",
        entity_id=segment.id,
        before=before,
        after=_state(segment),
    )
    await session.flush()
    return segment


async def reject(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    segment_id: uuid.UUID,
    actor: Principal,
    *,
    comment: str,
) -> Segment:
    """needs_review -> rejected -> queued: translated again (after commit) following the
    comment, which becomes the segment's instruction."""
    segment = await _locked_segment(session, tenant_id, segment_id)
    await check_reviewer(session, actor)
    comment = comment.strip()
    if not comment:
        raise ValidationFailed(
            errors=[FieldError(field="comment", code="required", message=N_("Say what is wrong."))]
        )
    transition(segment.status, Status.REJECTED)
    before = _state(segment)
    job = Job(
        tenant_id=tenant_id,
        kind=runs.KIND,
        status="queued",
        total=1,
        params={
            "target_locales": [segment.target_locale],
            "fields": [segment.field],
            "skus": None,
            "all": False,
            "changed_since": None,
            "rejected_segment_id": str(segment.id),
        },
        counts={"candidates": 1, "up_to_date": 0},
    )
    session.add(job)
    await session.flush()
    segment.status = transition(Status.REJECTED, Status.QUEUED).value
    segment.instruction = comment
    segment.job_id = job.id
    segment.queued_at = await transaction_time(session)
    segment.claimed_at = None
    segment.attempts = 0
    segment.last_error = None
    segment.approved_by = None
    segment.approved_at = None
    # the next text is the machine's, whoever wrote this one
    segment.last_edited_by = None
    await session.flush()
    send_after_commit(session, queue, settings, job, runs.RUN_FUNCTION, "start:0")
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="segment.rejected",
        entity_type="segment",
        entity_id=segment.id,
        before=before,
        after={**_state(segment), "comment": comment, "translation_job_id": str(job.id)},
    )
    await session.flush()
    return segment


async def edit(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    segment_id: uuid.UUID,
    actor: Principal,
    *,
    target_text: str,
) -> Segment:
    """A person's translation replaces the target text. Legal text (even approved before) goes
    to needs_review for a new approval by someone else; a clean non-legal edit is published.
    The approval of the previous text is void (it stays in segment_approvals for reads)."""
    segment = await _locked_segment(session, tenant_id, segment_id)
    if segment.legal and actor.member_id is None:
        # four-eyes needs to know who wrote the text: an integration key is nobody
        raise IntegrationKeyCannotEditLegal()
    if not target_text.strip():
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="target_text", code="required", message=N_("Give the translated text.")
                )
            ]
        )
    # a person's text meets the same glossary and QA checks as the machine's
    raw: Any = (await (await session.connection()).get_raw_connection()).driver_connection
    qa = await load_qa_context(raw, tenant_id)
    found = qa.inspect(
        segment.source_text, target_text, segment.source_locale, segment.target_locale,
        segment.field,
    )  # fmt: skip
    issues = [issue.as_dict() for issue in found]
    status = after_human_edit(segment.status, legal=segment.legal, blocking_issues=blocking(found))
    before = _state(segment)
    now = await transaction_time(session)
    segment.status = status.value
    segment.target_text = target_text
    segment.qa_issues = issues
    segment.provider = "human"
    segment.model = None
    segment.last_error = None
    segment.approved_by = None
    segment.approved_at = None
    segment.last_edited_by = actor.member_id
    segment.last_edited_at = now
    if status is Status.PUBLISHED:
        segment.published_at = now
    await session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="segment.edited",
        entity_type="segment",
        entity_id=segment.id,
        before=before,
        after=_state(segment),
    )
    await session.flush()
    return segment


@dataclass(frozen=True, slots=True)
class BulkItem:
    id: uuid.UUID
    segment: Segment | None
    error: ProblemError | None


async def approve_many(
    session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID], actor: Principal
) -> list[BulkItem]:
    """Each segment approved on its own terms (a savepoint each); refusals reported per item."""
    items: list[BulkItem] = []
    for segment_id in dict.fromkeys(ids):
        try:
            async with session.begin_nested():
                segment = await approve(session, tenant_id, segment_id, actor)
            items.append(BulkItem(segment_id, segment, None))
        except ProblemError as error:
            current = await session.scalar(
                select(Segment).where(Segment.tenant_id == tenant_id, Segment.id == segment_id)
            )
            items.append(BulkItem(segment_id, current, error))
    return items


# --- listing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    status: str | None = Status.NEEDS_REVIEW.value
    legal: bool | None = None
    locale: str | None = None
    issue: str | None = None


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


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: uuid.UUID | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None


async def list_audit(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    audit_filter: AuditFilter,
    *,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[AuditEvent], str | None]:
    """Oldest first, keyset paginated; ``actor`` is a member id or an API key id."""
    query = select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
    if audit_filter.actor is not None:
        query = query.where(
            or_(
                AuditEvent.actor_member_id == audit_filter.actor,
                AuditEvent.actor_key_id == audit_filter.actor,
            )
        )
    if audit_filter.action is not None:
        query = query.where(AuditEvent.action == audit_filter.action)
    if audit_filter.entity_type is not None:
        query = query.where(AuditEvent.entity_type == audit_filter.entity_type)
    if audit_filter.entity_id is not None:
        query = query.where(AuditEvent.entity_id == audit_filter.entity_id)
    if audit_filter.since is not None:
        query = query.where(AuditEvent.at > audit_filter.since)
    return await keyset_page(
        session, query, at=AuditEvent.at, row_id=AuditEvent.id, limit=limit, cursor=cursor
    )


# --- the tenant's legal rules ---------------------------------------------------------------

_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P[<=]|\(\?<[A-Za-z]|\\g<")
# a quantified group that itself contains a quantifier: (a+)+, (\w*x)*, (a|b+){2,}
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")


def _pattern_errors(language: str, index: int, pattern: str) -> list[FieldError]:
    path = f"patterns.{language}.{index}.pattern"
    if _BACKREFERENCE.search(pattern):
        return [
            FieldError(
                field=path,
                code="unsupported_pattern",
                message=N_("Backreferences and named groups are not supported in patterns."),
            )
        ]
    if _NESTED_QUANTIFIER.search(pattern):
        return [
            FieldError(
                field=path,
                code="slow_pattern",
                message=N_(
                    "A repeated group that contains a repetition can take very long to match; "
                    "rewrite it without nesting."
                ),
            )
        ]
    try:
        compile_alternatives([(language, LegalPattern("x", pattern))])
    except re.error as exc:
        return [
            FieldError(
                field=path,
                code="invalid_pattern",
                message=N_("This is not a valid regular expression: {reason}"),
                params={"reason": str(exc)},
            )
        ]
    return []


def check_rules(
    fields: Sequence[str], patterns: Mapping[str, Sequence[tuple[str, str]]]
) -> tuple[tuple[str, ...], dict[str, tuple[LegalPattern, ...]]]:
    errors: list[FieldError] = []
    names: list[str] = []
    for index, name in enumerate(fields):
        key = field_key(name)
        if not re.fullmatch(r"[a-z0-9_]{1,80}", key):
            errors.append(
                FieldError(
                    field=f"fields.{index}",
                    code="invalid_field_name",
                    message=N_("A field name has 1 to 80 letters, digits, spaces or _."),
                )
            )
        names.append(key)
    checked: dict[str, tuple[LegalPattern, ...]] = {}
    for language, items in patterns.items():
        for index, (_, pattern) in enumerate(items):
            errors.extend(_pattern_errors(language, index, pattern))
        checked[language] = tuple(LegalPattern(n, p) for n, p in items)
    if errors:
        raise ValidationFailed(errors=errors)
    return tuple(dict.fromkeys(names)), checked


async def get_rules(session: AsyncSession, tenant_id: uuid.UUID) -> tuple[LegalRules, bool]:
    """The tenant's legal rules, and whether they are still the defaults."""
    tenant = await get_tenant(session, tenant_id)
    return LegalRules.from_settings(tenant.settings), not tenant.settings.get("legal")


async def put_rules(
    session: AsyncSession,
    queue: ArqRedis,
    settings: Settings,
    tenant_id: uuid.UUID,
    actor: Principal,
    *,
    fields: Sequence[str],
    patterns: Mapping[str, Sequence[tuple[str, str]]],
) -> LegalRules:
    """Replace the rules; existing segments are re-classified by a job after commit."""
    names, checked = check_rules(fields, patterns)
    tenant = await get_tenant(session, tenant_id, lock=True)
    old = LegalRules.from_settings(tenant.settings)
    rules = LegalRules(fields=names, patterns=checked, version=old.version + 1)
    tenant.settings = {**tenant.settings, "legal": rules.to_settings()}
    await session.flush()
    audit.record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="legal_rules.updated",
        entity_type="legal_rules",
        entity_id=tenant_id,
        before=old.to_settings(),
        after=rules.to_settings(),
    )
    await rules_changed(session, queue, settings, tenant_id)
    return rules
