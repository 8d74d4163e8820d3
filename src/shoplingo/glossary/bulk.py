"""Deleting many glossary terms at once: by ids, or every term the listing's filters match.
Each term is deleted and audited as a single DELETE would; the whole call is one new glossary
version and one re-check of the tenant's translations. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from shoplingo.core.errors import FieldError, NotFound, ValidationFailed
from shoplingo.core.i18n import N_
from shoplingo.glossary.service import (
    Change,
    _audit,
    after_rules_change,
    current_version,
    list_terms,
    snapshot,
    term_not_found,
)
from shoplingo.models import GlossaryTerm

MAX_ITEMS = 1000


@dataclass(frozen=True, slots=True)
class TermFilter:
    kind: str | None = None
    # the term contains this (any case)
    q: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteItem:
    id: uuid.UUID
    error: NotFound | None = None


@dataclass(frozen=True, slots=True)
class BulkDeleted:
    items: list[DeleteItem]
    more: bool
    version: int


def check_selection(ids: Sequence[uuid.UUID] | None, wanted: TermFilter | None) -> None:
    if (ids is None) == (wanted is None):
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="ids",
                    code="one_selection",
                    message=N_("Choose the terms with exactly one of ids or filter."),
                )
            ]
        )
    if wanted is not None and wanted.kind is None and not wanted.q:
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="filter",
                    code="required",
                    message=N_("Give at least one of kind or q."),
                )
            ]
        )


async def _delete(change: Change, terms: Sequence[GlossaryTerm]) -> int:
    for term in terms:
        _audit(change, "glossary.term_deleted", term.id, snapshot(term), None)
        await change.session.delete(term)
    await change.session.flush()
    if terms:
        return await after_rules_change(change)
    return await current_version(change.session, change.tenant_id)


async def delete_ids(change: Change, ids: Sequence[uuid.UUID]) -> BulkDeleted:
    """Each id once, in the order given: deleted, or not found (unknown or another shop's)."""
    wanted = list(dict.fromkeys(ids))
    found = {
        term.id: term
        for term in await change.session.scalars(
            select(GlossaryTerm)
            .where(GlossaryTerm.tenant_id == change.tenant_id, GlossaryTerm.id.in_(wanted))
            .with_for_update()
        )
    }
    version = await _delete(change, list(found.values()))
    items = [
        DeleteItem(term_id) if term_id in found else DeleteItem(term_id, term_not_found(term_id))
        for term_id in wanted
    ]
    return BulkDeleted(items, False, version)


async def delete_matching(change: Change, wanted: TermFilter, *, limit: int) -> BulkDeleted:
    """Up to ``limit`` of the terms the filter matches (oldest first), as the listing finds them."""
    terms, next_cursor = await list_terms(
        change.session,
        change.tenant_id,
        limit=max(1, min(limit, MAX_ITEMS)),
        kind=wanted.kind,
        contains=wanted.q,
    )
    version = await _delete(change, terms)
    return BulkDeleted([DeleteItem(term.id) for term in terms], next_cursor is not None, version)
