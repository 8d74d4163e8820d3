"""webhooks: every delivery attempt is kept; jobs: succeeded_with_errors

A delivery row held only its last attempt's outcome; a receiver that failed twice and then
answered looked like it never failed. Existing deliveries keep no history (their last outcome
stays on the delivery row).

A job whose rows (an import) or segments (a translation run) partly failed finishes as
``succeeded_with_errors``; jobs finished before keep their status.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 13:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD_STATUSES = "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')"
NEW_STATUSES = (
    "status IN ('queued', 'running', 'succeeded', 'succeeded_with_errors', 'failed', 'cancelled')"
)


def upgrade() -> None:
    op.drop_constraint(op.f("ck_jobs_status"), "jobs", type_="check")
    op.alter_column("jobs", "status", type_=sa.String(30), existing_nullable=False)
    op.create_check_constraint("status", "jobs", NEW_STATUSES)
    op.create_table(
        "webhook_delivery_attempts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "delivery_id"],
            ["webhook_deliveries.tenant_id", "webhook_deliveries.id"],
            name=op.f("fk_webhook_delivery_attempts_tenant_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "delivery_id", "number", name=op.f("pk_webhook_delivery_attempts")
        ),
    )


def downgrade() -> None:
    op.drop_table("webhook_delivery_attempts")
    op.execute("UPDATE jobs SET status = 'succeeded' WHERE status = 'succeeded_with_errors'")
    op.drop_constraint(op.f("ck_jobs_status"), "jobs", type_="check")
    op.alter_column("jobs", "status", type_=sa.String(20), existing_nullable=False)
    op.create_check_constraint("status", "jobs", OLD_STATUSES)
