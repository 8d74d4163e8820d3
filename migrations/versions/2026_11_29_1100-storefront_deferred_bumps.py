"""storefront: long transactions bump the version counters once, at their end

A counter row is locked from its bump until the transaction commits. A catalog import writes
products in one transaction for its whole run, so every other write that bumps the same
tenant's counter (a product saved through the API meanwhile) would wait for the import to
finish. A transaction that sets ``shoplingo.defer_storefront_bumps`` (SET LOCAL) now only logs
its changes; it calls ``storefront_bump_deferred(tenant)`` just before it commits, which bumps
and notifies once per locale of that tenant it touched.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 11:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD = """
CREATE OR REPLACE FUNCTION storefront_record(changes jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
    t uuid;
BEGIN
    INSERT INTO storefront_changes (tenant_id, txid, locale, product_id, sku, kind)
    SELECT DISTINCT c.tenant_id, tx, c.locale, p.id, p.sku, c.kind
    FROM jsonb_to_recordset(changes)
         AS c(tenant_id uuid, locale text, owner_kind text, owner_id uuid, kind text)
    LEFT JOIN variants v
           ON c.owner_kind = 'variant' AND v.tenant_id = c.tenant_id AND v.id = c.owner_id
    JOIN products p
      ON p.tenant_id = c.tenant_id AND p.id = coalesce(v.product_id, c.owner_id);

    IF current_setting('shoplingo.defer_storefront_bumps', true) = 'on' THEN
        RETURN;  -- storefront_bump_deferred() bumps from the log before the commit
    END IF;

    -- a stable order, so two transactions lock counters in the same order
    INSERT INTO storefront_versions AS sv (tenant_id, locale, version, changed_at)
    SELECT DISTINCT c.tenant_id, c.locale, 1, now()
    FROM jsonb_to_recordset(changes) AS c(tenant_id uuid, locale text)
    ORDER BY 1, 2
    ON CONFLICT (tenant_id, locale)
    DO UPDATE SET version = sv.version + 1, changed_at = now();

    FOR t IN SELECT DISTINCT c.tenant_id FROM jsonb_to_recordset(changes) AS c(tenant_id uuid)
    LOOP
        PERFORM pg_notify('shoplingo_storefront', t::text);
    END LOOP;
END
$$
"""

BUMP_DEFERRED = """
CREATE FUNCTION storefront_bump_deferred(t uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tx bigint := pg_current_xact_id_if_assigned()::text::bigint;
BEGIN
    IF tx IS NULL THEN
        RETURN;  -- this transaction wrote nothing
    END IF;
    INSERT INTO storefront_versions AS sv (tenant_id, locale, version, changed_at)
    SELECT DISTINCT tenant_id, locale, 1, now()
    FROM storefront_changes WHERE tenant_id = t AND txid = tx
    ORDER BY 1, 2
    ON CONFLICT (tenant_id, locale)
    DO UPDATE SET version = sv.version + 1, changed_at = now();
    IF FOUND THEN
        PERFORM pg_notify('shoplingo_storefront', t::text);
    END IF;
END
$$
"""

PREVIOUS_RECORD = RECORD.replace(
    """    IF current_setting('shoplingo.defer_storefront_bumps', true) = 'on' THEN
        RETURN;  -- storefront_bump_deferred() bumps from the log before the commit
    END IF;

""",
    "",
)


def upgrade() -> None:
    op.execute(RECORD)
    op.execute(BUMP_DEFERRED)


def downgrade() -> None:
    op.execute("DROP FUNCTION storefront_bump_deferred(uuid)")
    op.execute(PREVIOUS_RECORD)
