"""support: policies, conversations, messages and reply drafts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("customer_locale", sa.String(length=35), nullable=False),
        sa.Column("customer_locale_origin", sa.String(length=10), nullable=False),
        sa.Column("detected_language", sa.String(length=8), nullable=True),
        sa.Column("detection_confidence", sa.Float(), nullable=True),
        sa.Column("agent_locale", sa.String(length=35), nullable=False),
        sa.Column("skus", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("created_by_key", sa.UUID(), nullable=True),
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
            "customer_locale_origin IN ('given', 'detected', 'fallback')",
            name=op.f("ck_conversations_locale_origin"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_conversations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_conversations")),
        sa.UniqueConstraint(
            "tenant_id", "external_id", name=op.f("uq_conversations_tenant_id_external_id")
        ),
    )
    op.create_index(
        "ix_conversations_tenant_id_created_at",
        "conversations",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "support_policies",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("legal", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("legal_reason", sa.Text(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_support_policies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_support_policies")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_support_policies_tenant_id_name")),
    )
    op.create_table(
        "messages",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("author", sa.String(length=10), nullable=False),
        sa.Column("author_member_id", sa.UUID(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("translated_text", sa.Text(), nullable=True),
        sa.Column("translated_locale", sa.String(length=35), nullable=False),
        sa.Column("translation_status", sa.String(length=12), nullable=False),
        sa.Column("translation_error", sa.Text(), nullable=True),
        sa.Column("draft_id", sa.UUID(), nullable=True),
        sa.Column("job_id", sa.UUID(), nullable=True),
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
        sa.CheckConstraint("author IN ('customer', 'agent')", name=op.f("ck_messages_author")),
        sa.CheckConstraint(
            "translation_status IN ('queued', 'translated', 'not_needed', 'failed', 'blocked')",
            name=op.f("ck_messages_translation"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "conversation_id"],
            ["conversations.tenant_id", "conversations.id"],
            name=op.f("fk_messages_tenant_id_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_messages_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_messages")),
    )
    op.create_index(
        "ix_messages_tenant_id_conversation_id",
        "messages",
        ["tenant_id", "conversation_id", "id"],
        unique=False,
    )
    op.create_table(
        "reply_drafts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="queued", nullable=False),
        sa.Column("stage", sa.String(length=10), server_default="draft", nullable=False),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("agent_locale", sa.String(length=35), nullable=False),
        sa.Column("customer_locale", sa.String(length=35), nullable=False),
        sa.Column("agent_text", sa.Text(), nullable=True),
        sa.Column("customer_text", sa.Text(), nullable=True),
        sa.Column(
            "policies_used",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column(
            "products_used",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column(
            "qa_issues",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("legal", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("legal_reason", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("model", sa.String(length=80), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completion_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("model_ms", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.UUID(), nullable=True),
        sa.Column("requested_by", sa.UUID(), nullable=True),
        sa.Column("edited_by", sa.UUID(), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.UUID(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_by", sa.UUID(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
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
            "NOT legal OR status <> 'sent' OR approved_at IS NOT NULL",
            name=op.f("ck_reply_drafts_legal_sent_approved"),
        ),
        sa.CheckConstraint("stage IN ('draft', 'translate')", name=op.f("ck_reply_drafts_stage")),
        sa.CheckConstraint(
            "status IN ('queued', 'ready', 'needs_approval', 'approved', 'sent', 'failed', "
            "'blocked')",
            name=op.f("ck_reply_drafts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "conversation_id"],
            ["conversations.tenant_id", "conversations.id"],
            name=op.f("fk_reply_drafts_tenant_id_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_reply_drafts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_reply_drafts")),
    )
    op.create_index(
        "ix_reply_drafts_tenant_id_conversation_id",
        "reply_drafts",
        ["tenant_id", "conversation_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_reply_drafts_tenant_id_conversation_id", table_name="reply_drafts")
    op.drop_table("reply_drafts")
    op.drop_index("ix_messages_tenant_id_conversation_id", table_name="messages")
    op.drop_table("messages")
    op.drop_table("support_policies")
    op.drop_index("ix_conversations_tenant_id_created_at", table_name="conversations")
    op.drop_table("conversations")
