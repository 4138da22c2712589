"""issue 17: co-editing trust (client-id registry, attributed history)

`collab_clients` binds each Yjs client id of a workspace to the user who first wrote with it;
`collab_history` keeps the edits per user and time window when the log is compacted.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import eakte.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collab_clients",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("created_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_collab_clients_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", "client_id", name=op.f("pk_collab_clients")),
    )
    op.create_table(
        "collab_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("window_start", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_seq", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_collab_history_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collab_history")),
    )
    with op.batch_alter_table("collab_history", schema=None) as batch_op:
        batch_op.create_index("ix_collab_history_case", ["case_id", "first_seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("collab_history", schema=None) as batch_op:
        batch_op.drop_index("ix_collab_history_case")
    op.drop_table("collab_history")
    op.drop_table("collab_clients")
