"""storefront: version counters, change log, publishable keys, webhooks

Every change of what a storefront serves is recorded by triggers, so the code that publishes
(translation workers, review approvals, anything later) needs to know nothing about it:

- segments (statement level, transition tables): a text becomes published, stops being
  published, or changes while published -> the (tenant, locale) counter is bumped and one
  change row per product and locale is logged;
- products: source text, price, variants (all in content_hash) or deletion -> locale ``*``;
- tenants: locales or settings changed -> locale ``*`` (fallback chains, CORS origins);
- api_keys: revoked or scopes changed -> a notification that evicts cached keys.

Each bump sends NOTIFY shoplingo_storefront with the tenant id; API processes drop their
cached versions for that tenant when it arrives.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Logs changes ([{tenant_id, locale, owner_kind, owner_id, kind}]) one row per product and
# locale, bumps the counters and notifies. Shared by every trigger below.
RECORD = """
CREATE FUNCTION storefront_record(changes jsonb) RETURNS void LANGUAGE plpgsql AS $$
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

# published <-> not published, or the served text (or its approval) changed while published
SEGMENTS_UPDATED = """
CREATE FUNCTION storefront_segments_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object(
               'tenant_id', n.tenant_id, 'locale', n.target_locale,
               'owner_kind', n.owner_kind, 'owner_id', n.owner_id,
               'kind', CASE WHEN n.status = 'published' THEN 'published' ELSE 'withdrawn' END))
    INTO changes
    FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
    WHERE (o.status = 'published') <> (n.status = 'published')
       OR (n.status = 'published'
           AND (o.target_text IS DISTINCT FROM n.target_text
                OR o.approved_at IS DISTINCT FROM n.approved_at
                OR o.legal IS DISTINCT FROM n.legal
                OR o.target_locale IS DISTINCT FROM n.target_locale));
    IF changes IS NOT NULL THEN
        PERFORM storefront_record(changes);
    END IF;
    RETURN NULL;
END
$$
"""

SEGMENTS_INSERTED = """
CREATE FUNCTION storefront_segments_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object(
               'tenant_id', n.tenant_id, 'locale', n.target_locale,
               'owner_kind', n.owner_kind, 'owner_id', n.owner_id, 'kind', 'published'))
    INTO changes
    FROM new_rows n WHERE n.status = 'published';
    IF changes IS NOT NULL THEN
        PERFORM storefront_record(changes);
    END IF;
    RETURN NULL;
END
$$
"""

SEGMENTS_DELETED = """
CREATE FUNCTION storefront_segments_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object(
               'tenant_id', o.tenant_id, 'locale', o.target_locale,
               'owner_kind', o.owner_kind, 'owner_id', o.owner_id, 'kind', 'withdrawn'))
    INTO changes
    FROM old_rows o WHERE o.status = 'published';
    IF changes IS NOT NULL THEN
        PERFORM storefront_record(changes);
    END IF;
    RETURN NULL;
END
$$
"""

# content_hash covers everything the seller sent (texts, price, currency, variants)
PRODUCTS_UPDATED = """
CREATE FUNCTION storefront_products_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object(
               'tenant_id', n.tenant_id, 'locale', '*', 'owner_kind', 'product',
               'owner_id', n.id,
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
CREATE FUNCTION storefront_products_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object(
               'tenant_id', n.tenant_id, 'locale', '*', 'owner_kind', 'product',
               'owner_id', n.id, 'kind', 'product'))
    INTO changes
    FROM new_rows n;
    IF changes IS NOT NULL THEN
        PERFORM storefront_record(changes);
    END IF;
    RETURN NULL;
END
$$
"""

# fallback chains, locales and CORS origins live on the tenant: every cached answer is void
TENANTS_UPDATED = """
CREATE FUNCTION storefront_tenants_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.settings IS DISTINCT FROM NEW.settings
       OR OLD.target_locales IS DISTINCT FROM NEW.target_locales
       OR OLD.source_locale IS DISTINCT FROM NEW.source_locale THEN
        INSERT INTO storefront_versions AS sv (tenant_id, locale, version, changed_at)
        VALUES (NEW.id, '*', 1, now())
        ON CONFLICT (tenant_id, locale) DO UPDATE SET version = sv.version + 1,
            changed_at = now();
        PERFORM pg_notify('shoplingo_storefront', NEW.id::text);
    END IF;
    RETURN NULL;
END
$$
"""

KEYS_UPDATED = """
CREATE FUNCTION storefront_api_keys_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.scopes IS DISTINCT FROM NEW.scopes
    THEN
        PERFORM pg_notify('shoplingo_storefront', 'key:' || NEW.prefix);
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = [
    ("storefront_segments_updated", "segments", "AFTER UPDATE", "REFERENCING OLD TABLE AS "
     "old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"),
    ("storefront_segments_inserted", "segments", "AFTER INSERT",
     "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"),
    ("storefront_segments_deleted", "segments", "AFTER DELETE",
     "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT"),
    ("storefront_products_updated", "products", "AFTER UPDATE", "REFERENCING OLD TABLE AS "
     "old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"),
    ("storefront_products_inserted", "products", "AFTER INSERT",
     "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"),
    ("storefront_tenants_updated", "tenants", "AFTER UPDATE", "FOR EACH ROW"),
    ("storefront_api_keys_updated", "api_keys", "AFTER UPDATE", "FOR EACH ROW"),
]  # fmt: skip


def upgrade() -> None:
    op.add_column(
        "api_keys",
        sa.Column("publishable", sa.Boolean(), server_default="false", nullable=False),
    )
    op.create_table(
        "storefront_versions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_storefront_versions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "locale", name=op.f("pk_storefront_versions")),
    )
    op.create_table(
        "storefront_changes",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("product_id", sa.UUID(), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('published', 'withdrawn', 'product', 'deleted')",
            name=op.f("ck_storefront_changes_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_storefront_changes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_storefront_changes")),
    )
    op.create_index(
        "ix_storefront_changes_tenant_id_txid_id",
        "storefront_changes",
        ["tenant_id", "txid", "id"],
    )
    op.create_index(
        "ix_storefront_changes_tenant_id_product_id_changed_at",
        "storefront_changes",
        ["tenant_id", "product_id", "changed_at"],
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("events", postgresql.ARRAY(sa.String(length=60)), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("cursor_txid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cursor_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_webhook_endpoints_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("endpoint_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')",
            name=op.f("ck_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "endpoint_id"],
            ["webhook_endpoints.tenant_id", "webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_tenant_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_webhook_deliveries_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "ix_webhook_deliveries_tenant_id_endpoint_id_created_at",
        "webhook_deliveries",
        ["tenant_id", "endpoint_id", "created_at"],
    )
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
        postgresql_where="status = 'pending'",
    )
    functions = (RECORD, SEGMENTS_UPDATED, SEGMENTS_INSERTED, SEGMENTS_DELETED,
                 PRODUCTS_UPDATED, PRODUCTS_INSERTED, TENANTS_UPDATED, KEYS_UPDATED)  # fmt: skip
    for function in functions:
        op.execute(function)
    for name, table, when, how in TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} {when} ON {table} {how} EXECUTE FUNCTION {name}()")


def downgrade() -> None:
    for name, table, _, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute(f"DROP FUNCTION {name}()")
    op.execute("DROP FUNCTION storefront_record(jsonb)")
    op.drop_index("ix_webhook_deliveries_pending", table_name="webhook_deliveries")
    op.drop_index(
        "ix_webhook_deliveries_tenant_id_endpoint_id_created_at", table_name="webhook_deliveries"
    )
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_index(
        "ix_storefront_changes_tenant_id_product_id_changed_at", table_name="storefront_changes"
    )
    op.drop_index("ix_storefront_changes_tenant_id_txid_id", table_name="storefront_changes")
    op.drop_table("storefront_changes")
    op.drop_table("storefront_versions")
    op.drop_column("api_keys", "publishable")
