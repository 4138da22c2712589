"""Database engine, sessions and the declarative base."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every ORM model."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class DatabaseURLs:
    """The async URL the service uses and the sync URL Alembic uses."""

    async_url: str
    sync_url: str
    backend: str


def database_urls(url: str) -> DatabaseURLs:
    """Choose the drivers for a plain `sqlite:///…` or `postgresql://…` URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return DatabaseURLs(
            async_url=parsed.set(drivername="sqlite+aiosqlite").render_as_string(False),
            sync_url=parsed.set(drivername="sqlite").render_as_string(False),
            backend="sqlite",
        )
    if backend in ("postgresql", "postgres"):
        driver = parsed.get_driver_name()
        async_driver = "postgresql+asyncpg" if driver == "asyncpg" else "postgresql+psycopg"
        return DatabaseURLs(
            async_url=parsed.set(drivername=async_driver).render_as_string(False),
            sync_url=parsed.set(drivername="postgresql+psycopg").render_as_string(False),
            backend="postgresql",
        )
    raise ValueError(
        f"unsupported database URL scheme {parsed.drivername!r}: use sqlite or postgresql"
    )


def _sqlite_setup(engine: AsyncEngine, *, immediate: bool) -> None:
    """WAL, foreign keys, a busy timeout and explicit BEGIN on SQLite."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The engines and session factories of one process.

    SQLite allows one writer at a time and cannot upgrade a read transaction
    to a write without risking SQLITE_BUSY, so writes get their own engine
    whose transactions start with BEGIN IMMEDIATE (they queue on the busy
    timeout instead of failing). PostgreSQL uses one engine for both.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.urls = database_urls(url)
        self.backend = self.urls.backend
        if self.backend == "sqlite":
            self.engine = create_async_engine(self.urls.async_url, echo=echo)
            _sqlite_setup(self.engine, immediate=False)
            self.write_engine = create_async_engine(self.urls.async_url, echo=echo)
            _sqlite_setup(self.write_engine, immediate=True)
        else:
            self.engine = create_async_engine(
                self.urls.async_url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20
            )
            self.write_engine = self.engine
        self.read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on error."""
        factory = self.write_sessions if write else self.read_sessions
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
