"""Shared fixtures: migrated databases (SQLite, and PostgreSQL when configured), app, tokens."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from eakte.app import create_app
from eakte.auth.tokens import issue_token
from eakte.config import Settings
from eakte.db import Database, database_urls
from eakte.issuing.seal import create_dev_ca
from eakte.migrations import downgrade, upgrade
from eakte.models import Base
from eakte.tenants.service import ensure_tenant
from support import TENANT_A, TENANT_B, TEST_SECRET, case_payload

PG_URL = os.environ.get("EAKTE_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@contextmanager
def _private_postgres_database(url: str) -> Iterator[str]:
    """A fresh database on the server of `url` for this test session, dropped afterwards.

    Concurrent test sessions (two developers, CI) therefore never share tables. Falls back to
    resetting the `public` schema of `url` when the role may not create databases.
    """
    sync = make_url(database_urls(url).sync_url)
    name = f"eakte_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(sync, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError:
        admin.dispose()
        engine = create_engine(sync)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        yield url
        return
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database migrated up, down and up again by Alembic (never create_all)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        upgrade(url)
        downgrade(url, "base")
        upgrade(url)
        yield url
        return
    assert PG_URL is not None
    with _private_postgres_database(PG_URL) as url:
        upgrade(url)
        downgrade(url, "base")
        upgrade(url)
        yield url


def _truncate(url: str) -> None:
    engine = create_engine(database_urls(url).sync_url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
    engine.dispose()


@pytest.fixture(scope="session")
def seal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development seal CA with seal certificates for the test tenants (issue 13)."""
    path = tmp_path_factory.mktemp("seals")
    create_dev_ca(path, {TENANT_A: "Stadt Augsburg", TENANT_B: "Landeshauptstadt München"})
    return path


@pytest.fixture
def settings(database_url: str, tmp_path: Path, seal_dir: Path) -> Settings:
    """Test settings: the migrated database, a temp data dir, a fixed secret."""
    _truncate(database_url)
    return Settings(
        env="dev",
        database_url=database_url,
        data_dir=tmp_path / "var",
        jwt_secret=TEST_SECRET,
        seal_dir=seal_dir,
        # a loaded CI machine can take seconds for a first query; the tests check what
        # /readyz reports, not how fast (tests of the timeout itself set their own)
        readiness_timeout_seconds=30,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """A database handle with the two test tenants seeded."""
    database = Database(settings.resolved_database_url())
    async with database.session() as session:
        await ensure_tenant(session, slug=TENANT_A, name="Stadt Augsburg")
        await ensure_tenant(session, slug=TENANT_B, name="Landeshauptstadt München")
    yield database
    await database.dispose()


@pytest.fixture
async def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    """The service under test."""
    application = create_app(settings)
    yield application
    await application.state.db.dispose()


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


TokenFactory = Callable[..., str]


@pytest.fixture
def token(settings: Settings) -> TokenFactory:
    """Make a bearer token: token("clerk") or token("clerk", tenant=TENANT_B, sub="x")."""

    def _make(*roles: str, tenant: str = TENANT_A, sub: str | None = None, ttl: int = 3600) -> str:
        return issue_token(
            settings,
            tenant=tenant,
            sub=sub or f"{'-'.join(roles) or 'none'}-{uuid.uuid4().hex[:6]}@{tenant}",
            roles=list(roles),
            name=f"Test {'/'.join(roles)}",
            ttl_seconds=ttl,
        )

    return _make


@pytest.fixture
def auth(token: TokenFactory) -> Callable[..., dict[str, str]]:
    """Authorization headers: auth("clerk", tenant=...)."""

    def _headers(*roles: str, **kwargs: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(*roles, **kwargs)}"}

    return _headers


@pytest.fixture
def cli_env(settings: Settings) -> Iterator[dict[str, str]]:
    """Environment for running the `eakte` CLI against the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(
        EAKTE_ENV="dev",
        EAKTE_DATABASE_URL=settings.resolved_database_url(),
        EAKTE_DATA_DIR=str(settings.data_dir),
        EAKTE_JWT_SECRET=TEST_SECRET,
    )
    yield env


@pytest.fixture
def store_env(settings: Settings, cli_env: dict[str, str]) -> dict[str, str]:
    """CLI environment with the store settings of this test."""
    env = dict(cli_env)
    env["EAKTE_STORAGE"] = settings.storage
    if settings.storage == "s3":
        env.update(
            EAKTE_S3_ENDPOINT=settings.s3_endpoint or "",
            EAKTE_S3_ACCESS_KEY=settings.s3_access_key or "",
            EAKTE_S3_SECRET_KEY=settings.s3_secret_key or "",
            EAKTE_S3_BUCKET=settings.s3_bucket,
            EAKTE_S3_REGION=settings.s3_region or "",
            EAKTE_S3_SECURE="false",
        )
    return env


@pytest.fixture
def new_case(client: httpx.AsyncClient, auth):  # type: ignore[no-untyped-def]
    """Create a case through the API: await new_case(tenant=..., **fields) -> JSON."""

    async def _create(tenant: str = TENANT_A, **overrides: object) -> dict[str, object]:
        response = await client.post(
            "/api/v1/cases", json=case_payload(**overrides), headers=auth("clerk", tenant=tenant)
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return _create
