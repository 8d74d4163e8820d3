"""Compiled glossaries, kept per (tenant, glossary version) in each process.

Every glossary change bumps the tenant's version, so a cached entry never needs invalidating:
a new version simply misses and compiles. The version is read before the terms, so an entry
is never older than its version says.
"""

from __future__ import annotations

import uuid
from typing import Any

from shoplingo.core.db import jsonb_value
from shoplingo.core.versioned import VersionedCache
from shoplingo.glossary.enforcement import Glossary, Term, TermTarget

_compiled: VersionedCache[Glossary] = VersionedCache(64)

TERMS = "SELECT id, term, kind, case_sensitive, targets FROM glossary_terms WHERE tenant_id = $1"


def term_from_row(row: Any) -> Term:
    targets = jsonb_value(row["targets"])
    return Term(
        id=str(row["id"]),
        text=row["term"],
        kind=row["kind"],
        case_sensitive=row["case_sensitive"],
        targets={
            locale: TermTarget(value.get("text"), tuple(value.get("variants") or ()))
            for locale, value in (targets or {}).items()
        },
    )


async def compiled_glossary(raw: Any, tenant_id: uuid.UUID, version: int) -> Glossary:
    """The tenant's glossary at ``version`` (``raw`` is an asyncpg connection)."""
    glossary = _compiled.get(tenant_id, version)
    if glossary is None:
        rows = await raw.fetch(TERMS, tenant_id)
        glossary = _compiled.put(
            tenant_id, version, Glossary((term_from_row(row) for row in rows), version)
        )
    return glossary
