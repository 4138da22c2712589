"""Start-up failures as one line an operator can act on (what, where, what to do)."""

from __future__ import annotations

import errno
import socket
from urllib.parse import urlsplit

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from eakte.config import ConfigError, Settings


class StartupError(RuntimeError):
    """A start-up check failed; the message is the one line shown to the operator."""


def _where_db(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def describe(exc: BaseException, settings: Settings | None = None) -> str | None:
    """The one-line explanation of a known start-up failure, or None for a real bug."""
    if isinstance(exc, StartupError | ConfigError):
        return str(exc)
    db = _where_db(settings.resolved_database_url()) if settings is not None else "the database"
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return (
            f"database URL {db} is not usable ({exc}); use sqlite:///path or "
            "postgresql://user@host:port/db in EAKTE_DATABASE_URL"
        )
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        return (
            f"cannot reach the database {db}: {reason}; check EAKTE_DATABASE_URL and that "
            "the server is running and accepts this user"
        )
    if isinstance(exc, SQLAlchemyError):
        return f"database error on {db}: {exc.__class__.__name__}: {exc}"
    from storage.errors import StorageError

    if isinstance(exc, StorageError) and settings is not None:
        where = settings.s3_endpoint if settings.storage == "s3" else settings.data_dir / "objects"
        return (
            f"cannot use the object store ({settings.storage}, {where}): {exc}; check "
            "EAKTE_STORAGE, EAKTE_S3_* and that the server answers"
        )
    if isinstance(exc, OSError) and (
        exc.filename is not None or exc.errno in (errno.EROFS, errno.ENOSPC, errno.EACCES)
    ):
        path = exc.filename or (settings.data_dir if settings else "?")
        where = f" (data directory {settings.data_dir})" if settings else ""
        return (
            f"cannot write {path}{where}: {exc.strerror or exc}; make it writable for this "
            "user or point EAKTE_DATA_DIR to a writable directory"
        )
    return None


def check_database(settings: Settings) -> None:
    """Connect once; StartupError if the database does not answer."""
    from sqlalchemy import create_engine, pool, text

    from eakte.db import database_urls

    url = settings.resolved_database_url()
    engine = create_engine(
        database_urls(url).sync_url, poolclass=pool.NullPool, connect_args=_connect_timeout(url)
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StartupError(describe(exc, settings) or str(exc)) from exc
    finally:
        engine.dispose()


def _connect_timeout(url: str) -> dict[str, object]:
    return {"connect_timeout": 5} if url.startswith("postgresql") else {}


def check_redis(settings: Settings) -> None:
    """PING Redis once when EAKTE_REDIS_URL is set; StartupError if it does not answer."""
    if not settings.redis_url:
        return
    import redis

    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        parts = urlsplit(settings.redis_url)
        raise StartupError(
            f"cannot reach Redis at {parts.hostname}:{parts.port or 6379}: {exc}; check "
            "EAKTE_REDIS_URL or unset it for a single process"
        ) from exc
    finally:
        client.close()


def bind_listener(host: str, port: int) -> socket.socket:
    """The listening socket for the HTTP server, bound before anything else starts.

    uvicorn binds only after the application started (Redis listener, ticker), and on
    uvloop a failed bind then never exits; binding first makes a taken port one line
    and exit 1 in every configuration.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise StartupError(f"cannot resolve EAKTE_HOST {host!r}: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        raise StartupError(
            f"cannot listen on {host}:{port}: {exc.strerror}; another process uses the "
            "port: stop it or set EAKTE_PORT / --port"
        ) from exc
    listener.set_inheritable(True)
    return listener
