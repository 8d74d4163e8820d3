"""jobs and import row errors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:38:21.418514+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="queued", nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column(
            "params", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("processed", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "counts", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_jobs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_jobs")),
        sa.UniqueConstraint(
            "tenant_id",
            "kind",
            "idempotency_key",
            name=op.f("uq_jobs_tenant_id_kind_idempotency_key"),
        ),
    )
    op.create_index(
        "ix_jobs_tenant_id_kind_created_at",
        "jobs",
        ["tenant_id", "kind", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_jobs_unfinished",
        "jobs",
        ["status", "updated_at"],
        unique=False,
        postgresql_where="status IN ('queued', 'running')",
    )
    op.create_table(
        "import_row_errors",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("column", sa.Text(), nullable=True),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "params", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "job_id"],
            ["jobs.tenant_id", "jobs.id"],
            name=op.f("fk_import_row_errors_tenant_id_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "job_id", "seq", name=op.f("pk_import_row_errors")),
    )
    op.add_column("products", sa.Column("import_fingerprint", sa.String(length=64), nullable=True))
    # Time-ordered ids for rows created in SQL (bulk imports), like shoplingo.ids.uuid7:
    # the first 48 bits are the Unix time in milliseconds, version nibble 7.
    op.execute(
        """
        CREATE FUNCTION uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
            SELECT encode(
                set_bit(set_bit(
                    overlay(uuid_send(gen_random_uuid()) placing substring(int8send(
                        (extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                        FROM 1 FOR 6),
                    52, 1), 53, 1),
                'hex')::uuid
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION uuid7()")
    op.drop_column("products", "import_fingerprint")
    op.drop_table("import_row_errors")
    op.drop_index(
        "ix_jobs_unfinished", table_name="jobs", postgresql_where="status IN ('queued', 'running')"
    )
    op.drop_index("ix_jobs_tenant_id_kind_created_at", table_name="jobs")
    op.drop_table("jobs")
