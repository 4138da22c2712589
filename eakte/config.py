"""Settings from `EAKTE_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32
WEAK_SECRETS = {"secret", "changeme", "change-me", "password", "dev", "test", "eakte"}


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


# issue 19: the data directory never depends on the working directory of a source checkout
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _project_data_dir() -> Path | None:
    """`[tool.eakte] data-dir` (default `var`) of the checkout this package runs from."""
    import tomllib

    pyproject = PROJECT_ROOT / "pyproject.toml"
    try:
        config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if config.get("project", {}).get("name") != "eakte-bau":
        return None
    return PROJECT_ROOT / config.get("tool", {}).get("eakte", {}).get("data-dir", "var")


def default_data_dir() -> Path:
    """The project's data dir for a source checkout, else ./var."""
    return _project_data_dir() or Path("var").resolve()


class Settings(BaseSettings):
    """All configuration of one E-Akte process."""

    model_config = SettingsConfigDict(env_prefix="EAKTE_", extra="ignore")

    env: Literal["dev", "production"] = "dev"
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    redis_url: str | None = None

    jwt_secret: str | None = None
    jwt_issuer: str = "eakte-dev"
    oidc_jwks_url: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_algorithms: list[str] = ["RS256", "ES256"]
    oidc_client_id: str | None = None
    oidc_scope: str = "openid profile"

    access_failures_per_file_number: int = Field(default=10, ge=1)
    access_failures_per_address: int = Field(default=30, ge=1)
    access_failure_window_seconds: float = Field(default=900, gt=0)
    tick_interval_seconds: float = Field(default=60.0, ge=0)
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    log_level: str = "info"

    collab_max_message_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    collab_flush_interval_ms: float = Field(default=1.0, ge=0)
    collab_idle_unload_seconds: float = Field(default=30.0, ge=0)
    collab_compact_every_updates: int = Field(default=500, ge=1)
    collab_compact_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    collab_resync_seconds: float = Field(default=2.0, gt=0)
    collab_max_messages_per_second: int = Field(default=2000, ge=1)
    collab_max_outbox_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)

    storage: Literal["filesystem", "s3"] = "filesystem"
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_bucket: str = "eakte"
    s3_region: str | None = None
    s3_secure: bool = True
    s3_create_bucket: bool = True
    s3_part_size_mib: int = Field(default=8, ge=5, le=1024)

    # issue 19: claim mapping of the installation-wide issuer (EAKTE_OIDC_*), further issuers
    # as a JSON list (each: issuer, jwks_url, audience, roles_claims, role_map, tenant_claim,
    # tenant), the tenant whose admins manage all tenants, logging
    oidc_roles_claims: list[str] = ["roles"]
    oidc_role_map: dict[str, str] = {}
    oidc_tenant_claim: str | None = "tenant"
    oidc_tenant: str | None = None
    oidc_providers: list[dict[str, Any]] = []
    operator_tenant: str | None = None
    log_format: Literal["text", "json"] = "text"

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        try:  # issue 19: a bad claim mapping is a start-up error, not a 401 on every request
            from eakte.auth.claims import configured_issuers

            configured_issuers(self)
        except ValueError as exc:
            raise ConfigError(f"OIDC claim mapping: {exc}") from exc
        if self.storage == "s3" and not self.s3_endpoint:
            raise ConfigError("EAKTE_STORAGE=s3 needs EAKTE_S3_ENDPOINT, e.g. http://minio:9000")
        if self.env == "production":
            self.check_production()
        return self

    @property
    def dev_mode(self) -> bool:
        """True when HS256 dev tokens and demo seeding are allowed."""
        return self.env == "dev"

    @property
    def oidc_enabled(self) -> bool:
        """True when tokens are verified against an OIDC provider's JWKS."""
        return bool(self.oidc_jwks_url)

    def check_production(self) -> None:
        """Refuse configurations that are unsafe outside dev mode."""
        if self.oidc_jwks_url and not (self.oidc_issuer and self.oidc_audience):
            raise ConfigError(
                "EAKTE_OIDC_JWKS_URL is set but EAKTE_OIDC_ISSUER and EAKTE_OIDC_AUDIENCE are "
                "not: both must be set so that tokens of other issuers/audiences are refused"
            )
        if self.storage == "s3" and not (self.s3_access_key and self.s3_secret_key):
            raise ConfigError(
                "EAKTE_STORAGE=s3 needs EAKTE_S3_ACCESS_KEY and EAKTE_S3_SECRET_KEY in production"
            )
        if self.oidc_jwks_url and self.jwt_secret is None:
            return
        secret = self.jwt_secret or ""
        if not secret:
            raise ConfigError(
                "EAKTE_JWT_SECRET is missing: outside dev mode (EAKTE_ENV=production) set a "
                f"random secret of at least {MIN_SECRET_LENGTH} characters, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, "
                "or configure OIDC (EAKTE_OIDC_JWKS_URL, EAKTE_OIDC_ISSUER, EAKTE_OIDC_AUDIENCE)"
            )
        if (
            len(secret) < MIN_SECRET_LENGTH
            or secret.lower() in WEAK_SECRETS
            or len(set(secret)) < 8
        ):
            raise ConfigError(
                f"EAKTE_JWT_SECRET is too weak: use at least {MIN_SECRET_LENGTH} random characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )

    def data_dir_source(self) -> str:
        """Where `data_dir` came from, for the operator (issue 19)."""
        if "data_dir" in self.model_fields_set:
            return "EAKTE_DATA_DIR"
        if _project_data_dir() is not None:
            return f"[tool.eakte] data-dir of {PROJECT_ROOT / 'pyproject.toml'}"
        return "default ./var of the current directory; set EAKTE_DATA_DIR"

    def resolved_database_url(self) -> str:
        """The configured database URL, or a SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'eakte.sqlite3').resolve()}"

    def resolved_jwt_secret(self) -> str:
        """The HS256 secret; in dev mode a random one is kept under the data dir."""
        if self.jwt_secret:
            return self.jwt_secret
        if not self.dev_mode:
            raise ConfigError("EAKTE_JWT_SECRET is missing")
        path = self.data_dir / "dev-jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
