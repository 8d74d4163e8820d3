"""storefront: an approval announces every product whose shoppers now get the approved text

The storefront serves a segment that is not servable itself the last approved translation of
the same source text (revision 0008). So approving one product's text changes what shoppers
see on every other product with the same text in the same locales whose own segment is not
published (waiting for review, queued, ...). The approval bumped the versions, but only the
approved segment's product reached the change log, so a plugin syncing through the change
feed, delta sync or webhooks never refetched the others. An insert into segment_approvals now
logs those products too, found through a small partial index on the unpublished segments.

Not covered: a stale segment is matched by the hash of its product's current text, which only
the storefront's SQL computes. A product whose text was changed to the approved text before
the approval is not announced by the approval (the versions are bumped, so ETags are right);
it is announced when its segment is translated again.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 12:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPROVALS_INSERTED = """
CREATE FUNCTION storefront_approvals_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object(
               'tenant_id', s.tenant_id, 'locale', s.target_locale,
               'owner_kind', s.owner_kind, 'owner_id', s.owner_id, 'kind', 'published'))
    INTO changes
    FROM new_rows a
    JOIN segments s
      ON s.tenant_id = a.tenant_id AND s.source_hash = a.source_hash
     AND s.source_locale = a.source_locale AND s.target_locale = a.target_locale
    WHERE s.status <> 'published' AND s.id <> a.segment_id;
    IF changes IS NOT NULL THEN
        PERFORM storefront_record(changes);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_index(
        "ix_segments_tenant_id_source_hash_unpublished",
        "segments",
        ["tenant_id", "source_hash"],
        postgresql_where="status <> 'published'",
    )
    op.execute(APPROVALS_INSERTED)
    op.execute(
        "CREATE TRIGGER storefront_approvals_inserted AFTER INSERT ON segment_approvals "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION storefront_approvals_inserted()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER storefront_approvals_inserted ON segment_approvals")
    op.execute("DROP FUNCTION storefront_approvals_inserted()")
    op.drop_index("ix_segments_tenant_id_source_hash_unpublished", table_name="segments")
