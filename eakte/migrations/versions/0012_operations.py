"""tenants as configuration: authority address, contact, identity provider (issue 19)

A city is created and changed by `eakte tenant …` or the admin API instead of only by
`seed-demo`. `idp_issuer` is unique: a token's issuer names at most one tenant when the
tenant is taken from the issuer (one identity provider per city).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import eakte.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("authority_address", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("contact", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("identity_provider", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("idp_issuer", sa.String(length=500), nullable=True))
        batch.add_column(
            sa.Column("updated_at", eakte.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE tenants SET authority_address = '{}', contact = '{}', updated_at = created_at"
    )
    with op.batch_alter_table("tenants") as batch:
        batch.alter_column("authority_address", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("contact", existing_type=sa.JSON(), nullable=False)
        batch.alter_column(
            "updated_at", existing_type=eakte.db.UTCDateTime(timezone=True), nullable=False
        )
        batch.create_unique_constraint("uq_tenants_idp_issuer", ["idp_issuer"])


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_constraint("uq_tenants_idp_issuer", type_="unique")
        batch.drop_column("updated_at")
        batch.drop_column("idp_issuer")
        batch.drop_column("identity_provider")
        batch.drop_column("contact")
        batch.drop_column("authority_address")
