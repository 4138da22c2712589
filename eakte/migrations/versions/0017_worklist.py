"""issue 16: assignment of cases, the officials' directory and per-user notifications

`cases` get a responsible official (Sachbearbeiter) and a deputy (Vertretung), each as the
token subject and the display name at the time of assignment. `directory_members` lists the
officials of a tenant who signed in to the app (the agency picker of a Beteiligung and the
official filter of the deadline overview read it). `notifications` are per recipient and
written in the transaction of the event (deadline overdue, fiction detected, agency answered,
applicant uploaded).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 16:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import eakte.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("assignee_sub", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("assignee_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("deputy_sub", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("deputy_name", sa.String(length=200), nullable=True))
    op.create_index("ix_cases_tenant_assignee", "cases", ["tenant_id", "assignee_sub"])
    op.create_index("ix_cases_tenant_deputy", "cases", ["tenant_id", "deputy_sub"])
    op.create_table(
        "directory_members",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("seen_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_directory_members_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "sub", name=op.f("pk_directory_members")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text_de", sa.String(length=500), nullable=False),
        sa.Column("text_en", sa.String(length=500), nullable=False),
        sa.Column("created_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", eakte.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_notifications_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_notifications_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_recipient",
        "notifications",
        ["tenant_id", "recipient", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_recipient", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("directory_members")
    op.drop_index("ix_cases_tenant_deputy", table_name="cases")
    op.drop_index("ix_cases_tenant_assignee", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("deputy_name")
        batch.drop_column("deputy_sub")
        batch.drop_column("assignee_name")
        batch.drop_column("assignee_sub")
