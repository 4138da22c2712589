"""collab update log, snapshots, named versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import eakte.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collab_updates",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_collab_updates_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", "seq", name=op.f("pk_collab_updates")),
    )
    op.create_table(
        "collab_snapshots",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_collab_snapshots_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_collab_snapshots")),
    )
    op.create_table(
        "collab_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_by_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_collab_versions_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_collab_versions_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_collab_versions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collab_versions")),
    )
    op.create_index(
        "ix_collab_versions_case", "collab_versions", ["case_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_collab_versions_case", table_name="collab_versions")
    op.drop_table("collab_versions")
    op.drop_table("collab_snapshots")
    op.drop_table("collab_updates")
