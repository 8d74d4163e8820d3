"""token_usage: the tokens of every translation attempt, counted when the calls come back

A run's usage was the sum of its segments' tokens, written only by the claim that saved the
segment: a batch whose claim was taken back lost its tokens, and a segment queued again lost
its earlier ones. Usage already stored on segments is carried over, one row per segment.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:18:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_usage",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=True),
        sa.Column("segment_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("model", sa.String(80), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_token_usage_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_token_usage")),
    )
    op.create_index("ix_token_usage_tenant_id_job_id", "token_usage", ["tenant_id", "job_id"])
    op.create_index(
        "ix_token_usage_tenant_id_created_at", "token_usage", ["tenant_id", "created_at"]
    )
    op.execute(
        "INSERT INTO token_usage (tenant_id, id, job_id, segment_id, provider, model, "
        "prompt_tokens, completion_tokens, created_at) "
        "SELECT tenant_id, uuid7(), job_id, id, provider, model, prompt_tokens, "
        "completion_tokens, coalesce(translated_at, updated_at) "
        "FROM segments WHERE provider IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("token_usage")
