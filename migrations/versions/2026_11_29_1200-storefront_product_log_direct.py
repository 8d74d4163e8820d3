"""storefront: the product triggers log their changes straight from the transition tables

Until now each product statement packed its rows into one JSON array and storefront_record()
unpacked it again (with a DISTINCT over rows that are distinct anyway). For a catalog import
that was 1.7 s of the database's time per 100,000 new products, more than the COPY of the
products themselves needed. The triggers now insert into the change log with one INSERT ...
SELECT each and bump the counters through storefront_bump(), which also keeps the deferred
mode of revision 0009. Segment changes still go through storefront_record().

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:00:00+00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = """
CREATE FUNCTION storefront_bump(tenants uuid[], for_locale text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t uuid;
BEGIN
    IF current_setting('shoplingo.defer_storefront_bumps', true) = 'on' THEN
        RETURN;  -- storefront_bump_deferred() bumps from the log before the commit
    END IF;
    -- a stable order, so two transactions lock counters in the same order
    INSERT INTO storefront_versions AS sv (tenant_id, locale, version, changed_at)
    SELECT DISTINCT u, for_locale, 1, now() FROM unnest(tenants) AS u
    ORDER BY 1, 2
    ON CONFLICT (tenant_id, locale)
    DO UPDATE SET version = sv.version + 1, changed_at = now();
    FOR t IN SELECT DISTINCT u FROM unnest(tenants) AS u LOOP
        PERFORM pg_notify('shoplingo_storefront', t::text);
    END LOOP;
END
$$
"""

PRODUCTS_INSERTED = """
CREATE OR REPLACE FUNCTION storefront_products_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
BEGIN
    INSERT INTO storefront_changes (tenant_id, txid, locale, product_id, sku, kind)
    SELECT n.tenant_id, tx, '*', n.id, n.sku, 'product' FROM new_rows n;
    IF FOUND THEN
        PERFORM storefront_bump(ARRAY(SELECT DISTINCT n.tenant_id FROM new_rows n), '*');
    END IF;
    RETURN NULL;
END
$$
"""

PRODUCTS_UPDATED = """
CREATE OR REPLACE FUNCTION storefront_products_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
    tenants uuid[];
BEGIN
    WITH logged AS (
        INSERT INTO storefront_changes (tenant_id, txid, locale, product_id, sku, kind)
        SELECT n.tenant_id, tx, '*', n.id, n.sku,
               CASE WHEN n.deleted_at IS NULL THEN 'product' ELSE 'deleted' END
        FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
        WHERE o.content_hash IS DISTINCT FROM n.content_hash
           OR (o.deleted_at IS NULL) <> (n.deleted_at IS NULL)
           OR o.sku IS DISTINCT FROM n.sku
        RETURNING tenant_id
    )
    SELECT array_agg(DISTINCT tenant_id) INTO tenants FROM logged;
    IF tenants IS NOT NULL THEN
        PERFORM storefront_bump(tenants, '*');
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(BUMP)
    op.execute(PRODUCTS_INSERTED)
    op.execute(PRODUCTS_UPDATED)


def downgrade() -> None:
    # the trigger functions as revision 0009 wrote them
    path = Path(__file__).with_name("2026_11_29_1100-storefront_deferred_bumps.py")
    spec = importlib.util.spec_from_file_location("storefront_0009", path)
    assert spec is not None
    assert spec.loader is not None
    previous = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(previous)
    op.execute(previous.PRODUCTS_INSERTED)
    op.execute(previous.PRODUCTS_UPDATED)
    op.execute("DROP FUNCTION storefront_bump(uuid[], text)")
