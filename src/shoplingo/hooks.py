"""How the packages react to each other's events: every cross-package reaction, wired here.

A lower package announces an event through a signal it owns; the upper package's reaction is
connected below. The API (``create_app``) and the worker (its startup) call :func:`install`;
nothing is connected by importing a module.
"""

from __future__ import annotations

from shoplingo.catalog.changes import SOURCE_CHANGED
from shoplingo.storefront import feed
from shoplingo.tenants.changes import LOCALES_CHANGED, RULES_CHANGED
from shoplingo.translation import recheck, runs


def install() -> None:
    """Connect every reaction (installing twice is a no-op)."""
    # a product's source text changed: its segments go stale, their approvals void
    SOURCE_CHANGED.connect(runs.mark_stale)
    # a tenant's glossary, QA settings or legal rules changed: re-check its segments
    RULES_CHANGED.connect(recheck.schedule_recheck)
    # a shop stopped (or started again) selling a locale: the change feed says so
    LOCALES_CHANGED.connect(feed.locales_changed)
