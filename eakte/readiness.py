"""`/readyz`: can this process serve? Database, schema at the migration head, object
store and (when configured) Redis, each with a short timeout."""

from __future__ import annotations

import asyncio
import os
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from eakte.db import Database
from storage.errors import ObjectNotFound, StorageError

CHECK_TIMEOUT_SECONDS = 3.0
PROBE_KEY = "readyz/probe"


@lru_cache
def migration_head() -> str:
    """The newest revision of the migration scripts shipped with this code."""
    from alembic.script import ScriptDirectory

    from eakte.migrations import HERE, alembic_config

    config = alembic_config("sqlite://")
    config.set_main_option("script_location", str(HERE))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def _database(db: Database) -> str:
    async with db.session(write=False) as session:
        await session.execute(text("SELECT 1"))
        current = await session.scalar(text("SELECT version_num FROM alembic_version"))
    head = migration_head()
    if current != head:
        raise _NotReady(f"schema at {current}, code needs {head}: run `eakte migrate`")
    return "ok"


def _store(store: Any) -> str:
    root = getattr(store, "root", None)
    if root is not None and not (os.path.isdir(root) and os.access(root, os.W_OK)):
        raise _NotReady(f"object directory {root} is missing or not writable")
    try:
        store.head(PROBE_KEY)
    except ObjectNotFound:
        pass  # the store answered
    return "ok"


async def _redis(url: str) -> str:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return "ok"


class _NotReady(Exception):
    pass


async def _run(name: str, check: Any, timeout: float) -> tuple[str, str]:
    try:
        async with asyncio.timeout(timeout):
            return name, await check
    except _NotReady as exc:
        return name, f"failed: {exc}"
    except TimeoutError:
        return name, f"failed: no answer within {timeout:g} s"
    except (OSError, DBAPIError, PoolTimeoutError, SQLAlchemyError, StorageError) as exc:
        return name, f"failed: {exc.__class__.__name__}"
    except Exception as exc:  # redis errors and the like: report, never 500
        return name, f"failed: {exc.__class__.__name__}"


async def check(
    *, db: Database, store: Any, redis_url: str | None, timeout: float = CHECK_TIMEOUT_SECONDS
) -> dict[str, str]:
    """Every check's result ("ok" or "failed: why"), run concurrently."""
    checks = [
        _run("database", _database(db), timeout),
        _run("object_store", asyncio.to_thread(_store, store), timeout),
    ]
    if redis_url:
        checks.append(_run("redis", _redis(redis_url), timeout))
    return dict(await asyncio.gather(*checks))
