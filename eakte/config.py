"""Settings from `EAKTE_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import ipaddress
import re
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

    # fail closed (issue 18): production unless development mode is asked for explicitly
    env: Literal["dev", "production"] = "production"
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
    # a room that receives this many updates a second waits longer, so each commit and frame
    # carries several clients' edits (bench/collab: the steady workload's CPU per update)
    collab_busy_updates_per_second: int = Field(default=100, ge=1)
    collab_busy_flush_interval_ms: float = Field(default=6.0, ge=0)
    collab_idle_unload_seconds: float = Field(default=30.0, ge=0)
    collab_compact_every_updates: int = Field(default=500, ge=1)
    collab_compact_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    collab_resync_seconds: float = Field(default=2.0, gt=0)
    collab_max_messages_per_second: int = Field(default=2000, ge=1)
    collab_max_outbox_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # issue 17: co-editing limits (workspace size, update rate, pending structs, awareness)
    collab_max_workspace_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    collab_max_updates_per_second: int = Field(default=500, ge=1)
    collab_max_pending_bytes: int = Field(default=1024 * 1024, ge=0)
    collab_pending_seconds: float = Field(default=10.0, ge=0)
    collab_max_awareness_bytes: int = Field(default=8 * 1024, ge=256)
    collab_query_awareness_per_second: float = Field(default=2.0, gt=0)
    collab_history_window_seconds: int = Field(default=300, ge=1)

    storage: Literal["filesystem", "s3"] = "filesystem"
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_bucket: str = "eakte"
    s3_region: str | None = None
    s3_secure: bool = True
    s3_create_bucket: bool = True
    s3_part_size_mib: int = Field(default=8, ge=5, le=1024)

    # -- issue 18: hardening -------------------------------------------------------------
    # secrets may come from files (Docker/Kubernetes secrets): EAKTE_JWT_SECRET_FILE etc.
    jwt_secret_file: Path | None = None
    s3_access_key_file: Path | None = None
    s3_secret_key_file: Path | None = None
    metrics_token_file: Path | None = None
    # /metrics needs `Authorization: Bearer <metrics_token>` when set; production refuses to
    # serve it without one unless metrics_public is set (e.g. behind a separate listener)
    metrics_token: str | None = None
    metrics_public: bool = False
    docs_enabled: bool = True
    hsts_seconds: int = Field(default=0, ge=0)
    # forwarded headers (X-Forwarded-For/-Proto) are trusted only from these addresses
    trusted_proxies: str = ""  # comma-separated addresses or networks, e.g. "10.0.0.5,10.1.0.0/16"
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    max_token_lifetime_seconds: int = Field(default=24 * 3600, ge=60)
    readiness_timeout_seconds: float = Field(default=3.0, gt=0, le=60)  # per /readyz check
    dev_login_ttl_seconds: int = Field(default=8 * 3600, ge=5, le=8 * 3600)  # dev mode only
    max_claim_chars: int = Field(default=200, ge=16, le=1000)
    jwks_refresh_seconds: float = Field(default=300, gt=0)
    jwks_min_refetch_seconds: float = Field(default=10, ge=0)
    # http:// JWKS URLs are refused in production unless they point at loopback and this is set
    oidc_allow_insecure_loopback_jwks: bool = False
    access_failures_per_code_file_number: int = Field(default=100, ge=1)
    upload_idle_timeout_seconds: float = Field(default=30, gt=0)
    upload_min_bytes_per_second: int = Field(default=1024, ge=0)
    upload_rate_grace_seconds: float = Field(default=20, ge=0)
    upload_workers: int = Field(default=16, ge=1, le=256)
    uploads_per_principal: int = Field(default=4, ge=1)
    uploads_per_address: int = Field(default=8, ge=1)
    uploads_per_application: int = Field(default=200, ge=1)
    submissions_per_address_per_hour: int = Field(default=20, ge=1)
    audit_signing_key_file: Path | None = None
    audit_witness: Literal["file", "store"] = "file"
    audit_witness_dir: Path | None = None
    audit_checkpoint_interval_seconds: float = Field(default=300, ge=0)
    # issue 19: signed download links (eakte/documents/links.py). "signed": HMAC links served
    # by nginx (deploy/nginx/) or the app's GET /api/v1/dl/{token}; "presigned": the S3 store's
    # presigned GET URLs (EAKTE_STORAGE=s3, the endpoint reachable by the clients)
    download_links: Literal["signed", "presigned"] = "signed"
    download_link_secret: str | None = None
    download_link_secret_file: Path | None = None
    download_link_ttl_seconds: int = Field(default=300, ge=10, le=24 * 3600)
    # where signed links point, e.g. https://eakte.stadt.example/dl (nginx); default the app's
    # own fallback route {public_base_url}/api/v1/dl
    download_link_base_url: str | None = None

    @model_validator(mode="after")
    def _read_secret_files(self) -> Settings:
        for name in (
            "jwt_secret",
            "s3_access_key",
            "s3_secret_key",
            "metrics_token",
            "download_link_secret",
        ):
            path: Path | None = getattr(self, f"{name}_file")
            if path is None:
                continue
            if getattr(self, name):
                raise ConfigError(
                    f"set EAKTE_{name.upper()} or EAKTE_{name.upper()}_FILE, not both"
                )
            try:
                setattr(self, name, path.read_text().strip())
            except OSError as exc:
                raise ConfigError(f"EAKTE_{name.upper()}_FILE {path}: {exc.strerror}") from exc
        for proxy in self.trusted_proxy_list:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ConfigError(f"EAKTE_TRUSTED_PROXIES: {proxy!r} is no address") from exc
        return self

    # issue 14: XBau interface (size of one message without its attachments)
    xbau_max_message_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024)
    # one push of an XBau message with its Anlagen (may be tens of MB); then retried by the outbox
    xbau_push_timeout_seconds: float = Field(default=120.0, gt=0)
    # issue 15: document text extraction and search (eakte/search)
    search_worker: bool = True  # run the extraction worker inside `eakte serve`
    search_poll_seconds: float = Field(default=2.0, gt=0)
    search_batch_size: int = Field(default=8, ge=1, le=1000)
    search_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    search_max_seconds: float = Field(default=60.0, gt=0)
    search_max_memory_mib: int = Field(default=768, ge=64)
    search_max_chars: int = Field(default=2_000_000, ge=1000)
    # OCR of scanned PDFs and images (tesseract + pdftoppm; off unless the city installs them)
    search_ocr: bool = False
    search_ocr_languages: str = Field(default="deu", pattern=r"^[a-z_]{3,20}(\+[a-z_]{3,20}){0,4}$")
    # issue 15: Aussonderung (eakte/records): where 0501/0503 packages are written
    records_export_dir: Path | None = None  # default: <data_dir>/aussonderung
    # issue 13: outbox delivery (e-mail over SMTP, signed webhooks) and issued documents
    outbox_worker: bool = True  # run the delivery worker inside `eakte serve`
    outbox_poll_seconds: float = Field(default=2.0, gt=0)
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    outbox_batch_size: int = Field(default=20, ge=1, le=500)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_backoff_seconds: float = Field(default=30.0, ge=0)
    outbox_backoff_max_seconds: float = Field(default=6 * 3600.0, ge=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "E-Akte Bau <noreply@eakte.invalid>"
    smtp_timeout_seconds: float = Field(default=20.0, gt=0)
    public_base_url: str = "http://127.0.0.1:8000"
    seal_dir: Path | None = None  # per tenant: <seal_dir>/<tenant>/seal.key.pem + seal.cert.pem
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
        if self.download_links == "presigned" and self.storage != "s3":
            raise ConfigError(
                "EAKTE_DOWNLOAD_LINKS=presigned needs EAKTE_STORAGE=s3; the filesystem store "
                "uses signed links (EAKTE_DOWNLOAD_LINKS=signed, served by nginx or the app)"
            )
        if self.download_link_secret is not None and (self.download_link_secret == self.jwt_secret):
            raise ConfigError(
                "EAKTE_DOWNLOAD_LINK_SECRET must differ from EAKTE_JWT_SECRET (the web server "
                "that checks links must not be able to mint sign-in tokens)"
            )
        if self.env == "production":
            self.check_production()
        return self

    @property
    def trusted_proxy_list(self) -> list[str]:
        """EAKTE_TRUSTED_PROXIES as a list."""
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

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
        if self.oidc_jwks_url and not jwks_url_allowed(
            self.oidc_jwks_url, self.oidc_allow_insecure_loopback_jwks
        ):
            raise ConfigError(
                "EAKTE_OIDC_JWKS_URL must be an https:// URL in production (keys fetched over "
                "plain HTTP can be replaced in transit); only a loopback http:// URL is "
                "accepted, and only with EAKTE_OIDC_ALLOW_INSECURE_LOOPBACK_JWKS=true"
            )
        if self.metrics_token is not None and weak_secret(self.metrics_token):
            raise ConfigError(
                f"EAKTE_METRICS_TOKEN is too weak: use at least {MIN_SECRET_LENGTH} random "
                "characters"
            )
        if self.oidc_jwks_url and not (self.oidc_issuer and self.oidc_audience):
            raise ConfigError(
                "EAKTE_OIDC_JWKS_URL is set but EAKTE_OIDC_ISSUER and EAKTE_OIDC_AUDIENCE are "
                "not: both must be set so that tokens of other issuers/audiences are refused"
            )
        if self.storage == "s3" and not (self.s3_access_key and self.s3_secret_key):
            raise ConfigError(
                "EAKTE_STORAGE=s3 needs EAKTE_S3_ACCESS_KEY and EAKTE_S3_SECRET_KEY in production"
            )
        if self.download_link_secret is not None and weak_secret(self.download_link_secret):
            raise ConfigError(
                f"EAKTE_DOWNLOAD_LINK_SECRET is too weak: use at least {MIN_SECRET_LENGTH} random "
                "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
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
        if weak_secret(secret):
            raise ConfigError(
                f"EAKTE_JWT_SECRET is too weak: use at least {MIN_SECRET_LENGTH} random characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )

    def resolved_download_link_secret(self) -> str | None:
        """The HMAC secret of download links; in dev mode a random one under the data dir,
        in production None unless configured (link routes then answer 503)."""
        if self.download_link_secret:
            return self.download_link_secret
        if not self.dev_mode:
            return None
        return _dev_secret(self.data_dir / "dev-download-link-secret")

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

    def resolved_seal_dir(self) -> Path:
        """Where the tenants' seal keys and certificates live (issue 13)."""
        return self.seal_dir or self.data_dir / "seals"

    def resolved_jwt_secret(self) -> str:
        """The HS256 secret; in dev mode a random one is kept under the data dir."""
        if self.jwt_secret:
            return self.jwt_secret
        if not self.dev_mode:
            raise ConfigError("EAKTE_JWT_SECRET is missing")
        return _dev_secret(self.data_dir / "dev-jwt-secret")


def _dev_secret(path: Path) -> str:
    """A development secret kept in `path` (created once, random, 0600)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip()


def weak_secret(secret: str) -> bool:
    """Too short, too few distinct characters or classes, or a repeated pattern."""
    if len(secret) < MIN_SECRET_LENGTH or secret.lower() in WEAK_SECRETS:
        return True
    if len(set(secret)) < 12:
        return True
    classes = sum(
        bool(re.search(pattern, secret)) for pattern in ("[a-z]", "[A-Z]", "[0-9]", "[^a-zA-Z0-9]")
    )
    if classes < 3:
        return True
    lowered = secret.lower()
    for unit in range(1, len(lowered) // 2 + 1):  # "Passwort2026Passwort2026…"
        if lowered.startswith(lowered[unit:]):
            return True
    return False


def jwks_url_allowed(url: str, allow_loopback_http: bool) -> bool:
    """https, a file URL, or (with the explicit override) http on loopback."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.scheme in {"https", "file"}:
        return True
    if parsed.scheme != "http" or not allow_loopback_http:
        return False
    host = parsed.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
