"""webhooks: every delivery attempt is kept (time, duration, status code, error)

A delivery row held only its last attempt's outcome; a receiver that failed twice and then
answered looked like it never failed. Existing deliveries keep no history (their last outcome
stays on the delivery row).

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-03 13:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
