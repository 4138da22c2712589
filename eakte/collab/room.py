"""One case's live workspace: document, clients, group commit, coalesced broadcast, awareness.

An update from a client is applied to the room's document (which validates it) and
queued; the flush loop commits everything queued in one transaction and only then
broadcasts it (merged) to the other clients and to the other instances. Sync step 2
answers are computed from the committed state, never from what is still queued.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from eakte.auth.principal import Principal
from eakte.collab import awareness, crdt, protocol, ydecode
from eakte.collab.connection import (
    CLOSE_FORBIDDEN,
    CLOSE_INTERNAL,
    CLOSE_INVALID,
    CLOSE_POLICY,
    CLOSE_WORKSPACE_FULL,
    FIELD_ROLES,
    CloseConnection,
    Connection,
)
from eakte.collab.store import LogStore, SeqTaken
from eakte.collab.wsprotocol import binary_frame

log = logging.getLogger("eakte.collab")

SEED_ACTOR = "system:case"
SYSTEM = "system:"  # owners of the server's own client ids start with this
FIELD_GUARD_ACTOR = "system:field-rights"
COMMIT_RETRIES = (0.05, 0.2, 0.5, 1.0)
SEND_STALL_SECONDS = 2.0  # a broadcast waits this long for one client's full socket buffer


@dataclass(slots=True)
class Pending:
    delta: bytes
    conn: Connection | None
    actor: str


@dataclass(slots=True)
class Peer:
    clock: int
    state: dict[str, Any] | None
    conn: Connection


class Room:
    """The live workspace of one case."""

    def __init__(
        self,
        case_id: uuid.UUID,
        tenant: str,
        store: LogStore,
        *,
        flush_interval: float,
        compact_every: int,
        compact_bytes: int,
        publish: Callable[[Room, int, int, bytes], Awaitable[None]] | None = None,
        on_fields: Callable[[Room, Principal], None] | None = None,
        max_workspace_bytes: int = 16 * 1024 * 1024,
        max_awareness_bytes: int = 8 * 1024,
        spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]] | None = None,
        history_window: int = 300,
        on_commit: Callable[[int, float], None] | None = None,
        busy_flush_interval: float | None = None,
        busy_updates_per_second: int = 100,
    ) -> None:
        self.case_id = case_id
        self.tenant = tenant
        self.store = store
        self.flush_interval = flush_interval
        self.busy_flush_interval = (
            flush_interval if busy_flush_interval is None else busy_flush_interval
        )
        self.busy_updates_per_second = busy_updates_per_second
        self._rate_start = 0.0  # updates queued in the current and the previous second
        self._rate_count = 0
        self._rate_previous = 0
        self.compact_every = compact_every
        self.compact_bytes = compact_bytes
        self._publish = publish
        self._on_fields = on_fields
        self._on_commit = on_commit  # (updates, seconds) of every commit, for the metrics
        self.max_workspace_bytes = max_workspace_bytes
        self.max_awareness_bytes = max_awareness_bytes
        self._spawn = spawn or asyncio.create_task
        self.history_window = history_window
        self.workspace = crdt.Workspace()
        self.snapshot_bytes = 0
        self.owners: dict[int, str] = {}  # Yjs client id -> the user (sub) it belongs to
        self.new_owners: dict[int, str] = {}  # claimed, not yet in the database
        self.committed = crdt.EMPTY_UPDATE  # merged committed state, without `tail`
        self.tail: list[bytes] = []
        self.last_seq = 0
        self.log_count = 0  # updates in the database after the snapshot
        self.log_bytes = 0
        self.pending: list[Pending] = []
        self.pending_bytes = 0  # sum of the pending deltas' sizes (size() is per update)
        self.inflight: list[Pending] = []  # the batch being committed
        self.inflight_bytes = 0  # its deltas' sizes: counted by size() until they are logged
        self._holding = False  # some connection may hold updates (set by _hold)
        self.uncommitted = 0  # queued or in-flight updates in the document, not yet in the log
        self.connections: set[Connection] = set()
        self.peers: dict[int, Peer] = {}
        self._awareness_cache: bytes | None = None
        self.lock = asyncio.Lock()  # one writer of the log per room and instance
        self._compact_lock = asyncio.Lock()  # one compaction at a time
        self._compact_scheduled = False  # a background compaction is queued or running
        self._compaction: asyncio.Task[None] | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()
        self._settled.set()
        self.idle_since = time.monotonic()
        self.closing = False
        self.failed = False

    # -- loading and committed state ------------------------------------------------

    async def load(self, seed_fields: dict[str, str] | None = None) -> None:
        """Read snapshot, log and client-id owners; a case without a log gets its fields seeded."""
        state = await self.store.load(self.case_id)
        parts = ([state.snapshot] if state.snapshot else []) + [d for _, d in state.updates]
        self.workspace = crdt.Workspace(*parts)
        self.committed = crdt.merge(parts) if parts else crdt.EMPTY_UPDATE
        self.last_seq = state.last_seq
        self.log_count = len(state.updates)
        self.log_bytes = sum(len(d) for _, d in state.updates)
        self.snapshot_bytes = len(state.snapshot or b"")
        self.owners.update(state.owners)
        if self.last_seq == 0 and seed_fields:
            self._claim_system(SEED_ACTOR)
            delta = self.workspace.set_fields(seed_fields)
            self.workspace.fields_changed = False
            if delta:
                try:
                    claims = self._take_claims()
                    self.last_seq = await self.store.append(
                        self.case_id, 1, [(delta, SEED_ACTOR)], claims=claims
                    )
                    self.tail.append(delta)
                    self.log_count += 1
                except SeqTaken:  # another instance seeded first: take its state
                    await self.load()

    def committed_state(self) -> bytes:
        """Everything committed, as one update."""
        if self.tail:
            self.committed = crdt.merge([self.committed, *self.tail])
            self.tail = []
        return self.committed

    def size(self) -> int:
        """Bytes the workspace occupies in the database (snapshot and log), plus what is queued.

        Queued includes the batch being committed: without it an update arriving during the
        commit of a large one was measured against a log that did not show it yet, and two
        15 MiB updates both fitted a 16 MiB workspace (test_limits, under load on PostgreSQL).
        """
        return self.snapshot_bytes + self.log_bytes + self.inflight_bytes + self.pending_bytes

    def rebuild(self) -> None:
        """Rebuild the document from the committed state and the in-flight and queued updates."""
        queued = [*self.inflight, *self.pending]
        self.workspace = crdt.Workspace(self.committed_state(), *(p.delta for p in queued))
        self.workspace.fields_changed = bool(queued)
        self.uncommitted = len(queued)

    # -- client ids ------------------------------------------------------------------

    def _claim_system(self, actor: str) -> None:
        """The server's own client id (edits made by the service) belongs to the system."""
        cid = self.workspace.client_id
        if cid not in self.owners:
            self.owners[cid] = actor
            self.new_owners[cid] = actor

    def _take_claims(self) -> list[tuple[int, str]]:
        claims, self.new_owners = list(self.new_owners.items()), {}
        return claims

    # -- clients ---------------------------------------------------------------------

    def join(self, conn: Connection) -> None:
        """Greet a new client with sync step 1 and the current awareness states."""
        self.connections.add(conn)
        conn.send(protocol.sync_step1(self.workspace.state_vector()))
        if self.peers:
            conn.send(self._all_awareness())

    def leave(self, conn: Connection) -> None:
        """Forget a client and tell the others that its cursor is gone."""
        self.connections.discard(conn)
        conn.held.clear()
        conn.held_bytes = 0
        cid = conn.awareness_id
        peer = self.peers.get(cid) if cid is not None else None
        if cid is not None and peer is not None and peer.conn is conn:
            del self.peers[cid]
            self._awareness_cache = None
            entry = protocol.AwarenessEntry(cid, peer.clock + 1, None)
            self._send_all(protocol.awareness_message(protocol.encode_awareness([entry])))
        if not self.connections:
            self.idle_since = time.monotonic()

    def receive(self, conn: Connection, data: bytes) -> None:
        """Handle one binary message; CloseConnection ends that client only."""
        try:
            message = protocol.parse(data)
        except protocol.ProtocolError as exc:
            raise CloseConnection(CLOSE_INVALID, f"malformed message: {exc}") from exc
        if conn.held:
            self._expire_held(conn)
        if message.kind == protocol.MESSAGE_SYNC:
            if message.step == protocol.SYNC_STEP1:
                try:
                    missing = crdt.diff_update(self.committed_state(), message.payload)
                except crdt.InvalidUpdate as exc:
                    raise CloseConnection(CLOSE_INVALID, "invalid state vector") from exc
                conn.send(protocol.sync_step2(missing))
            else:
                if not conn.allow_update():
                    raise CloseConnection(CLOSE_POLICY, "too many updates per second")
                self._apply_from(conn, message.payload)
        elif message.kind == protocol.MESSAGE_AWARENESS:
            self._awareness_from(conn, message.payload)
        elif message.kind == protocol.MESSAGE_AUTH:
            raise CloseConnection(CLOSE_INVALID, "auth messages are sent by the server only")
        elif conn.allow_query_awareness():  # query awareness; more often is ignored
            conn.send(self._all_awareness())

    # -- updates from clients ----------------------------------------------------------

    def _check(
        self, conn: Connection, update: bytes
    ) -> tuple[bytes, bool, list[ydecode.ClientRun]] | None:
        """Decide on an update before it touches the document.

        Returns (what is new, ready, its struct runs) or None if it brings nothing; `ready` is
        False when it needs content the room does not have yet. Raises CloseConnection when
        it is refused.
        """
        clocks = self.workspace.clocks()
        try:
            new = update
            shape = ydecode.shape(update)
            # a fresh edit (every struct run starts at or after the room's clock) is its own
            # missing part; only an update that repeats known content is sliced by the engine
            if any(r.start < clocks.get(r.client, 0) for r in shape.runs if r.end > r.start):
                new = self.workspace.missing(update)
                shape = ydecode.shape(new)
        except (crdt.InvalidUpdate, ydecode.UpdateFormatError) as exc:
            raise CloseConnection(CLOSE_INVALID, "update rejected by the CRDT engine") from exc
        if not conn.writable:
            # read-only: nothing new, nothing waiting, no deletion the room does not have
            deleted = self.workspace.deleted() if shape.deletes else {}
            if shape.adds or not all(
                ydecode.covered(deleted, c, k, k + n) for c, k, n in shape.deletes
            ):
                raise CloseConnection(CLOSE_FORBIDDEN, conn.read_only_reason)
            return None
        sub = conn.principal.sub
        # the clocks once this update is in: only the clients it adds to differ (not a copy
        # of the state vector per update, which grows with every client id the workspace saw)
        after: dict[int, int] = {}
        ready = True
        for run in shape.runs:
            if run.end <= run.start:
                continue
            owner = self.owners.get(run.client)
            if owner is None and run.client in clocks:
                owner = SYSTEM  # content from before the registry: nobody may continue it
            if owner is not None and owner != sub:
                raise CloseConnection(
                    CLOSE_FORBIDDEN, "update under a client id that belongs to someone else"
                )
            if run.contiguous and run.start <= clocks.get(run.client, 0):
                now = after.get(run.client, clocks.get(run.client, 0))
                after[run.client] = max(now, run.end)
            else:
                ready = False
        for client, clock in shape.needs:
            if clock >= after.get(client, clocks.get(client, 0)):
                ready = False
        for client, clock, length in shape.deletes:
            if clock + length > after.get(client, clocks.get(client, 0)):
                if client in self.owners or client in clocks:
                    raise CloseConnection(
                        CLOSE_FORBIDDEN, "deletes content that does not exist (yet)"
                    )
                ready = False
        if not shape.adds and ready:
            deleted = self.workspace.deleted() if shape.deletes else {}
            if all(ydecode.covered(deleted, c, k, k + n) for c, k, n in shape.deletes):
                return None
        for run in shape.runs:
            if run.end > run.start and run.client not in self.owners:
                self.owners[run.client] = sub
                self.new_owners[run.client] = sub
        return new, ready, shape.runs

    def _apply_from(self, conn: Connection, update: bytes) -> None:
        if self.size() + len(update) > self.max_workspace_bytes:
            raise CloseConnection(CLOSE_WORKSPACE_FULL, "workspace size limit reached")
        checked = self._check(conn, update)
        if checked is None:
            return
        new, ready, runs = checked
        if not ready:
            self._hold(conn, new)
            return
        self._integrate(conn, new, runs)
        self._retry_held()

    def _integrate(
        self, conn: Connection, update: bytes, runs: list[ydecode.ClientRun] | None = None
    ) -> None:
        before = self.workspace.fields() if not conn.may_edit_fields else None
        version = self.workspace.fields_version
        try:
            delta = self.workspace.apply(update, runs)
        except crdt.InvalidUpdate as exc:
            if not exc.decode:
                self.rebuild()
            raise CloseConnection(CLOSE_INVALID, "update rejected by the CRDT engine") from exc
        if delta is None:
            return
        self._queue(Pending(delta, conn, conn.principal.sub))
        if before is not None and self.workspace.fields_version != version:
            self._revert_fields(conn, before)

    def _revert_fields(self, conn: Connection, before: dict[str, Any]) -> None:
        """A user without the right of PATCH /cases/{id} changed `fields`: undo it for all."""
        after = self.workspace.fields()
        changed = [k for k in crdt.FIELD_KEYS if before.get(k) != after.get(k)]  # projected keys
        if not changed:
            return
        self._claim_system(FIELD_GUARD_ACTOR)
        delta = self.workspace.restore_fields({k: before.get(k) for k in changed})
        if delta:
            self._queue(Pending(delta, None, FIELD_GUARD_ACTOR))
        log.warning(
            "collab: reverted fields %s of case %s changed by %s (no right to change the case)",
            ", ".join(changed),
            self.case_id,
            conn.principal.sub,
        )
        conn.send(
            protocol.permission_denied(
                "Angaben zum Vorgang dürfen Sie nicht ändern; Ihre Änderung wurde zurückgenommen. "
                "/ You may not change the case fields; your change was reverted: "
                + ", ".join(changed)
            )
        )

    def _queue(self, item: Pending) -> None:
        self.pending.append(item)
        self.pending_bytes += len(item.delta)
        self.uncommitted += 1
        now = time.monotonic()
        if now - self._rate_start >= 1.0:
            self._rate_previous = self._rate_count if now - self._rate_start < 2.0 else 0
            self._rate_start, self._rate_count = now, 0
        self._rate_count += 1
        if self._flush_task is None:
            self._settled.clear()
            self._flush_task = self._spawn(self._flush_loop())

    def _hold(self, conn: Connection, update: bytes) -> None:
        limit = conn.limits.max_pending_bytes
        if conn.held_bytes + len(update) > limit:
            conn.held.clear()
            conn.held_bytes = 0
            raise CloseConnection(CLOSE_POLICY, "too much content waiting for missing dependencies")
        conn.held.append((time.monotonic(), update))
        conn.held_bytes += len(update)
        self._holding = True

    def _expire_held(self, conn: Connection) -> None:
        if time.monotonic() - conn.held[0][0] > conn.limits.pending_seconds:
            conn.held.clear()
            conn.held_bytes = 0
            raise CloseConnection(CLOSE_POLICY, "missing dependencies did not arrive in time")

    def _retry_held(self) -> None:
        """Updates held for missing dependencies that are now complete get applied."""
        if not self._holding:  # the common case: nobody waits, no pass over the connections
            return
        progress = True
        while progress:
            progress = False
            for conn in self.connections:
                if not conn.held or conn.closed:
                    continue
                waiting, conn.held, conn.held_bytes = conn.held, [], 0
                for since, update in waiting:
                    try:
                        checked = self._check(conn, update)
                        if checked is None:
                            continue
                        if checked[1]:
                            self._integrate(conn, checked[0], checked[2])
                            progress = True
                        else:
                            conn.held.append((since, checked[0]))
                            conn.held_bytes += len(checked[0])
                    except CloseConnection as exc:
                        conn.held.clear()
                        conn.held_bytes = 0
                        conn.close(exc.code, exc.reason)
                        break
        self._holding = any(conn.held for conn in self.connections)

    async def restore(self, principal: Principal, state: bytes) -> bool:
        """Bring the content back to `state` as a new edit attributed to `principal`."""
        target = crdt.Workspace(state).to_json()
        with_fields = principal.has_any(FIELD_ROLES)
        self._claim_system(SYSTEM + "restore")
        version = self.workspace.fields_version
        delta = self.workspace.replace_content(target, with_fields=with_fields)
        if delta is None:
            return False
        self._queue(Pending(delta, None, principal.sub))
        await self.settle()
        if self._on_fields is not None and with_fields and self.workspace.fields_version != version:
            self._on_fields(self, principal)
        return True

    # -- awareness -------------------------------------------------------------------

    def _all_awareness(self) -> bytes:
        if self._awareness_cache is None:
            entries = [
                protocol.AwarenessEntry(cid, peer.clock, peer.state)
                for cid, peer in self.peers.items()
            ]
            self._awareness_cache = protocol.awareness_message(protocol.encode_awareness(entries))
        return self._awareness_cache

    def _awareness_from(self, conn: Connection, payload: bytes) -> None:
        try:
            entries = awareness.decode_own(payload, self.max_awareness_bytes)
        except awareness.TooMuch as exc:
            raise CloseConnection(CLOSE_POLICY, str(exc)) from exc
        except protocol.ProtocolError as exc:
            raise CloseConnection(CLOSE_INVALID, f"malformed awareness update: {exc}") from exc
        if not entries:
            return
        entry = entries[0]
        if conn.awareness_id is None:
            owner = self.owners.get(entry.client_id)
            taken = self.peers.get(entry.client_id)
            if (owner is not None and owner != conn.principal.sub) or taken is not None:
                return  # another user's id: not this connection's to set
            conn.awareness_id = entry.client_id
        elif entry.client_id != conn.awareness_id:
            return  # one state per connection
        cid = conn.awareness_id
        if entry.state is None:
            self.peers.pop(cid, None)
        else:
            entry.state = awareness.sanitise(entry.state, conn.principal, conn.role)
            self.peers[cid] = Peer(entry.clock, entry.state, conn)
        self._awareness_cache = None
        self._send_all(protocol.awareness_message(protocol.encode_awareness([entry])))

    def _send_all(self, frame: bytes) -> None:
        for conn in self.connections:
            conn.send(frame)

    # -- group commit ----------------------------------------------------------------

    async def settle(self) -> None:
        """Wait until everything queued so far is committed (or dropped on failure)."""
        while not self._settled.is_set():
            await self._settled.wait()

    def _window(self) -> float:
        """How long a commit waits for more updates: longer while the room is busy.

        Each commit costs the same whether it carries one update or ten (a transaction and a
        frame per client); at a few hundred updates a second a few milliseconds more per
        update let one commit and one frame carry several clients' edits.
        """
        busy = max(self._rate_count, self._rate_previous) >= self.busy_updates_per_second
        return self.busy_flush_interval if busy else self.flush_interval

    async def _flush_loop(self) -> None:
        try:
            while self.pending:
                window = self._window()
                if window:
                    await asyncio.sleep(window)
                batch, self.pending = self.pending, []
                self.inflight, self.inflight_bytes = batch, self.pending_bytes
                self.pending_bytes = 0
                await self._commit(batch)
        finally:
            self.inflight, self.inflight_bytes = [], 0
            self._flush_task = None
            self._settled.set()

    async def _commit(self, batch: list[Pending]) -> None:
        groups: dict[str, list[bytes]] = {}
        for item in batch:
            groups.setdefault(item.actor, []).append(item.delta)
        rows = [(crdt.merge(deltas), actor) for actor, deltas in groups.items()]
        merged = rows[0][0] if len(rows) == 1 else crdt.merge([r[0] for r in rows])
        first = self._commit_now(batch, rows, merged)
        if first is None:
            async with self.lock:
                claims = self._take_claims()
                started = time.perf_counter()
                first = await self._append(rows, batch, claims)
                if first is None:
                    return
                self._committed(batch, rows, merged, first, time.perf_counter() - started)
        slow = self._broadcast(batch, merged)
        if slow:
            await self._send_slow(slow)
        if self._publish is not None:
            await self._publish(self, first, first + len(rows) - 1, merged)
        if self._on_fields is not None and self.workspace.fields_changed:
            self.workspace.fields_changed = False
            writer = next(
                (i.conn.principal for i in reversed(batch) if i.conn and i.conn.may_edit_fields),
                None,
            )
            if writer is not None:
                self._on_fields(self, writer)
        if self.log_count >= self.compact_every or self.log_bytes >= self.compact_bytes:
            self._compact_soon()

    def _commit_now(
        self, batch: list[Pending], rows: list[tuple[bytes, str]], merged: bytes
    ) -> int | None:
        """The common commit, without a pause: the first sequence number, or None.

        Nothing else holds the log and the store can append right away (SQLite with its
        write lock free): no await from the check to the end, so the log lock need not be
        taken. Anything else (PostgreSQL, a held lock, a sequence number another instance
        took, a database error) goes the way with the lock, the retries and the catch-up.
        """
        if self.lock.locked():
            return None
        first = self.last_seq + 1
        claims = self._take_claims()
        started = time.perf_counter()
        try:
            done = self.store.append_now(self.case_id, first, rows, claims)
        except Exception:
            done = False
        if not done:
            self.new_owners = dict(claims)  # nothing ran since they were taken
            return None
        self._committed(batch, rows, merged, first, time.perf_counter() - started)
        return first

    def _committed(
        self,
        batch: list[Pending],
        rows: list[tuple[bytes, str]],
        merged: bytes,
        first: int,
        seconds: float,
    ) -> None:
        if self._on_commit is not None:
            self._on_commit(len(batch), seconds)
        self.last_seq = first + len(rows) - 1
        self.tail.append(merged)
        self.inflight, self.inflight_bytes = [], 0
        self.uncommitted -= len(batch)
        self.log_count += len(rows)
        self.log_bytes += sum(len(r[0]) for r in rows)

    async def _append(
        self, rows: list[tuple[bytes, str]], batch: list[Pending], claims: list[tuple[int, str]]
    ) -> int | None:
        for attempt, delay in enumerate((0.0, *COMMIT_RETRIES)):
            if delay:
                await asyncio.sleep(delay)
            first = self.last_seq + 1
            try:
                await self.store.append(self.case_id, first, rows, claims=claims)
                return first
            except SeqTaken:
                await self._catch_up_locked()
            except Exception as exc:
                log.warning(
                    "collab: commit of case %s failed (attempt %d): %s",
                    self.case_id,
                    attempt + 1,
                    exc.__class__.__name__,
                )
        log.error("collab: dropping %d uncommitted updates of case %s", len(batch), self.case_id)
        self.new_owners.update(dict(claims))
        self.inflight, self.inflight_bytes = [], 0
        self.rebuild()
        for conn in {i.conn for i in batch if i.conn is not None}:
            conn.close(CLOSE_INTERNAL, "the update log could not be written; reconnect")
        return None

    def _deliveries(self, batch: list[Pending], merged: bytes) -> list[tuple[Connection, bytes]]:
        """Who gets which frame: one merged frame for all, without a sole contributor's edits.

        A batch of one client's edits skips that client. A batch of several clients' edits
        goes to everyone as the same bytes (encoded once), their own edits included, as the
        y-websocket server does for every update: Yjs ignores structs it has, and a merge of
        "everything but mine" per contributor cost more CPU than the frames it saved.
        """
        contributors = {i.conn for i in batch if i.conn is not None}
        frame = protocol.sync_update(merged)
        if len(contributors) != 1:
            return [(conn, frame) for conn in self.connections]
        (sole,) = contributors
        out = [(conn, frame) for conn in self.connections if conn is not sole]
        others = [i.delta for i in batch if i.conn is not sole]  # e.g. a revert of its change
        if others and sole in self.connections:
            out.append((sole, protocol.sync_update(crdt.merge(others))))
        return out

    def _broadcast(self, batch: list[Pending], merged: bytes) -> list[tuple[Connection, bytes]]:
        """Send the batch: as one pre-encoded frame written straight to each client's socket
        where the server offers it (eakte/collab/wsprotocol); the deliveries that have to go
        through the ASGI send instead (`_send_slow`)."""
        frames: dict[int, bytes] = {}  # id(payload) -> its WebSocket frame, encoded once
        slow = []
        for conn, data in self._deliveries(batch, merged):
            frame = frames.get(id(data))
            if frame is None:
                frame = frames[id(data)] = binary_frame(data)
            if not conn.write_frame(frame):
                slow.append((conn, data))
        return slow

    async def _send_slow(self, slow: list[tuple[Connection, bytes]]) -> None:
        done = 0
        try:
            async with asyncio.timeout(SEND_STALL_SECONDS):
                for conn, data in slow:
                    await conn.send_now(data)
                    done += 1
        except TimeoutError:
            stalled = slow[done][0]
            log.warning("collab: closing %s: not reading its updates", stalled.principal.sub)
            stalled.close(CLOSE_POLICY, "client too slow to receive updates")
            for conn, data in slow[done + 1 :]:
                conn.send(data)

    # -- other instances ---------------------------------------------------------------

    def remote_update(self, first: int, last: int, data: bytes) -> bool:
        """Apply a committed update published by another instance; False on a gap."""
        if last <= self.last_seq:
            return True
        if first != self.last_seq + 1:
            return False
        self._apply_committed([data], last)
        return True

    def _apply_committed(self, updates: list[bytes], last_seq: int) -> None:
        deltas = []
        for data in updates:
            try:
                delta = self.workspace.apply(data)
            except crdt.InvalidUpdate:
                log.error("collab: a committed update of case %s does not apply", self.case_id)
                continue
            if delta:
                deltas.append(delta)
        self.tail.extend(updates)
        self.last_seq = max(self.last_seq, last_seq)
        if deltas:
            self._send_all(protocol.sync_update(crdt.merge(deltas)))
            self._retry_held()

    async def catch_up(self) -> None:
        """Read what other instances committed that this one has not seen."""
        async with self.lock:
            await self._catch_up_locked()

    async def _catch_up_locked(self) -> None:
        state = await self.store.load(self.case_id, after=self.last_seq)
        self.owners.update(state.owners)
        updates = ([state.snapshot] if state.snapshot else []) + [d for _, d in state.updates]
        if state.snapshot:
            self.log_count = 0
            self.log_bytes = 0
            self.snapshot_bytes = len(state.snapshot)
        self.log_count += len(state.updates)
        self.log_bytes += sum(len(d) for _, d in state.updates)
        if updates:
            self._apply_committed(updates, state.last_seq)

    # -- compaction and shutdown ---------------------------------------------------------

    def _compact_soon(self) -> None:
        """Compact in the background: the flush loop goes on committing meanwhile.

        A compaction reads and merges the log it folds (tens of milliseconds for a busy
        room); awaited in the flush loop it held every update arriving meanwhile back (the
        p99 latency of bench/collab's steady workload was the compactions).
        """
        if self._compact_scheduled:
            return
        self._compact_scheduled = True

        async def run() -> None:
            try:
                await self.compact()
            finally:
                self._compact_scheduled = False

        self._compaction = self._spawn(run())

    async def compact(self) -> None:
        """Merge the committed log into the snapshot and the attributed history.

        The log lock is held only while the snapshot is taken (normally without a pause:
        the document is the committed state right after a commit), not for the database
        work: commits go on, and the rows they add come after `seq`.
        """
        async with self._compact_lock:
            async with self.lock:
                if self.log_count == 0:
                    return
                seq, rows, size = self.last_seq, self.log_count, self.log_bytes
                if self.tail and self.uncommitted == 0:
                    # the document is exactly the committed state: encoding it is far cheaper
                    # than merging snapshot and log (which decodes every update again)
                    self.committed = self.workspace.diff()
                    self.tail = []
                data = self.committed
                if self.tail:
                    # committed and tail stay as they are while the merge runs: a sync step 1
                    # meanwhile answers from them, and other instances' commits extend the tail
                    data = await asyncio.to_thread(crdt.merge, [self.committed, *self.tail])
            try:
                await self.store.compact(
                    self.case_id,
                    seq,
                    data,
                    tenant=self.tenant,
                    window_seconds=self.history_window,
                )
            except Exception as exc:
                log.warning("collab: compaction of case %s failed: %s", self.case_id, exc)
                return
            # what was committed after `seq` stays in the log (and counts towards the next)
            self.log_count = max(0, self.log_count - rows)
            self.log_bytes = max(0, self.log_bytes - size)
            self.snapshot_bytes = len(data)

    async def close(self) -> None:
        """Flush what is queued and compact the log (before unloading)."""
        self.closing = True
        await self.settle()
        await self.compact()
