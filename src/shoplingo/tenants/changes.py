"""The one place that announces "a tenant's rules changed" (its glossary, QA settings or legal
rules): existing translations must be checked again under the new rules; and "the locales a
shop sells changed" (``tenants.shop``): the storefront withdraws or restores them.

The glossary, QA settings and legal-rule services report through :func:`rules_changed` inside
the transaction of the change; the re-check job that :mod:`shoplingo.hooks` connects to
:data:`RULES_CHANGED` is queued after that transaction commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.signals import Signal
from shoplingo.settings import Settings

# the job that follows a change of rules (its rows in ``jobs`` carry this kind)
RECHECK_KIND = "segments_recheck"

RULES_CHANGED: Signal[[AsyncSession, ArqRedis, Settings, uuid.UUID]] = Signal("rules_changed")


async def rules_changed(
    session: AsyncSession, queue: ArqRedis, settings: Settings, tenant_id: uuid.UUID
) -> None:
    await RULES_CHANGED.send(session, queue, settings, tenant_id)


# (session, tenant id, locales no longer sold, locales sold again or for the first time)
LOCALES_CHANGED: Signal[[AsyncSession, uuid.UUID, Sequence[str], Sequence[str]]] = Signal(
    "locales_changed"
)


async def locales_changed(
    session: AsyncSession, tenant_id: uuid.UUID, withdrawn: Sequence[str], added: Sequence[str]
) -> None:
    await LOCALES_CHANGED.send(session, tenant_id, withdrawn, added)
