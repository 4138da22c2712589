"""issue 13: outbox and issued documents

Reserved slot in the migration chain so that parallel work on the issues does not fork
the Alembic history; the issue's work replaces this body.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
