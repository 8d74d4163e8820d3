"""Whose words a glossary target is: a translate term's target goes into every translation of
its term, so whoever wrote the term is an author of the legal text it brings into one.

A writer is an author of a text when the text reads as legal with their targets in it and not
without them: writing "Garantie" as the target of "warranty" makes nobody the author of the
warranty the source already states, but a target that carries a claim ("Becher mit 10 Jahren
Garantie"), or two targets that make one together ("nicht für" + "Kinder"), do.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.glossary.enforcement import locale_candidates
from shoplingo.models import GlossaryTerm


async def claim_written_by(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    person: uuid.UUID,
    locale: str,
    text: str,
    reads_as_legal: Callable[[str], bool],
) -> str | None:
    """A glossary target for ``locale`` that ``person`` wrote and without which ``text`` (legal
    by ``reads_as_legal``) would not read as legal; None when the claim is not theirs."""
    candidates = locale_candidates(locale)
    terms = await session.scalars(
        select(GlossaryTerm).where(
            GlossaryTerm.tenant_id == tenant_id,
            GlossaryTerm.writers.contains([person]),
            GlossaryTerm.kind == "translate",
            GlossaryTerm.targets.has_any(array(candidates)),
        )
    )
    folded = text.casefold()
    forms: list[str] = []
    for term in terms:
        target = term.targets[next(c for c in candidates if c in term.targets)]
        forms += [
            str(form)
            for form in (target.get("text", ""), *target.get("variants", ()))
            if form and str(form).casefold() in folded
        ]
    if not forms or not reads_as_legal(text):
        return None
    without = text
    for form in sorted(forms, key=len, reverse=True):
        without = re.sub(re.escape(form), " ", without, flags=re.IGNORECASE)
    return None if reads_as_legal(without) else forms[0]
