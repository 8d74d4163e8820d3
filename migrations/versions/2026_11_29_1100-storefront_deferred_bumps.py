"""storefront: long transactions bump the version counters once, at their end; product
changes are logged without looking the products up again

A counter row is locked from its bump until the transaction commits. A catalog import writes
products in one transaction for its whole run, so every other write that bumps the same
tenant's counter (a product saved through the API meanwhile) would wait for the import to
finish. A transaction that sets ``shoplingo.defer_storefront_bumps`` (SET LOCAL) now only logs
its changes; it calls ``storefront_bump_deferred(tenant)`` just before it commits, which bumps
and notifies once per locale of that tenant it touched.

The product triggers now hand the product id and SKU over with each change (they have them),
so logging an import's products no longer joins the products table row by row: with the
planner's statistics of a young table that join went quadratic (seconds per chunk).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 11:00:00+00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

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
    -- changes that name their product and SKU (the product triggers) are logged as they are
    INSERT INTO storefront_changes (tenant_id, txid, locale, product_id, sku, kind)
    SELECT DISTINCT c.tenant_id, tx, c.locale, c.owner_id, c.sku, c.kind
    FROM jsonb_to_recordset(changes)
         AS c(tenant_id uuid, locale text, owner_id uuid, sku text, kind text)
    WHERE c.sku IS NOT NULL;
    -- segment changes name a product or a variant: find the product and its SKU
    INSERT INTO storefront_changes (tenant_id, txid, locale, product_id, sku, kind)
    SELECT DISTINCT c.tenant_id, tx, c.locale, p.id, p.sku, c.kind
    FROM jsonb_to_recordset(changes)
         AS c(tenant_id uuid, locale text, owner_kind text, owner_id uuid, sku text, kind text)
    LEFT JOIN variants v
           ON c.owner_kind = 'variant' AND v.tenant_id = c.tenant_id AND v.id = c.owner_id
    JOIN products p
      ON p.tenant_id = c.tenant_id AND p.id = coalesce(v.product_id, c.owner_id)
    WHERE c.sku IS NULL;

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

PRODUCTS_UPDATED = """
CREATE OR REPLACE FUNCTION storefront_products_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object(
               'tenant_id', n.tenant_id, 'locale', '*', 'owner_id', n.id, 'sku', n.sku,
               'kind', CASE WHEN n.deleted_at IS NULL THEN 'product' ELSE 'deleted' END))
    INTO changes
    FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
    WHERE o.content_hash IS DISTINCT FROM n.content_hash
       OR (o.deleted_at IS NULL) <> (n.deleted_at IS NULL)
       OR o.sku IS DISTINCT FROM n.sku;
    IF changes IS NOT NULL THEN
        PERFORM storefront_record(changes);
    END IF;
    RETURN NULL;
END
$$
"""

PRODUCTS_INSERTED = """
CREATE OR REPLACE FUNCTION storefront_products_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object(
               'tenant_id', n.tenant_id, 'locale', '*', 'owner_id', n.id, 'sku', n.sku,
               'kind', 'product'))
    INTO changes
    FROM new_rows n;
    IF changes IS NOT NULL THEN
        PERFORM storefront_record(changes);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(RECORD)
    op.execute(BUMP_DEFERRED)
    op.execute(PRODUCTS_UPDATED)
    op.execute(PRODUCTS_INSERTED)


def downgrade() -> None:
    # the functions as revision 0006 wrote them
    path = Path(__file__).with_name("2026_11_29_0930-storefront.py")
    spec = importlib.util.spec_from_file_location("storefront_0006", path)
    assert spec is not None
    assert spec.loader is not None
    previous = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(previous)
    op.execute("DROP FUNCTION storefront_bump_deferred(uuid)")
    for function in (previous.RECORD, previous.PRODUCTS_UPDATED, previous.PRODUCTS_INSERTED):
        op.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
