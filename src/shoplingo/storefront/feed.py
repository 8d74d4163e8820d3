"""The change feed: what changed in the served catalog, in commit order (``storefront_changes``,
written by triggers), read with a cursor that never skips a change, and pruned after
``storefront_changes_retention_days``. Webhooks read the same log. Never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shoplingo.core.pagination import invalid_cursor, unwrap_cursor, wrap_cursor
from shoplingo.settings import Settings
from shoplingo.storefront.schemas import Change, ChangePage

# The change feed's horizon: every transaction older than this one has ended. Only changes
# below it are handed out, so a later commit with a smaller position cannot exist and a
# client that stores next_cursor never misses a change.
FEED_HORIZON = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"

CHANGES = f"""
SELECT c.txid, c.id, c.sku, c.locale, c.kind, c.changed_at
FROM storefront_changes c
WHERE c.tenant_id = $1 AND (c.txid, c.id) > ($2::bigint, $3::bigint)
  AND c.txid < {FEED_HORIZON}
  AND ($4::text[] IS NULL OR c.locale = ANY($4::text[]) OR c.locale = '*')
ORDER BY c.txid, c.id
LIMIT $5
"""


def encode_change_cursor(txid: int, row_id: int) -> str:
    return wrap_cursor(f"{txid}.{row_id}".encode())


def decode_change_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return 0, 0
    raw = unwrap_cursor(cursor, "since")
    try:
        txid, _, row_id = raw.decode().partition(".")
        return int(txid), int(row_id)
    except (UnicodeDecodeError, ValueError):
        raise invalid_cursor("since") from None


async def read_changes(
    pool: asyncpg.Pool,
    tenant_id: uuid.UUID,
    *,
    since: str | None,
    locales: list[str] | None,
    limit: int,
) -> ChangePage:
    txid, row_id = decode_change_cursor(since)
    rows = await pool.fetch(CHANGES, tenant_id, txid, row_id, locales, limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        txid, row_id = rows[-1]["txid"], rows[-1]["id"]
    return ChangePage(
        items=[
            Change(sku=r["sku"], locale=r["locale"], kind=r["kind"], changed_at=r["changed_at"])
            for r in rows
        ],
        next_cursor=encode_change_cursor(txid, row_id),
        has_more=has_more,
    )


# one change per product with published text in the given locales (storefront_record, the
# triggers' own function, logs it, bumps the versions and notifies)
LOCALE_CHANGES = """
SELECT storefront_record(jsonb_agg(jsonb_build_object(
           'tenant_id', s.tenant_id, 'locale', s.target_locale, 'owner_kind', s.owner_kind,
           'owner_id', s.owner_id, 'kind', CAST(:kind AS text))))
FROM segments s
WHERE s.tenant_id = :tenant_id AND s.target_locale = ANY(CAST(:locales AS text[]))
  AND s.status = 'published'
HAVING count(*) > 0
"""


async def locales_changed(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    withdrawn: Sequence[str],
    added: Sequence[str],
) -> None:
    """The shop stopped selling ``withdrawn``: the feed says each product's text in them is
    withdrawn (reads fall back along the chain). ``added`` locales that already hold published
    translations (a locale that comes back) are published again."""
    for kind, locales in (("withdrawn", withdrawn), ("published", added)):
        if locales:
            await session.execute(
                text(LOCALE_CHANGES),
                {"kind": kind, "tenant_id": tenant_id, "locales": list(locales)},
            )


async def prune_changes(session: AsyncSession, settings: Settings) -> int:
    """Deletes the changes older than the retention; returns how many."""
    if settings.storefront_changes_retention_days <= 0:
        return 0
    result = await session.execute(
        text("DELETE FROM storefront_changes WHERE changed_at < now() - make_interval(days => :d)"),
        {"d": settings.storefront_changes_retention_days},
    )
    return int(getattr(result, "rowcount", 0) or 0)
