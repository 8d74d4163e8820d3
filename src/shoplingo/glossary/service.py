"""Glossary terms: validation, changes (each one bumps the tenant's glossary version and is
audited) and the background re-check of existing translations that a change queues."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core import audit
from shoplingo.core.auth import Principal
from shoplingo.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.core.locales import InvalidLocaleError, canonical_locale, locale_field_error
from shoplingo.core.pagination import keyset_page
from shoplingo.glossary.schemas import TargetIn, TermIn
from shoplingo.models import GlossaryTerm, Job, Tenant
from shoplingo.settings import Settings
from shoplingo.tenants.changes import RECHECK_KIND, rules_changed

MAX_TERM_LENGTH = MAX_TARGET_LENGTH = 200
MAX_VARIANTS = 50
MAX_NOTE_LENGTH = 2000


class TermExists(Conflict):
    code = "term_exists"
    message = N_("The glossary already has a {kind} term {term}.")


def term_not_found(term_id: uuid.UUID) -> NotFound:
    return NotFound(
        code="term_not_found",
        message=N_("No glossary term with the id {id}."),
        params={"id": str(term_id)},
    )


@dataclass(slots=True)
class TermValues:
    """A validated term, ready to store."""

    term: str
    kind: str
    case_sensitive: bool
    targets: dict[str, dict[str, Any]]
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "kind": self.kind,
            "case_sensitive": self.case_sensitive,
            "targets": self.targets,
            "note": self.note,
        }


def validate_term(data: TermIn) -> tuple[TermValues | None, list[FieldError]]:
    """Check one term; field names in the errors are those of :class:`TermIn`."""
    errors: list[FieldError] = []
    term = data.term.strip()
    if not term:
        errors.append(FieldError("term", "required", N_("The term must not be blank.")))
    elif len(term) > MAX_TERM_LENGTH:
        errors.append(
            FieldError(
                "term",
                "too_long",
                N_("A term is at most {maximum} characters."),
                {"maximum": MAX_TERM_LENGTH},
            )
        )
    if data.note and len(data.note) > MAX_NOTE_LENGTH:
        errors.append(
            FieldError(
                "note",
                "too_long",
                N_("A note is at most {maximum} characters."),
                {"maximum": MAX_NOTE_LENGTH},
            )
        )
    if data.kind == "keep" and data.targets:
        errors.append(
            FieldError(
                "targets",
                "not_allowed",
                N_("A keep term is never translated: leave its targets empty."),
            )
        )
    targets: dict[str, dict[str, Any]] = {}
    for tag, target in data.targets.items():
        where = f"targets.{tag}"
        try:
            locale = canonical_locale(tag)
        except InvalidLocaleError:
            errors.append(locale_field_error(where, tag))
            continue
        values = _target_values(data.kind, target, where, errors)
        if values is not None:
            targets[locale] = values
    if data.kind == "translate" and not data.targets:
        errors.append(
            FieldError(
                "targets",
                "required",
                N_("A translate term needs a target for at least one locale."),
            )
        )
    if errors:
        return None, errors
    note = data.note.strip() if data.note and data.note.strip() else None
    return TermValues(term, data.kind, data.case_sensitive, targets, note), []


def _target_values(
    kind: str, target: TargetIn, where: str, errors: list[FieldError]
) -> dict[str, Any] | None:
    text = target.text.strip() if target.text else None
    variants = list(dict.fromkeys(v.strip() for v in target.variants if v.strip()))
    if kind == "translate" and not text:
        errors.append(
            FieldError(
                f"{where}.text",
                "required",
                N_("A translate term needs the required translation for each locale."),
            )
        )
        return None
    if kind == "forbidden" and not (text or variants):
        errors.append(
            FieldError(f"{where}.text", "required", N_("Give at least one forbidden word."))
        )
        return None
    if len(variants) > MAX_VARIANTS:
        errors.append(
            FieldError(
                f"{where}.variants",
                "too_many",
                N_("At most {maximum} variants per locale."),
                {"maximum": MAX_VARIANTS},
            )
        )
        return None
    if any(len(form) > MAX_TARGET_LENGTH for form in [text or "", *variants]):
        errors.append(
            FieldError(
                where,
                "too_long",
                N_("Targets and variants are at most {maximum} characters."),
                {"maximum": MAX_TARGET_LENGTH},
            )
        )
        return None
    values: dict[str, Any] = {"text": text} if text else {}
    if variants:
        values["variants"] = variants
    return values


def _valid(data: TermIn) -> TermValues:
    values, errors = validate_term(data)
    if values is None:
        raise ValidationFailed(errors=errors)
    return values


async def _find(session: AsyncSession, tenant_id: uuid.UUID, kind: str, term: str) -> Any:
    return await session.scalar(
        select(GlossaryTerm).where(
            GlossaryTerm.tenant_id == tenant_id,
            GlossaryTerm.kind == kind,
            GlossaryTerm.term == term,
        )
    )


async def get_term(session: AsyncSession, tenant_id: uuid.UUID, term_id: uuid.UUID) -> GlossaryTerm:
    term = await session.get(GlossaryTerm, (tenant_id, term_id))
    if term is None:
        raise term_not_found(term_id)
    return term


async def list_terms(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None = None,
    kind: str | None = None,
    contains: str | None = None,
) -> tuple[list[GlossaryTerm], str | None]:
    """Oldest first; ``contains`` matches the term case-insensitively."""
    query = select(GlossaryTerm).where(GlossaryTerm.tenant_id == tenant_id)
    if kind:
        query = query.where(GlossaryTerm.kind == kind)
    if contains:
        query = query.where(GlossaryTerm.term.icontains(contains, autoescape=True))
    return await keyset_page(
        session,
        query,
        at=GlossaryTerm.created_at,
        row_id=GlossaryTerm.id,
        limit=limit,
        cursor=cursor,
    )


@dataclass(frozen=True, slots=True)
class Change:
    """What a glossary change needs to reach: the session, the queue for the re-check, and
    who made it (for the audit log)."""

    session: AsyncSession
    queue: ArqRedis
    settings: Settings
    principal: Principal

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.principal.tenant_id


async def create_term(change: Change, data: TermIn) -> GlossaryTerm:
    values = _valid(data)
    if await _find(change.session, change.tenant_id, values.kind, values.term) is not None:
        raise TermExists(params={"kind": values.kind, "term": values.term})
    term = GlossaryTerm(
        tenant_id=change.tenant_id, writers=_writers([], change), **values.as_dict()
    )
    change.session.add(term)
    await change.session.flush()
    _audit(change, "glossary.term_created", term.id, None, values.as_dict())
    await after_rules_change(change)
    return term


async def replace_term(change: Change, term_id: uuid.UUID, data: TermIn) -> GlossaryTerm:
    term = await get_term(change.session, change.tenant_id, term_id)
    values = _valid(data)
    if (values.kind, values.term) != (term.kind, term.term):
        clash = await _find(change.session, change.tenant_id, values.kind, values.term)
        if clash is not None:
            raise TermExists(params={"kind": values.kind, "term": values.term})
    before = snapshot(term)
    if before == values.as_dict():
        return term
    for name, value in values.as_dict().items():
        setattr(term, name, value)
    term.writers = _writers(term.writers, change)
    await change.session.flush()
    await change.session.refresh(term)
    _audit(change, "glossary.term_updated", term.id, before, values.as_dict())
    await after_rules_change(change)
    return term


async def delete_term(change: Change, term_id: uuid.UUID) -> None:
    term = await get_term(change.session, change.tenant_id, term_id)
    _audit(change, "glossary.term_deleted", term.id, snapshot(term), None)
    await change.session.delete(term)
    await change.session.flush()
    await after_rules_change(change)


@dataclass(slots=True)
class ImportRow:
    number: int  # CSV line or TBX entry, for the error report
    term: TermIn | None
    errors: list[FieldError] = field(default_factory=list)  # errors found while parsing


@dataclass(slots=True)
class ImportOutcome:
    version: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, FieldError]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len({row for row, _ in self.errors})


async def import_terms(change: Change, rows: Iterable[ImportRow]) -> ImportOutcome:
    """Create or update each valid row (matched on kind and term); report the others. The
    whole import is one glossary version and one re-check."""
    outcome = ImportOutcome()
    existing = {
        (t.kind, t.term): t
        for t in (
            await change.session.scalars(
                select(GlossaryTerm).where(GlossaryTerm.tenant_id == change.tenant_id)
            )
        ).all()
    }
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        values, errors = validate_term(row.term) if row.term is not None else (None, [])
        errors = row.errors + errors
        if values is not None and (values.kind, values.term) in seen:
            errors.append(
                FieldError(
                    "term",
                    "duplicate_term",
                    N_("The same term is already on row {row}."),
                    {"row": seen[(values.kind, values.term)]},
                )
            )
        if errors or values is None:
            outcome.errors += [(row.number, error) for error in errors]
            continue
        key = (values.kind, values.term)
        seen[key] = row.number
        term = existing.get(key)
        if term is None:
            term = GlossaryTerm(
                tenant_id=change.tenant_id, writers=_writers([], change), **values.as_dict()
            )
            change.session.add(term)
            outcome.created += 1
        elif snapshot(term) == values.as_dict():
            outcome.unchanged += 1
        else:
            for name, value in values.as_dict().items():
                setattr(term, name, value)
            term.writers = _writers(term.writers, change)
            outcome.updated += 1
    await change.session.flush()
    counts = {"created": outcome.created, "updated": outcome.updated, "failed": outcome.failed}
    if outcome.created or outcome.updated:
        _audit(change, "glossary.imported", change.tenant_id, None, counts)
        outcome.version = await after_rules_change(change)
    else:
        outcome.version = await current_version(change.session, change.tenant_id)
    return outcome


def _writers(writers: Sequence[uuid.UUID], change: Change) -> list[uuid.UUID]:
    """A term's writers and the person making this change (four-eyes counts them all)."""
    person = change.principal.person
    return list(writers) if person is None or person in writers else [*writers, person]


def snapshot(term: GlossaryTerm) -> dict[str, Any]:
    return {
        "term": term.term,
        "kind": term.kind,
        "case_sensitive": term.case_sensitive,
        "targets": term.targets,
        "note": term.note,
    }


def _audit(
    change: Change,
    action: str,
    entity_id: uuid.UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        change.session,
        tenant_id=change.tenant_id,
        actor=change.principal,
        action=action,
        entity_type="glossary_term" if action != "glossary.imported" else "glossary",
        entity_id=entity_id,
        before=before,
        after=after,
    )


async def current_version(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    version = await session.scalar(select(Tenant.glossary_version).where(Tenant.id == tenant_id))
    return int(version or 0)


async def after_rules_change(change: Change) -> int:
    """After a change of the glossary (or the QA settings): bump the glossary version (cached
    matchers key on it) and have existing translations re-checked."""
    version = int(
        await change.session.scalar(
            update(Tenant)
            .where(Tenant.id == change.tenant_id)
            .values(glossary_version=Tenant.glossary_version + 1)
            .returning(Tenant.glossary_version)
        )
        or 0
    )
    await rules_changed(change.session, change.queue, change.settings, change.tenant_id)
    return version


async def summary(
    session: AsyncSession, tenant_id: uuid.UUID
) -> tuple[int, dict[str, int], Job | None]:
    """The glossary version, the number of terms per kind and the latest re-check."""
    counts = dict.fromkeys(("translate", "keep", "forbidden"), 0)
    rows = await session.execute(
        select(GlossaryTerm.kind, func.count())
        .where(GlossaryTerm.tenant_id == tenant_id)
        .group_by(GlossaryTerm.kind)
    )
    counts.update({kind: int(n) for kind, n in rows.all()})
    recheck = await session.scalar(
        select(Job)
        .where(Job.tenant_id == tenant_id, Job.kind == RECHECK_KIND)
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(1)
    )
    return await current_version(session, tenant_id), counts, recheck


async def all_terms(session: AsyncSession, tenant_id: uuid.UUID) -> Sequence[GlossaryTerm]:
    return (
        await session.scalars(
            select(GlossaryTerm)
            .where(GlossaryTerm.tenant_id == tenant_id)
            .order_by(GlossaryTerm.kind, GlossaryTerm.term)
        )
    ).all()
