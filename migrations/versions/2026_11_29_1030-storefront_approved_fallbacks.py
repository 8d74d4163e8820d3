"""storefront: a segment that brings an approved text along bumps the versions too

The storefront serves, for a text that is not servable itself, the last approved translation
of the same source text (review.reads). So a segment that is inserted or deleted while not
published changes what shoppers see when an approval exists for its source text (a new
product with an already approved warranty text gets that approval as soon as its segment
exists). Those inserts and deletes now bump the versions like a publish or a withdrawal.
Everything else already did: an approval is always recorded with a publish, and a segment's
lookup key only changes with its product's source text.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 10:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (function, alias of the transition table, change kind); {extra} widens the condition
FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object(
               'tenant_id', r.tenant_id, 'locale', r.target_locale,
               'owner_kind', r.owner_kind, 'owner_id', r.owner_id, 'kind', '{kind}'))
    INTO changes
    FROM {table} r WHERE r.status = 'published'{extra};
    IF changes IS NOT NULL THEN
        PERFORM storefront_record(changes);
    END IF;
    RETURN NULL;
END
$$
"""
APPROVED = """
       OR EXISTS (SELECT 1 FROM segment_approvals a
                  WHERE a.tenant_id = r.tenant_id AND a.source_locale = r.source_locale
                    AND a.target_locale = r.target_locale AND a.source_hash = r.source_hash)"""
FUNCTIONS = [
    ("storefront_segments_inserted", "new_rows", "published"),
    ("storefront_segments_deleted", "old_rows", "withdrawn"),
]


def upgrade() -> None:
    for name, table, kind in FUNCTIONS:
        op.execute(FUNCTION.format(name=name, table=table, kind=kind, extra=APPROVED))


def downgrade() -> None:
    for name, table, kind in FUNCTIONS:
        op.execute(FUNCTION.format(name=name, table=table, kind=kind, extra=""))
