"""issue 13: a neighbour letter serves a sealed decision (enclosure); drafts pin the version
of the shipped default template they were made from; a provision knows its notice e-mail;
issue 14: XBau push endpoints per authority address

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-02 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eakte.db import UTCDateTime

revision: str = "0023"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issued_documents") as batch:
        # the sealed decision served with this letter (Art. 66 Abs. 1 S. 4 BayBO)
        batch.add_column(sa.Column("enclosure_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_issued_documents_enclosure", "issued_documents", ["enclosure_id"], ["id"]
        )
        # template_version 0 = a shipped default; which one (NULL = the first, version 1)
        batch.add_column(sa.Column("default_version", sa.Integer(), nullable=True))
        # the outbox e-mail that notifies of a provision for retrieval: its sending starts the
        # ten days of Art. 41 Abs. 2a S. 4 BayVwVfG
        batch.add_column(sa.Column("notice_id", sa.Uuid(), nullable=True))
    # a push endpoint for one of the tenant's XBau addresses (the message's Autor); messages
    # of other addresses go to the tenant's endpoint (xbau_push_endpoints) or wait for pickup
    op.create_table(
        "xbau_push_routes",
        sa.Column("tenant_id", sa.String(40), sa.ForeignKey("tenants.slug"), primary_key=True),
        sa.Column(
            "authority", sa.String(120), sa.ForeignKey("xbau_authorities.kennung"), primary_key=True
        ),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("xbau_push_routes")
    with op.batch_alter_table("issued_documents") as batch:
        batch.drop_constraint("fk_issued_documents_enclosure", type_="foreignkey")
        batch.drop_column("notice_id")
        batch.drop_column("default_version")
        batch.drop_column("enclosure_id")
