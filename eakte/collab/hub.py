"""All loaded rooms of this process: loading, idle unload, shutdown flush, Redis fan-out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from eakte.auth.principal import Principal
from eakte.cases.models import Case
from eakte.collab.connection import CLOSE_RESTART, Connection
from eakte.collab.projection import Projector
from eakte.collab.room import Room
from eakte.collab.store import LogStore
from eakte.config import Settings
from eakte.db import Database

log = logging.getLogger("eakte.collab")

CHANNEL_PREFIX = "eakte:collab:"
# "<prefix><case id>:read-only" carries the reason: the case was closed on another instance
READ_ONLY_SUFFIX = ":read-only"
HEADER = struct.Struct(">16sQQ")  # origin instance, first seq, last seq


def seed_fields(case: Case) -> dict[str, str]:
    """The case values a fresh workspace starts from."""
    return {
        "title": case.title,
        "description": case.description or "",
        "site_address": case.site_address,
        "site_gemarkung": case.site_gemarkung or "",
        "site_flurstueck": case.site_flurstueck or "",
        "applicant_name": case.applicant_name,
        "applicant_email": case.applicant_email or "",
    }


async def _logged(coro: Coroutine[Any, Any, None]) -> None:
    """A task of the group never fails the group (which would cancel the app's lifespan)."""
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("collab: background task failed")


class CollabHub:
    """Rooms by case id, shared with other instances through Redis pub/sub."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.store = LogStore(db)
        self.projector = Projector(db)
        self.instance = uuid.uuid4().bytes
        self.rooms: dict[uuid.UUID, Room] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._stack = contextlib.AsyncExitStack()
        self._group: asyncio.TaskGroup | None = None
        self._loops: list[asyncio.Task[Any]] = []  # janitor, subscriber, resync: cancelled at stop
        self._unowned: set[asyncio.Task[None]] = set()
        self._redis: Any = None
        self.stopping = False
        self.projector.spawn = self.spawn
        # (updates, seconds) of every room's commits: the app points it at its metrics
        self.on_commit: Callable[[int, float], None] | None = None

    # -- lifecycle -------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `coro` in the hub's task group (flushes, projections, catch-ups)."""
        if self._group is None:  # the app runs without its lifespan (in-process HTTP tests)
            task = asyncio.create_task(_logged(coro))
            self._unowned.add(task)
            task.add_done_callback(self._unowned.discard)
            return task
        return self._group.create_task(_logged(coro))

    async def start(self) -> None:
        """Open the task group; start the janitor and, with EAKTE_REDIS_URL, the subscriber.

        start() and stop() run in the same task (the app's lifespan), which owns the group.
        """
        self._group = await self._stack.enter_async_context(asyncio.TaskGroup())
        self._loops.append(self.spawn(self._janitor()))
        if self.settings.redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self.settings.redis_url)
            self._loops.append(self.spawn(self._subscribe()))
            self._loops.append(self.spawn(self._resync()))

    async def stop(self) -> None:
        """Close every client (1012), flush and compact every room."""
        self.stopping = True
        for room in list(self.rooms.values()):
            for conn in list(room.connections):
                conn.close(CLOSE_RESTART, "server restart")
        for room in list(self.rooms.values()):
            try:
                await room.close()
            except Exception:
                log.exception("collab: flushing case %s at shutdown failed", room.case_id)
        self.rooms.clear()
        await self.projector.flush()
        for task in self._loops:
            task.cancel()
        await self._stack.aclose()  # waits for every task of the group to end
        self._group = None
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
        self.store.close()

    # -- rooms -----------------------------------------------------------------------

    def _new_room(self, case: Case) -> Room:
        s = self.settings
        return Room(
            case.id,
            case.tenant_id,
            self.store,
            flush_interval=s.collab_flush_interval_ms / 1000,
            busy_flush_interval=s.collab_busy_flush_interval_ms / 1000,
            busy_updates_per_second=s.collab_busy_updates_per_second,
            compact_every=s.collab_compact_every_updates,
            compact_bytes=s.collab_compact_bytes,
            publish=self._publish if self._redis is not None else None,
            spawn=self.spawn,
            history_window=s.collab_history_window_seconds,
            on_fields=self._fields_changed,
            max_workspace_bytes=s.collab_max_workspace_bytes,
            max_awareness_bytes=s.collab_max_awareness_bytes,
            on_commit=self.on_commit,
        )

    async def room(self, case: Case) -> Room:
        """The loaded room of `case` (loading it if needed)."""
        room = self.rooms.get(case.id)
        if room is not None and not room.closing:
            return room
        lock = self._locks.setdefault(case.id, asyncio.Lock())
        async with lock:
            room = self.rooms.get(case.id)
            if room is not None and not room.closing:
                return room
            room = self._new_room(case)
            await room.load(seed_fields(case))
            self.rooms[case.id] = room
            return room

    async def join(self, case: Case, conn: Connection) -> Room:
        """Load the room and add the client (under the room's load lock)."""
        lock = self._locks.setdefault(case.id, asyncio.Lock())
        while True:
            room = await self.room(case)
            async with lock:
                if self.rooms.get(case.id) is room and not room.closing:
                    room.join(conn)
                    return room

    async def close_for_writing(self, case_id: uuid.UUID, reason: str) -> int:
        """The case was closed: its open connections here and, through Redis, on every other
        instance receive only from now on. Returns how many connections here were switched."""
        switched = self.make_read_only(case_id, reason)
        if self._redis is not None:
            try:
                await self._redis.publish(
                    f"{CHANNEL_PREFIX}{case_id}{READ_ONLY_SUFFIX}",
                    self.instance + reason.encode()[:200],
                )
            except Exception as exc:  # the other instances still refuse new writers on connect
                log.warning("collab: announcing read-only to Redis failed: %s", exc)
        return switched

    def make_read_only(self, case_id: uuid.UUID, reason: str) -> int:
        """Every open connection of the case receives only from now on (the case was closed).

        New connections check the case themselves; this covers those already open here.
        """
        room = self.rooms.get(case_id)
        if room is None:
            return 0
        for conn in room.connections:
            conn.make_read_only(reason)
        return len(room.connections)

    async def committed_state(self, case: Case) -> tuple[bytes, int]:
        """The committed workspace of a case (loaded room or database) and its seq."""
        room = self.rooms.get(case.id)
        if room is not None and not room.closing:
            return room.committed_state(), room.last_seq
        from eakte.collab import crdt

        state = await self.store.load(case.id)
        parts = ([state.snapshot] if state.snapshot else []) + [d for _, d in state.updates]
        if not parts:
            room = await self.room(case)
            return room.committed_state(), room.last_seq
        return crdt.merge(parts), state.last_seq

    async def fold_history(self, case: Case) -> Room:
        """Commit and compact what is queued, so that the history holds every edit so far."""
        room = await self.room(case)
        await room.settle()
        await room.compact()
        return room

    async def _unload(self, room: Room) -> None:
        lock = self._locks.setdefault(room.case_id, asyncio.Lock())
        async with lock:
            if room.connections or self.rooms.get(room.case_id) is not room:
                return
            await room.close()
            self.rooms.pop(room.case_id, None)
            self.projector.projected.pop(room.case_id, None)
        log.info("collab: unloaded case %s", room.case_id)

    async def _janitor(self) -> None:
        idle = self.settings.collab_idle_unload_seconds
        period = max(0.05, min(1.0, idle / 4)) if idle else 1.0
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for room in list(self.rooms.values()):
                if not room.connections and now - room.idle_since >= idle:
                    try:
                        await self._unload(room)
                    except Exception:
                        log.exception("collab: unloading case %s failed", room.case_id)

    # -- projection --------------------------------------------------------------------

    def _fields_changed(self, room: Room, writer: Principal) -> None:
        self.projector.schedule(room.case_id, room.workspace.fields(), writer)

    # -- Redis -------------------------------------------------------------------------

    async def _publish(self, room: Room, first: int, last: int, data: bytes) -> None:
        message = HEADER.pack(self.instance, first, last) + data
        try:
            await self._redis.publish(f"{CHANNEL_PREFIX}{room.case_id}", message)
        except Exception as exc:  # others catch up from the log
            log.warning("collab: publishing to Redis failed: %s", exc.__class__.__name__)

    async def _subscribe(self) -> None:
        delay = 0.5
        while True:
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                delay = 0.5
                for room in list(self.rooms.values()):  # whatever was missed meanwhile
                    await room.catch_up()
                async for message in pubsub.listen():
                    if message.get("type") == "pmessage":
                        await self._on_message(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                current = asyncio.current_task()
                if self.stopping or (current is not None and current.cancelling()):
                    # redis-py turns our cancellation into a ConnectionError: without this the
                    # loop reconnects forever and shutdown (and SIGTERM) hangs (issue 19)
                    raise asyncio.CancelledError from exc
                log.warning("collab: Redis subscription lost (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _on_message(self, channel: bytes, data: bytes) -> None:
        name = channel.decode(errors="replace")
        if name.endswith(READ_ONLY_SUFFIX):
            self._on_read_only(name[len(CHANNEL_PREFIX) : -len(READ_ONLY_SUFFIX)], data)
            return
        if len(data) < HEADER.size:
            return
        origin, first, last = HEADER.unpack_from(data)
        if origin == self.instance:
            return
        try:
            case_id = uuid.UUID(channel.decode()[len(CHANNEL_PREFIX) :])
        except ValueError:
            return
        room = self.rooms.get(case_id)
        if room is None or room.closing:
            return
        if not room.remote_update(first, last, bytes(data[HEADER.size :])):
            self.spawn(room.catch_up())

    def _on_read_only(self, case: str, data: bytes) -> None:
        if len(data) < 16 or data[:16] == self.instance:
            return
        try:
            case_id = uuid.UUID(case)
        except ValueError:
            return
        switched = self.make_read_only(case_id, data[16:].decode(errors="replace"))
        if switched:
            log.info("collab: case %s closed elsewhere; %d connection(s) read-only", case, switched)

    async def _resync(self) -> None:
        """A missed Redis message must not go unnoticed: compare with the log now and then."""
        while True:
            await asyncio.sleep(self.settings.collab_resync_seconds)
            for room in list(self.rooms.values()):
                try:
                    if await self.store.last_seq(room.case_id) > room.last_seq:
                        await room.catch_up()
                except Exception as exc:
                    log.warning("collab: resync of case %s failed: %s", room.case_id, exc)
