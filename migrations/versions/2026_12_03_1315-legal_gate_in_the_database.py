"""legal gate in the database: a published legal segment or an approved/sent legal draft needs
an approval by an active reviewer or owner other than its last editor, for exactly its text

Until now a CHECK asked only for ``approved_at``: direct SQL could publish legal text with no
approver, swap the text of an approved segment, or mark a legal draft sent with a timestamp.

- ``segment_approvals.text_sha256`` is the SHA-256 of the approved text (a CHECK ties it to
  ``target_text``); approval rows are never updated or truncated, and deleting one a published
  legal segment relies on fails at commit.
- An approval row, when inserted, must be for its segment's current text and source, by an
  active member with the role reviewer or owner who is not the segment's last editor.
- A published legal segment must name its approver (``approved_by``) and have an approval row
  of its own by that member, for the SHA-256 of its current ``target_text``, not older than its
  last edit, by someone other than its last editor.
- ``reply_drafts.approved_text_sha256``: an approved or sent legal draft needs an approver other
  than whoever requested or edited it, and the SHA-256 of its current ``customer_text``; the
  approver, when set, must be an active reviewer or owner.

The checks on segments and drafts are constraint triggers, DEFERRABLE INITIALLY DEFERRED: they
run at commit on the row as it is then, so the service's several statements (approval row,
segment update) pass in any order. Upgrading sends the rows that break the rules back to review
(``needs_review``; a draft to ``needs_approval``) instead of failing. A sent draft keeps its
message in the conversation: only its status says that it never had a valid approval.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def sha256_sql(expression: str) -> str:
    """The hex SHA-256 of a text's UTF-8 bytes (what ``core.text.text_sha256`` computes)."""
    return f"encode(sha256(convert_to({expression}, 'UTF8')), 'hex')"


APPROVER_ROLES = "('reviewer', 'owner')"

# Is the segment's current row, when legal and published, backed by an approval of its own?
SEGMENT_APPROVED = f"""
    s.approved_by IS NOT NULL
    AND s.approved_by IS DISTINCT FROM s.last_edited_by
    AND EXISTS (
        SELECT 1 FROM segment_approvals a
        WHERE a.tenant_id = s.tenant_id AND a.segment_id = s.id
          AND a.approved_by = s.approved_by
          AND a.text_sha256 = {sha256_sql("s.target_text")}
          AND (s.last_edited_at IS NULL OR a.approved_at >= s.last_edited_at))
"""
DRAFT_APPROVED = f"""
    d.approved_by IS NOT NULL AND d.approved_at IS NOT NULL
    AND d.approved_by IS DISTINCT FROM d.requested_by
    AND d.approved_by IS DISTINCT FROM d.edited_by
    AND d.approved_text_sha256 = {sha256_sql("d.customer_text")}
"""

FUNCTIONS = {
    "legal_gate_check_segment": f"""
CREATE FUNCTION legal_gate_check_segment(t uuid, segment uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- the row as it is now (a deferred trigger's NEW may be an older version of it)
    PERFORM 1 FROM segments s
    WHERE s.tenant_id = t AND s.id = segment AND s.legal AND s.status = 'published'
      AND NOT ({SEGMENT_APPROVED});
    IF FOUND THEN
        RAISE EXCEPTION 'legal segment % is published without an approval of its current text '
                        'by a member other than its last editor', segment
            USING ERRCODE = 'check_violation', CONSTRAINT = 'legal_gate_segment';
    END IF;
END
$$
""",
    "legal_gate_segments": """
CREATE FUNCTION legal_gate_segments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM legal_gate_check_segment(NEW.tenant_id, NEW.id);
    RETURN NULL;
END
$$
""",
    "legal_gate_approval_deleted": """
CREATE FUNCTION legal_gate_approval_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM legal_gate_check_segment(OLD.tenant_id, OLD.segment_id);
    RETURN NULL;
END
$$
""",
    "legal_gate_approval_inserted": f"""
CREATE FUNCTION legal_gate_approval_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM members m
    WHERE m.tenant_id = NEW.tenant_id AND m.id = NEW.approved_by
      AND m.deactivated_at IS NULL AND m.role IN {APPROVER_ROLES};
    IF NOT FOUND THEN
        RAISE EXCEPTION 'approval %: % is not an active reviewer or owner', NEW.id, NEW.approved_by
            USING ERRCODE = 'check_violation', CONSTRAINT = 'legal_gate_approver';
    END IF;
    PERFORM 1 FROM segments s
    WHERE s.tenant_id = NEW.tenant_id AND s.id = NEW.segment_id
      AND s.target_text = NEW.target_text AND s.source_hash = NEW.source_hash
      AND s.source_locale = NEW.source_locale AND s.target_locale = NEW.target_locale
      AND s.last_edited_by IS DISTINCT FROM NEW.approved_by;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'approval %: not the current text of segment %, or by its last editor',
                        NEW.id, NEW.segment_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'legal_gate_approval';
    END IF;
    RETURN NULL;
END
$$
""",
    "legal_gate_approvals_append_only": """
CREATE FUNCTION legal_gate_approvals_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'segment_approvals rows are never changed (% refused)', TG_OP
        USING ERRCODE = 'check_violation', CONSTRAINT = 'legal_gate_approval_immutable';
END
$$
""",
    "legal_gate_drafts": f"""
CREATE FUNCTION legal_gate_drafts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM reply_drafts d
    WHERE d.tenant_id = NEW.tenant_id AND d.id = NEW.id
      AND d.legal AND d.status IN ('approved', 'sent') AND NOT ({DRAFT_APPROVED});
    IF FOUND THEN
        RAISE EXCEPTION 'legal reply draft % is % without an approval of its current text by a '
                        'member other than who requested or edited it', NEW.id, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'legal_gate_draft';
    END IF;
    RETURN NULL;
END
$$
""",
    "legal_gate_draft_approver": f"""
CREATE FUNCTION legal_gate_draft_approver() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM members m
    WHERE m.tenant_id = NEW.tenant_id AND m.id = NEW.approved_by
      AND m.deactivated_at IS NULL AND m.role IN {APPROVER_ROLES};
    IF NOT FOUND THEN
        RAISE EXCEPTION 'reply draft %: % is not an active reviewer or owner', NEW.id,
                        NEW.approved_by
            USING ERRCODE = 'check_violation', CONSTRAINT = 'legal_gate_approver';
    END IF;
    RETURN NEW;
END
$$
""",
}

DEFERRED = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
# (name, create statement's tail after "ON")
TRIGGERS = [
    (
        "legal_gate_segments",
        "CREATE CONSTRAINT TRIGGER legal_gate_segments AFTER INSERT OR UPDATE ON segments "
        f"{DEFERRED} WHEN (NEW.legal AND NEW.status = 'published') "
        "EXECUTE FUNCTION legal_gate_segments()",
        "segments",
    ),
    (
        "legal_gate_approval_deleted",
        "CREATE CONSTRAINT TRIGGER legal_gate_approval_deleted AFTER DELETE ON segment_approvals "
        f"{DEFERRED} EXECUTE FUNCTION legal_gate_approval_deleted()",
        "segment_approvals",
    ),
    (
        "legal_gate_approval_inserted",
        "CREATE CONSTRAINT TRIGGER legal_gate_approval_inserted AFTER INSERT ON segment_approvals "
        f"{DEFERRED} EXECUTE FUNCTION legal_gate_approval_inserted()",
        "segment_approvals",
    ),
    (
        "legal_gate_approvals_no_update",
        "CREATE TRIGGER legal_gate_approvals_no_update BEFORE UPDATE ON segment_approvals "
        "FOR EACH ROW EXECUTE FUNCTION legal_gate_approvals_append_only()",
        "segment_approvals",
    ),
    (
        "legal_gate_approvals_no_truncate",
        "CREATE TRIGGER legal_gate_approvals_no_truncate BEFORE TRUNCATE ON segment_approvals "
        "FOR EACH STATEMENT EXECUTE FUNCTION legal_gate_approvals_append_only()",
        "segment_approvals",
    ),
    (
        "legal_gate_drafts",
        "CREATE CONSTRAINT TRIGGER legal_gate_drafts AFTER INSERT OR UPDATE ON reply_drafts "
        f"{DEFERRED} WHEN (NEW.legal AND NEW.status IN ('approved', 'sent')) "
        "EXECUTE FUNCTION legal_gate_drafts()",
        "reply_drafts",
    ),
    (
        "legal_gate_draft_approver_inserted",
        "CREATE TRIGGER legal_gate_draft_approver_inserted BEFORE INSERT ON reply_drafts "
        "FOR EACH ROW WHEN (NEW.approved_by IS NOT NULL) "
        "EXECUTE FUNCTION legal_gate_draft_approver()",
        "reply_drafts",
    ),
    (
        "legal_gate_draft_approver_updated",
        # only when the approver changes: a member deactivated later does not block the send
        "CREATE TRIGGER legal_gate_draft_approver_updated BEFORE UPDATE ON reply_drafts "
        "FOR EACH ROW WHEN (NEW.approved_by IS NOT NULL "
        "AND NEW.approved_by IS DISTINCT FROM OLD.approved_by) "
        "EXECUTE FUNCTION legal_gate_draft_approver()",
        "reply_drafts",
    ),
]

# Rows that break the rules go back to review (run before the triggers exist).
BACKFILL_APPROVALS = f"UPDATE segment_approvals SET text_sha256 = {sha256_sql('target_text')}"
BACKFILL_DRAFTS = f"""
UPDATE reply_drafts SET approved_text_sha256 = {sha256_sql("customer_text")}
WHERE approved_by IS NOT NULL AND customer_text IS NOT NULL
"""
SEGMENTS_TO_REVIEW = f"""
UPDATE segments AS s SET status = 'needs_review', approved_by = NULL, approved_at = NULL,
    updated_at = now()
WHERE s.legal AND s.status = 'published' AND NOT ({SEGMENT_APPROVED})
"""
DRAFTS_TO_REVIEW = f"""
UPDATE reply_drafts AS d SET status = 'needs_approval', approved_by = NULL, approved_at = NULL,
    approved_text_sha256 = NULL, updated_at = now()
WHERE d.legal AND d.status IN ('approved', 'sent') AND NOT ({DRAFT_APPROVED})
"""


def upgrade() -> None:
    op.add_column("segment_approvals", sa.Column("text_sha256", sa.String(64), nullable=True))
    op.execute(BACKFILL_APPROVALS)
    op.alter_column("segment_approvals", "text_sha256", nullable=False)
    op.create_check_constraint(
        op.f("ck_segment_approvals_text_sha256"),
        "segment_approvals",
        f"text_sha256 = {sha256_sql('target_text')}",
    )
    op.add_column("reply_drafts", sa.Column("approved_text_sha256", sa.String(64), nullable=True))
    op.execute(BACKFILL_DRAFTS)
    op.execute(SEGMENTS_TO_REVIEW)
    op.execute(DRAFTS_TO_REVIEW)
    for function in FUNCTIONS.values():
        op.execute(function)
    for _, create, _ in TRIGGERS:
        op.execute(create)


def downgrade() -> None:
    for name, _, table in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for name in reversed(FUNCTIONS):
        signature = "(uuid, uuid)" if name == "legal_gate_check_segment" else "()"
        op.execute(f"DROP FUNCTION {name}{signature}")
    op.drop_column("reply_drafts", "approved_text_sha256")
    op.drop_constraint(op.f("ck_segment_approvals_text_sha256"), "segment_approvals", type_="check")
    op.drop_column("segment_approvals", "text_sha256")
