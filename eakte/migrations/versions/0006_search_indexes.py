"""search indexes: trigram GIN index on cases.search_text (PostgreSQL only)

`q` on the case list is a case-folded substring match (LIKE '%term%') on
`cases.search_text`. Without an index PostgreSQL scans every case of the tenant; a
pg_trgm GIN index answers file numbers, address fragments and names directly. SQLite
has no trigram index: this revision does nothing there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 21:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_cases_search_text_trgm "
        "ON cases USING gin (search_text gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_cases_search_text_trgm")
