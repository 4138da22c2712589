"""issue 13: print queue and daily print batches, first retrieval and effect source of letters

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-02 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import eakte.db

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "print_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("batch_date", sa.Date(), nullable=False),
        sa.Column("object_key", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=True),
        sa.Column("posted_by", sa.String(length=200), nullable=True),
        sa.Column("posted_at", eakte.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_print_batches_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_batches")),
        sa.UniqueConstraint("object_key", name=op.f("uq_print_batches_object_key")),
        sa.UniqueConstraint("tenant_id", "batch_date", name="uq_print_batches_day"),
    )
    op.create_table(
        "print_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("issued_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("queued_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("first_page", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["print_batches.id"], name=op.f("fk_print_items_batch_id_print_batches")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_print_items_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["issued_id"],
            ["issued_documents.id"],
            name=op.f("fk_print_items_issued_id_issued_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_print_items_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_items")),
        sa.UniqueConstraint("issued_id", name=op.f("uq_print_items_issued_id")),
    )
    with op.batch_alter_table("print_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_print_items_queue", ["tenant_id", "batch_id", "queued_at"], unique=False
        )
    with op.batch_alter_table("issued_documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retrieved_at", eakte.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("source_effect_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("issued_documents", schema=None) as batch_op:
        batch_op.drop_column("source_effect_id")
        batch_op.drop_column("retrieved_at")
    with op.batch_alter_table("print_items", schema=None) as batch_op:
        batch_op.drop_index("ix_print_items_queue")
    op.drop_table("print_items")
    op.drop_table("print_batches")
