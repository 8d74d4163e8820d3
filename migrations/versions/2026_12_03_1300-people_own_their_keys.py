"""people own their keys: how a key was issued and by whom, invitations, member passwords

A key that acts for a member must be that person's own: made through the API by the member
themselves, or issued to them through the CLI or an invitation they redeemed. A CHECK on
api_keys refuses any other live member key. Until now an admin could mint a key carrying
another member's identity; upgrading revokes every live member key that was made through the
API by someone else (read from the audit log's api_key.created events; a key with no such event
counts as made through the API by nobody, and is revoked too if it acts for a member). Keys
made by the CLI (no actor in the audit event) stay.

Members get a password hash (set through an invitation), invitations keep only a SHA-256 of
their token, and a change to a member's role or deactivation notifies the storefront's key
cache, as a key revocation does.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
UPDATE api_keys k
SET created_by = e.actor_member_id,
    issued_via = CASE WHEN e.actor_key_id IS NULL THEN 'cli' ELSE 'api' END
FROM audit_events e
WHERE e.tenant_id = k.tenant_id AND e.entity_type = 'api_key'
  AND e.action = 'api_key.created' AND e.entity_id = k.id::text
"""

REVOKE_BORROWED = """
UPDATE api_keys SET revoked_at = now()
WHERE member_id IS NOT NULL AND revoked_at IS NULL AND issued_via = 'api'
  AND created_by IS DISTINCT FROM member_id
"""

MEMBERS_UPDATED = """
CREATE FUNCTION storefront_members_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    key_prefix text;
BEGIN
    IF OLD.deactivated_at IS DISTINCT FROM NEW.deactivated_at OR OLD.role IS DISTINCT FROM NEW.role
    THEN
        FOR key_prefix IN
            SELECT prefix FROM api_keys WHERE tenant_id = NEW.tenant_id AND member_id = NEW.id
        LOOP
            PERFORM pg_notify('shoplingo_storefront', 'key:' || key_prefix);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.add_column("members", sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.add_column(
        "api_keys",
        sa.Column("issued_via", sa.String(length=20), server_default="api", nullable=False),
    )
    op.add_column("api_keys", sa.Column("created_by", sa.UUID(), nullable=True))
    op.execute(BACKFILL)
    op.execute(REVOKE_BORROWED)
    op.create_check_constraint(
        op.f("ck_api_keys_issued_via"), "api_keys", "issued_via IN ('api', 'cli', 'invitation')"
    )
    op.create_check_constraint(
        op.f("ck_api_keys_acts_for_its_maker"),
        "api_keys",
        "member_id IS NULL OR revoked_at IS NOT NULL OR issued_via IN ('cli', 'invitation') "
        "OR created_by = member_id",
    )
    op.create_table(
        "invitations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_scopes", sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_invitations_tenant_id_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_invitations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_invitations")),
    )
    op.create_index("uq_invitations_token_hash", "invitations", ["token_hash"], unique=True)
    op.create_index("ix_invitations_tenant_id_member_id", "invitations", ["tenant_id", "member_id"])
    op.execute(MEMBERS_UPDATED)
    op.execute(
        "CREATE TRIGGER storefront_members_updated AFTER UPDATE ON members "
        "FOR EACH ROW EXECUTE FUNCTION storefront_members_updated()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER storefront_members_updated ON members")
    op.execute("DROP FUNCTION storefront_members_updated()")
    op.drop_index("ix_invitations_tenant_id_member_id", table_name="invitations")
    op.drop_index("uq_invitations_token_hash", table_name="invitations")
    op.drop_table("invitations")
    op.drop_constraint(op.f("ck_api_keys_acts_for_its_maker"), "api_keys", type_="check")
    op.drop_constraint(op.f("ck_api_keys_issued_via"), "api_keys", type_="check")
    op.drop_column("api_keys", "created_by")
    op.drop_column("api_keys", "issued_via")
    op.drop_column("members", "password_hash")
