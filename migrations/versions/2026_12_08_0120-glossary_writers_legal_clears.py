"""Glossary terms name their writer; a legal segment that stops being legal is audited

``glossary_terms.writers``: a glossary target is somebody's words; when it puts legal text into
a translation, whoever wrote the term (everyone who ever did: a later writer of another
target does not take the first one's words over) may not approve that translation
(four-eyes). Terms written before this revision have no known writers.

``legal_cleared``: the database can check who approved which text, but not what counts as
legal. A segment that stops being legal (a re-check after a rule was removed, or an UPDATE
that bypasses the service) leaves an ``audit_events`` row written by the database itself, with
the database user and application name, so no clearing goes unseen.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 01:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGAL_CLEARED = """
CREATE FUNCTION legal_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_events (tenant_id, id, action, entity_type, entity_id, before, after)
    VALUES (
        NEW.tenant_id, uuid7(), 'segment.legal_cleared', 'segment', NEW.id::text,
        jsonb_build_object('legal', true, 'legal_reason', OLD.legal_reason,
                           'status', OLD.status, 'target_text', OLD.target_text),
        jsonb_build_object('legal', false, 'status', NEW.status,
                           'target_text', NEW.target_text, 'database_user', current_user,
                           'application_name', current_setting('application_name', true))
    );
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.add_column(
        "glossary_terms",
        sa.Column("writers", postgresql.ARRAY(sa.UUID()), nullable=False, server_default="{}"),
    )
    op.execute(LEGAL_CLEARED)
    op.execute(
        "CREATE TRIGGER legal_cleared AFTER UPDATE OF legal ON segments FOR EACH ROW "
        "WHEN (OLD.legal AND NOT NEW.legal) EXECUTE FUNCTION legal_cleared()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER legal_cleared ON segments")
    op.execute("DROP FUNCTION legal_cleared()")
    op.drop_column("glossary_terms", "writers")
