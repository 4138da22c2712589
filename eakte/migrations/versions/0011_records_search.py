"""issue 15: records (file plan, closing, legal hold, destruction records), document texts, no cascades

- `records_file_plan`, `records_cases`, `records_destructions`, `records_offers`: the file plan
  per tenant, each case's closing / hold / disposition, the permanent proof of every
  destruction, and each Aussonderung (xdomea ProzessID) with its messages.
- `document_texts`: extracted text per document version, also the extraction job queue. On
  PostgreSQL a stored `tsvector` (German configuration) with a GIN index; on SQLite an FTS5
  table over it, kept in step by triggers.
- `documents.withdrawn_reason`: a document is withdrawn (hidden, content kept), never deleted.
- Every `ON DELETE CASCADE` is removed: nothing of a case file disappears because a parent row
  was deleted; destruction happens only through the Aussonderung process (eakte/records).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import eakte.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referenced table, referenced column) of every cascading foreign key
CASCADES = [
    ("participations", "case_id", "cases", "id"),
    ("process_deadlines", "case_id", "cases", "id"),
    ("process_instances", "case_id", "cases", "id"),
    ("process_transitions", "case_id", "cases", "id"),
    ("application_access", "case_id", "cases", "id"),
    ("audit_chain_heads", "tenant_id", "tenants", "slug"),
    ("file_number_counters", "tenant_id", "tenants", "slug"),
]

FTS_TRIGGERS = {
    "document_texts_ai": "AFTER INSERT ON document_texts BEGIN "
    "INSERT INTO document_texts_fts(rowid, content) VALUES (new.id, new.content); END",
    "document_texts_ad": "AFTER DELETE ON document_texts BEGIN "
    "INSERT INTO document_texts_fts(document_texts_fts, rowid, content) "
    "VALUES ('delete', old.id, old.content); END",
    "document_texts_au": "AFTER UPDATE OF content ON document_texts BEGIN "
    "INSERT INTO document_texts_fts(document_texts_fts, rowid, content) "
    "VALUES ('delete', old.id, old.content); "
    "INSERT INTO document_texts_fts(rowid, content) VALUES (new.id, new.content); END",
}


def _set_cascade(cascade: bool) -> None:
    for table, column, target, target_column in CASCADES:
        name = f"fk_{table}_{column}_{target}"
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="foreignkey")
            batch.create_foreign_key(
                name, target, [column], [target_column], ondelete="CASCADE" if cascade else None
            )


def upgrade() -> None:
    op.create_table(
        "records_file_plan",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("retention_years", sa.Integer(), nullable=False),
        sa.Column("archival_value", sa.String(length=30), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_records_file_plan_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_records_file_plan")),
    )
    op.create_table(
        "records_cases",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("file_plan_code", sa.String(length=40), nullable=True),
        sa.Column("closed_at", eakte.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("hold_by", sa.String(length=200), nullable=True),
        sa.Column("hold_at", eakte.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disposition", sa.String(length=30), nullable=True),
        sa.Column("offer_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_records_cases_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_records_cases_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_records_cases")),
    )
    op.create_index("ix_records_cases_tenant_closed", "records_cases", ["tenant_id", "closed_at"])
    op.create_table(
        "records_destructions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("file_number", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("file_plan_code", sa.String(length=40), nullable=True),
        sa.Column("closed_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retention_until", sa.String(length=10), nullable=False),
        sa.Column("grounds", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("destroyed_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("objects", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_records_destructions_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_records_destructions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_destructions")),
    )
    op.create_index(
        "ix_records_destructions_tenant", "records_destructions", ["tenant_id", "destroyed_at"]
    )
    op.create_table(
        "records_offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("package", sa.String(length=500), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.slug"], name=op.f("fk_records_offers_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records_offers")),
    )
    op.create_index("ix_records_offers_tenant", "records_offers", ["tenant_id", "created_at"])
    op.create_table(
        "document_texts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("claimed_at", eakte.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", eakte.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_document_texts_version_id_document_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_texts_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_document_texts_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.slug"], name=op.f("fk_document_texts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_texts")),
        sa.UniqueConstraint("version_id", name=op.f("uq_document_texts_version_id")),
    )
    op.create_index("ix_document_texts_status", "document_texts", ["status", "id"])
    op.create_index("ix_document_texts_tenant_case", "document_texts", ["tenant_id", "case_id"])
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("withdrawn_reason", sa.Text(), nullable=True))
    _set_cascade(False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE document_texts ADD COLUMN tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('german', content)) STORED"
        )
        op.execute("CREATE INDEX ix_document_texts_tsv ON document_texts USING gin (tsv)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE document_texts_fts USING fts5(content, "
            "content='document_texts', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        for name, body in FTS_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_document_texts_tsv")
    else:
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS document_texts_fts")
    _set_cascade(True)
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("withdrawn_reason")
    op.drop_index("ix_document_texts_tenant_case", table_name="document_texts")
    op.drop_index("ix_document_texts_status", table_name="document_texts")
    op.drop_table("document_texts")
    op.drop_index("ix_records_offers_tenant", table_name="records_offers")
    op.drop_table("records_offers")
    op.drop_index("ix_records_destructions_tenant", table_name="records_destructions")
    op.drop_table("records_destructions")
    op.drop_index("ix_records_cases_tenant_closed", table_name="records_cases")
    op.drop_table("records_cases")
    op.drop_table("records_file_plan")
