"""segments and translation memory

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:23:46.804590+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # trigram similarity for fuzzy translation-memory matches; btree_gist lets tenant_id and
    # the locales lead the (nearest-first) trigram index
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "segments",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_kind", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.UUID(), nullable=False),
        sa.Column("field", sa.String(length=160), nullable=False),
        sa.Column("source_locale", sa.String(length=35), nullable=False),
        sa.Column("target_locale", sa.String(length=35), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("target_text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="queued", nullable=False),
        sa.Column("legal", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("legal_reason", sa.Text(), nullable=True),
        sa.Column(
            "qa_issues",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("provider", sa.String(length=40), nullable=True),
        sa.Column("model", sa.String(length=80), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completion_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("job_id", sa.UUID(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("translated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.UUID(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
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
            "owner_kind IN ('product', 'variant')", name=op.f("ck_segments_owner_kind")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'translating', 'machine_translated', 'needs_review', "
            "'approved', 'rejected', 'published', 'stale', 'failed', 'blocked')",
            name=op.f("ck_segments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_segments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_segments")),
        sa.UniqueConstraint(
            "tenant_id",
            "owner_kind",
            "owner_id",
            "field",
            "target_locale",
            name=op.f("uq_segments_tenant_id_owner_kind_owner_id_field_target_locale"),
        ),
    )
    op.create_index(
        "ix_segments_tenant_id_job_id_status",
        "segments",
        ["tenant_id", "job_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_segments_tenant_id_status_queued_at",
        "segments",
        ["tenant_id", "status", "queued_at"],
        unique=False,
        postgresql_where="status IN ('queued', 'translating')",
    )
    op.create_table(
        "translation_memory",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("source_locale", sa.String(length=35), nullable=False),
        sa.Column("target_locale", sa.String(length=35), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("target_text", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("approved", sa.Boolean(), server_default="false", nullable=False),
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
            "origin IN ('machine', 'human')", name=op.f("ck_translation_memory_origin")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_translation_memory_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_translation_memory")),
        sa.UniqueConstraint(
            "tenant_id",
            "source_locale",
            "target_locale",
            "source_hash",
            "origin",
            name=op.f(
                "uq_translation_memory_tenant_id_source_locale_target_locale_source_hash_origin"
            ),
        ),
    )
    op.create_index(
        "ix_translation_memory_source_text_trgm",
        "translation_memory",
        ["tenant_id", "source_locale", "target_locale", "source_text"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={"source_text": "gist_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index(
        "ix_translation_memory_source_text_trgm",
        table_name="translation_memory",
        postgresql_using="gist",
        postgresql_ops={"source_text": "gist_trgm_ops"},
    )
    op.drop_table("translation_memory")
    op.drop_index(
        "ix_segments_tenant_id_status_queued_at",
        table_name="segments",
        postgresql_where="status IN ('queued', 'translating')",
    )
    op.drop_index("ix_segments_tenant_id_job_id_status", table_name="segments")
    op.drop_table("segments")
    op.execute("DROP EXTENSION IF EXISTS btree_gist")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
