"""issue 14: XBau 2.6 inbox and outgoing messages

Authority addresses (DVDV-Kennung -> tenant), accepted messages (unique message UUID, so a
second delivery is answered from the first), and outgoing messages queued for pickup.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import eakte.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "xbau_authorities",
        sa.Column("kennung", sa.String(length=120), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("created_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_xbau_authorities_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("kennung", name=op.f("pk_xbau_authorities")),
    )
    op.create_table(
        "xbau_inbound",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("message_uuid", sa.String(length=36), nullable=False),
        sa.Column("message_name", sa.String(length=100), nullable=False),
        sa.Column("sender_kennung", sa.String(length=120), nullable=False),
        sa.Column("sender_name", sa.String(length=300), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("family", sa.String(length=40), nullable=False),
        sa.Column("portal_reference", sa.String(length=100), nullable=False),
        sa.Column("created_at_sender", eakte.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("received_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_xbau_inbound_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_xbau_inbound_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xbau_inbound")),
        sa.UniqueConstraint("message_uuid", name="uq_xbau_inbound_message_uuid"),
    )
    op.create_index("ix_xbau_inbound_case", "xbau_inbound", ["case_id"], unique=False)
    op.create_table(
        "xbau_outgoing",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("message_type", sa.String(length=100), nullable=False),
        sa.Column("message_uuid", sa.String(length=36), nullable=False),
        sa.Column("reader_kennung", sa.String(length=120), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", eakte.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_xbau_outgoing_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_xbau_outgoing_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xbau_outgoing")),
        sa.UniqueConstraint("idempotency_key", name="uq_xbau_outgoing_idempotency_key"),
    )
    op.create_index(
        "ix_xbau_outgoing_pickup",
        "xbau_outgoing",
        ["tenant_id", "status", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_xbau_outgoing_message_uuid", "xbau_outgoing", ["message_uuid"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_xbau_outgoing_message_uuid", table_name="xbau_outgoing")
    op.drop_index("ix_xbau_outgoing_pickup", table_name="xbau_outgoing")
    op.drop_table("xbau_outgoing")
    op.drop_index("ix_xbau_inbound_case", table_name="xbau_inbound")
    op.drop_table("xbau_inbound")
    op.drop_table("xbau_authorities")
