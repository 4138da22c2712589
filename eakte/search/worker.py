"""The background worker that extracts and indexes document text.

Started in the app's lifespan (a task group, cancelled at shutdown) and runnable alone as
`eakte search worker`. Each round claims a batch of queued texts, reads each object from the
store, extracts it in a limited child process and stores the text; the index follows by
trigger (SQLite) or generated column (PostgreSQL).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio

from eakte.config import Settings
from eakte.db import Database
from eakte.search import extractor, queue
from eakte.search.models import DONE, FAILED, UNSUPPORTED
from storage import ObjectStore, StorageError

log = logging.getLogger("eakte.search")


def limits(settings: Settings) -> extractor.Limits:
    """The per-document caps from the settings."""
    return extractor.Limits(
        max_bytes=settings.search_max_bytes,
        max_seconds=settings.search_max_seconds,
        max_memory_mib=settings.search_max_memory_mib,
        max_chars=settings.search_max_chars,
        ocr_languages=settings.search_ocr_languages if settings.search_ocr else None,
    )


def _read(store: ObjectStore, key: str, max_bytes: int) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    with store.open(key) as reader:
        for chunk in reader:
            size += len(chunk)
            if size > max_bytes:
                return None
            parts.append(chunk)
    return b"".join(parts)


async def process(db: Database, store: ObjectStore, job: queue.Job, caps: extractor.Limits) -> str:
    """Extract and store one job's text; returns the status it ended in."""
    if job.size > caps.max_bytes:
        await queue.finish(
            db,
            job,
            content="",
            pages=0,
            status=FAILED,
            error=f"larger than the extraction limit of {caps.max_bytes} bytes",
        )
        return FAILED
    try:
        data = await anyio.to_thread.run_sync(_read, store, job.object_key, caps.max_bytes)
    except StorageError as exc:
        await queue.finish(db, job, content="", pages=0, status=FAILED, error=f"store: {exc}")
        return FAILED
    if data is None:
        await queue.finish(db, job, content="", pages=0, status=FAILED, error="object too large")
        return FAILED
    outcome = await extractor.run(data, job.media_type, caps)
    if outcome.unsupported:
        status = UNSUPPORTED
    elif outcome.error:
        status = FAILED
        log.warning("text extraction of version %s failed: %s", job.version_id, outcome.error)
    else:
        status = DONE
    await queue.finish(
        db, job, content=outcome.text, pages=outcome.pages, status=status, error=outcome.error
    )
    return status


async def run_once(db: Database, store: ObjectStore, settings: Settings) -> int:
    """One round: claim a batch and process it; returns how many jobs were taken."""
    jobs = await queue.claim(
        db,
        limit=settings.search_batch_size,
        lease=timedelta(seconds=settings.search_max_seconds * 4 + 60),
    )
    caps = limits(settings)
    for job in jobs:
        await process(db, store, job, caps)
    return len(jobs)


async def drain(db: Database, store: ObjectStore, settings: Settings) -> int:
    """Process until the queue is empty (CLI `--once`, tests); returns the number of jobs."""
    total = 0
    while taken := await run_once(db, store, settings):
        total += taken
    return total


async def run_forever(db: Database, store: ObjectStore, settings: Settings) -> None:
    """Process the queue; sleep `search_poll_seconds` whenever it is empty."""
    while True:
        try:
            taken = await run_once(db, store, settings)
        except Exception:  # a database outage must not end the worker
            log.exception("text extraction round failed; retrying")
            taken = 0
        if not taken:
            await anyio.sleep(settings.search_poll_seconds)


@asynccontextmanager
async def running(db: Database, store: ObjectStore, settings: Settings) -> AsyncIterator[None]:
    """Run the worker in a task group for the body's duration (cancelled at exit)."""
    if not settings.search_worker:
        yield
        return
    async with anyio.create_task_group() as group:
        group.start_soon(run_forever, db, store, settings)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
