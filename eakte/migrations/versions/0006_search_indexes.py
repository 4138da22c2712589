"""search indexes: trigram GIN index on cases.search_text (PostgreSQL), documents by case

`q` on the case list is a case-folded substring match (LIKE '%term%') on
`cases.search_text`. Without an index PostgreSQL scans every case of the tenant; a
pg_trgm GIN index answers file numbers, address fragments and names directly. SQLite
has no trigram index. On every backend, documents get an index by case: the procedure
guards ask for a case's document kinds by `case_id` alone, which the
(tenant_id, case_id, created_at) index cannot serve.

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
    op.create_index("ix_documents_case", "documents", ["case_id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_cases_search_text_trgm "
        "ON cases USING gin (search_text gin_trgm_ops)"
    )
    # search_text values are all distinct: only a large histogram lets the planner see that a
    # common fragment ("straße") matches many rows and walk the newest cases instead
    op.execute("ALTER TABLE cases ALTER COLUMN search_text SET STATISTICS 1000")


def downgrade() -> None:
    op.drop_index("ix_documents_case", table_name="documents")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE cases ALTER COLUMN search_text SET STATISTICS -1")
    op.execute("DROP INDEX IF EXISTS ix_cases_search_text_trgm")
