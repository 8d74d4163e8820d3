"""glossary terms and the tenant glossary version

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 08:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("glossary_version", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "glossary_terms",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("case_sensitive", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "targets",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('translate', 'keep', 'forbidden')", name=op.f("ck_glossary_terms_kind")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_glossary_terms_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_glossary_terms")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "term", name=op.f("uq_glossary_terms_tenant_id_kind_term")
        ),
    )


def downgrade() -> None:
    op.drop_table("glossary_terms")
    op.drop_column("tenants", "glossary_version")
