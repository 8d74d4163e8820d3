"""review and legal: editor of a segment, approvals kept per source, the legal gate as a CHECK

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("segments", sa.Column("last_edited_by", sa.UUID(), nullable=True))
    op.add_column(
        "segments", sa.Column("last_edited_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Legal text published before this gate existed goes back to review rather than failing
    # the constraint below.
    op.execute(
        "UPDATE segments SET status = 'needs_review', updated_at = now() "
        "WHERE legal AND status = 'published' AND approved_at IS NULL"
    )
    op.create_check_constraint(
        op.f("ck_segments_legal_published_approved"),
        "segments",
        "NOT legal OR status <> 'published' OR approved_at IS NOT NULL",
    )
    op.create_index(
        "ix_segments_tenant_id_status_created_at",
        "segments",
        ["tenant_id", "status", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_audit_events_tenant_id_entity_type",
        "audit_events",
        ["tenant_id", "entity_type", "entity_id", "at", "id"],
        unique=False,
    )
    op.create_table(
        "segment_approvals",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("segment_id", sa.UUID(), nullable=False),
        sa.Column("source_locale", sa.String(length=35), nullable=False),
        sa.Column("target_locale", sa.String(length=35), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("target_text", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.UUID(), nullable=False),
        sa.Column("approved_key_id", sa.UUID(), nullable=False),
        sa.Column(
            "approved_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_segment_approvals_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_segment_approvals")),
    )
    op.create_index(
        "ix_segment_approvals_tenant_id_source_hash",
        "segment_approvals",
        ["tenant_id", "source_locale", "target_locale", "source_hash", "approved_at"],
        unique=False,
    )
    op.create_index(
        "ix_segment_approvals_tenant_id_segment_id",
        "segment_approvals",
        ["tenant_id", "segment_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_segment_approvals_tenant_id_segment_id", table_name="segment_approvals")
    op.drop_index("ix_segment_approvals_tenant_id_source_hash", table_name="segment_approvals")
    op.drop_table("segment_approvals")
    op.drop_index("ix_audit_events_tenant_id_entity_type", table_name="audit_events")
    op.drop_index("ix_segments_tenant_id_status_created_at", table_name="segments")
    op.drop_constraint(op.f("ck_segments_legal_published_approved"), "segments", type_="check")
    op.drop_column("segments", "last_edited_at")
    op.drop_column("segments", "last_edited_by")
