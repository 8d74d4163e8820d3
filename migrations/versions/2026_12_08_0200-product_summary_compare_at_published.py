"""products: short_description, compare_at_price and published

What real exports carry beside the texts already stored: WooCommerce's `Short description` (a
translated product field, no longer an attribute), the regular price of a product on sale
(`compare_at_price`: WooCommerce's `Regular price` beside its `Sale price`, Shopify's
`Variant Compare At Price`), and whether the shop sells the product at all (`published`: false
for a Shopify draft or archived product, or `Published` 0 in WooCommerce). An unpublished product
is never served on the storefront and is translated only when a job names its SKU.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 02:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("products", sa.Column("short_description", sa.Text(), nullable=True))
    op.add_column("products", sa.Column("compare_at_price", sa.Numeric(18, 4), nullable=True))
    op.add_column(
        "products",
        sa.Column("published", sa.Boolean(), server_default="true", nullable=False),
    )
    op.create_check_constraint("compare_at_price_not_negative", "products", "compare_at_price >= 0")


def downgrade() -> None:
    op.drop_constraint("compare_at_price_not_negative", "products", type_="check")
    op.drop_column("products", "published")
    op.drop_column("products", "compare_at_price")
    op.drop_column("products", "short_description")
