"""Whose words a glossary target is: a translate term's target goes into every translation of
its term, so the person who wrote it is an author of the texts it lands in (four-eyes).

Only a target that is itself legal text matters: writing "Garantie" as the target of
"warranty" makes nobody the author of the warranty it appears in, but a target that carries
a claim ("Becher mit 10 Jahren Garantie") does.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.glossary.enforcement import locale_candidates
from shoplingo.legal.classifier import Classifier
from shoplingo.models import GlossaryTerm


async def legal_target_written_by(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    person: uuid.UUID,
    locale: str,
    text: str,
    classifier: Classifier,
) -> str | None:
    """A legal glossary target for ``locale`` that ``person`` wrote and ``text`` contains."""
    candidates = locale_candidates(locale)
    terms = await session.scalars(
        select(GlossaryTerm).where(
            GlossaryTerm.tenant_id == tenant_id,
            GlossaryTerm.written_by == person,
            GlossaryTerm.kind == "translate",
            GlossaryTerm.targets.has_any(array(candidates)),
        )
    )
    folded = text.casefold()
    for term in terms:
        locale_key = next(c for c in candidates if c in term.targets)
        target = term.targets[locale_key]
        for form in (target.get("text", ""), *target.get("variants", ())):
            if form and form.casefold() in folded and classifier.content_reason(form, locale):
                return str(form)
    return None
