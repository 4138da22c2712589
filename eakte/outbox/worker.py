"""The delivery worker: in the service process (embedded default) or as `eakte worker`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy.exc import DBAPIError

import eakte.models  # noqa: F401  (every table, for foreign keys when run as `eakte worker`)
from eakte.config import Settings
from eakte.db import Database, utcnow
from eakte.outbox import service
from eakte.outbox.channels import Channel, DeliveryFailed, build_channels

log = logging.getLogger("eakte.outbox")


class Worker:
    """Claims due messages, delivers them concurrently, records every attempt."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        channels: Mapping[str, Channel] | None = None,
        store: Any = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.channels = dict(channels or build_channels(settings, db=db, store=store))
        self._wake = anyio.Event()

    def wake(self) -> None:
        """Look at the queue now instead of at the next poll (e.g. after a commit)."""
        self._wake.set()

    async def _deliver(self, item: service.Claimed) -> None:
        channel = self.channels.get(item.kind)
        error: str | None = None
        permanent = False
        if channel is None:
            error, permanent = f"no channel for message kind {item.kind!r}", True
        else:
            try:
                await channel.deliver(item.delivery)
            except DeliveryFailed as exc:
                error, permanent = str(exc), exc.permanent
        s = self.settings
        async with self.db.session(write=True) as session:
            status = await service.settle(
                session,
                item,
                error=error,
                permanent=permanent,
                now=utcnow(),
                max_attempts=s.outbox_max_attempts,
                backoff_base=s.outbox_backoff_seconds,
                backoff_cap=s.outbox_backoff_max_seconds,
            )
            settled = getattr(channel, "settled", None)
            if settled is not None:
                await settled(session, item.delivery, status)
        if error is not None:
            log.warning(
                "outbox %s %s attempt %d: %s (%s)", item.kind, item.id, item.attempt, error, status
            )

    async def run_once(self) -> int:
        """One round: claim a batch and deliver it; returns how many were attempted."""
        async with self.db.session(write=True) as session:
            claimed = await service.claim(
                session,
                now=utcnow(),
                lease=timedelta(seconds=self.settings.outbox_lease_seconds),
                limit=self.settings.outbox_batch_size,
            )
        if claimed:
            async with anyio.create_task_group() as tg:
                for item in claimed:
                    tg.start_soon(self._deliver, item)
        return len(claimed)

    async def run(self) -> None:
        """Deliver until cancelled; sleeps for the poll interval (or a wake-up) when idle."""
        while True:
            try:
                done = await self.run_once()
            except (DBAPIError, OSError) as exc:
                log.warning("outbox round failed: %s", exc)
                done = 0
            if done:
                continue
            with anyio.move_on_after(self.settings.outbox_poll_seconds):
                await self._wake.wait()
            self._wake = anyio.Event()
