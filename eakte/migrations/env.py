"""Alembic environment: sync driver, metadata from every eakte model."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from eakte.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Objects declared for another dialect only (`ddl_if`) are not compared (issue 19)."""
    ddl_if = getattr(obj, "_ddl_if", None)
    if type_ == "index" and not reflected and ddl_if is not None and ddl_if.dialect:
        return context.get_context().dialect.name == ddl_if.dialect
    # the SQLite FTS5 index of document text (issue 15) is a virtual table with shadow tables
    # that migration 0011 creates by raw SQL; the models do not describe it
    if type_ == "table" and reflected and name.startswith("document_texts_fts"):
        return False
    # likewise the PostgreSQL German tsvector column and its GIN index (0011, 0015, raw SQL)
    if reflected and (
        (type_ == "column" and name == "tsv" and obj.table.name == "document_texts")
        or (type_ == "index" and name in ("ix_document_texts_tsv", "ix_document_texts_tenant_tsv"))
    ):
        return False
    return True


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
