"""issue 14: push delivery of outgoing XBau messages through the shared outbox

`xbau_push_endpoints` holds a tenant's push endpoint (its intermediary's URL and the HMAC secret
of the signature header); `xbau_outgoing.delivered_at` records when the endpoint took a message.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import eakte.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "xbau_push_endpoints",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.slug"],
            name=op.f("fk_xbau_push_endpoints_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_xbau_push_endpoints")),
    )
    with op.batch_alter_table("xbau_outgoing") as batch:
        batch.add_column(
            sa.Column("delivered_at", eakte.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("xbau_outgoing") as batch:
        batch.drop_column("delivered_at")
    op.drop_table("xbau_push_endpoints")
