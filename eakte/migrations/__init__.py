"""Alembic migrations, run programmatically (`eakte migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from eakte.db import database_urls

HERE = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    """An Alembic config for the given (plain or driver-qualified) database URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", database_urls(database_url).sync_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Revert migrations down to `revision`."""
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """`alembic check`: raise if the models and the migrated schema differ."""
    command.check(alembic_config(database_url))
