"""issue 14: XBau 2.6 inbox and outgoing messages

Reserved slot in the migration chain so that parallel work on the issues does not fork
the Alembic history; the issue's work replaces this body.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
