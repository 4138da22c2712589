"""Settings: database URL driver choice and the production secret checks."""

from __future__ import annotations

import pytest

from eakte.config import ConfigError, Settings
from eakte.db import database_urls


def test_plain_urls_get_async_drivers() -> None:
    sqlite = database_urls("sqlite:////tmp/x/eakte.db")
    assert sqlite.async_url == "sqlite+aiosqlite:////tmp/x/eakte.db"
    assert sqlite.sync_url == "sqlite:////tmp/x/eakte.db"
    pg = database_urls("postgresql://u:p@db:5432/eakte")
    assert pg.async_url == "postgresql+psycopg://u:p@db:5432/eakte"
    assert pg.backend == "postgresql"
    assert database_urls("postgresql+asyncpg://db/e").async_url.startswith("postgresql+asyncpg")
    with pytest.raises(ValueError, match="unsupported"):
        database_urls("mysql://db/e")


def test_default_database_is_sqlite_under_data_dir(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(env="dev", data_dir=tmp_path)
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path.resolve()}/eakte.sqlite3"


def test_production_without_secret_is_a_startup_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="EAKTE_JWT_SECRET is missing"):
        Settings(env="production", data_dir=tmp_path)


@pytest.mark.parametrize("secret", ["changeme", "short-secret", "a" * 40])
def test_production_with_weak_secret_is_a_startup_error(tmp_path, secret: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="too weak"):
        Settings(env="production", data_dir=tmp_path, jwt_secret=secret)


def test_production_with_strong_secret_or_oidc_starts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    Settings(env="production", data_dir=tmp_path, jwt_secret="Zq8-Lp3v_Xw9Rt2Kd7Hy5Bn1Mc4Fj6Gs0a")
    Settings(
        env="production",
        data_dir=tmp_path,
        oidc_jwks_url="https://idp.example/jwks",
        oidc_issuer="https://idp.example",
        oidc_audience="eakte",
    )
    with pytest.raises(ConfigError, match="ISSUER"):
        Settings(env="production", data_dir=tmp_path, oidc_jwks_url="https://idp.example/jwks")


def test_dev_mode_keeps_a_generated_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = Settings(env="dev", data_dir=tmp_path).resolved_jwt_secret()
    assert len(first) >= 32
    assert Settings(env="dev", data_dir=tmp_path).resolved_jwt_secret() == first
