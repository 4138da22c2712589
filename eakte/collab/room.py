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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from eakte.auth.principal import Principal
from eakte.collab import crdt, protocol
from eakte.collab.connection import (
    CLOSE_FORBIDDEN,
    CLOSE_INTERNAL,
    CLOSE_INVALID,
    CLOSE_POLICY,
    CloseConnection,
    Connection,
)
from eakte.collab.store import LogStore, SeqTaken

log = logging.getLogger("eakte.collab")

SEED_ACTOR = "system:case"
COMMIT_RETRIES = (0.05, 0.2, 0.5, 1.0)
SEND_STALL_SECONDS = 2.0  # a broadcast waits this long for one client's full socket buffer
MAX_PAIRWISE = 8  # contributors beyond this get the whole merged batch (own edits included)


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
    ) -> None:
        self.case_id = case_id
        self.tenant = tenant
        self.store = store
        self.flush_interval = flush_interval
        self.compact_every = compact_every
        self.compact_bytes = compact_bytes
        self._publish = publish
        self._on_fields = on_fields
        self.workspace = crdt.Workspace()
        self.committed = crdt.EMPTY_UPDATE  # merged committed state, without `tail`
        self.tail: list[bytes] = []
        self.last_seq = 0
        self.log_count = 0  # updates in the database after the snapshot
        self.log_bytes = 0
        self.pending: list[Pending] = []
        self.connections: set[Connection] = set()
        self.peers: dict[int, Peer] = {}
        self.lock = asyncio.Lock()  # one writer of the log per room and instance
        self._flush_task: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()
        self._settled.set()
        self.idle_since = time.monotonic()
        self.closing = False
        self.failed = False

    # -- loading and committed state ------------------------------------------------

    async def load(self, seed_fields: dict[str, str] | None = None) -> None:
        """Read snapshot and log; a case without any log gets its fields seeded."""
        state = await self.store.load(self.case_id)
        parts = ([state.snapshot] if state.snapshot else []) + [d for _, d in state.updates]
        self.workspace = crdt.Workspace(*parts)
        self.committed = crdt.merge(parts) if parts else crdt.EMPTY_UPDATE
        self.last_seq = state.last_seq
        self.log_count = len(state.updates)
        self.log_bytes = sum(len(d) for _, d in state.updates)
        if self.last_seq == 0 and seed_fields:
            delta = self.workspace.set_fields(seed_fields)
            self.workspace.fields_changed = False
            if delta:
                try:
                    self.last_seq = await self.store.append(self.case_id, 1, [(delta, SEED_ACTOR)])
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

    def rebuild(self) -> None:
        """Rebuild the document from the committed state and the queued updates."""
        self.workspace = crdt.Workspace(self.committed_state(), *(p.delta for p in self.pending))
        self.workspace.fields_changed = bool(self.pending)

    # -- clients ---------------------------------------------------------------------

    def join(self, conn: Connection) -> None:
        """Greet a new client with sync step 1 and the current awareness states."""
        self.connections.add(conn)
        conn.send(protocol.sync_step1(self.workspace.state_vector()))
        if self.peers:
            conn.send(protocol.awareness_message(self._awareness_of(list(self.peers))))

    def leave(self, conn: Connection) -> None:
        """Forget a client and tell the others that its cursors are gone."""
        self.connections.discard(conn)
        gone = [cid for cid in conn.awareness_ids if cid in self.peers]
        if gone:
            entries = []
            for cid in gone:
                peer = self.peers.pop(cid)
                entries.append(protocol.AwarenessEntry(cid, peer.clock + 1, None))
            self._send_all(protocol.awareness_message(protocol.encode_awareness(entries)))
        if not self.connections:
            self.idle_since = time.monotonic()

    def receive(self, conn: Connection, data: bytes) -> None:
        """Handle one binary message; CloseConnection ends that client only."""
        try:
            message = protocol.parse(data)
        except protocol.ProtocolError as exc:
            raise CloseConnection(CLOSE_INVALID, f"malformed message: {exc}") from exc
        if message.kind == protocol.MESSAGE_SYNC:
            if message.step == protocol.SYNC_STEP1:
                try:
                    missing = crdt.diff_update(self.committed_state(), message.payload)
                except crdt.InvalidUpdate as exc:
                    raise CloseConnection(CLOSE_INVALID, "invalid state vector") from exc
                conn.send(protocol.sync_step2(missing))
            else:
                self._apply_from(conn, message.payload)
        elif message.kind == protocol.MESSAGE_AWARENESS:
            self._awareness_from(conn, message.payload)
        else:  # query awareness
            conn.send(protocol.awareness_message(self._awareness_of(list(self.peers))))

    def _apply_from(self, conn: Connection, update: bytes) -> None:
        try:
            delta = self.workspace.apply(update)
        except crdt.InvalidUpdate as exc:
            if not exc.decode:
                self.rebuild()
            raise CloseConnection(CLOSE_INVALID, "update rejected by the CRDT engine") from exc
        if delta is None:
            return
        if not conn.writable:
            self.rebuild()
            raise CloseConnection(CLOSE_FORBIDDEN, "read-only role: changes are not accepted")
        self.pending.append(Pending(delta, conn, conn.principal.sub))
        if self._flush_task is None:
            self._settled.clear()
            self._flush_task = asyncio.create_task(self._flush_loop())

    # -- awareness -------------------------------------------------------------------

    def _awareness_of(self, client_ids: list[int]) -> bytes:
        entries = [
            protocol.AwarenessEntry(cid, self.peers[cid].clock, self.peers[cid].state)
            for cid in client_ids
            if cid in self.peers
        ]
        return protocol.encode_awareness(entries)

    def _awareness_from(self, conn: Connection, payload: bytes) -> None:
        try:
            entries = protocol.decode_awareness(payload)
        except protocol.ProtocolError as exc:
            raise CloseConnection(CLOSE_INVALID, f"malformed awareness update: {exc}") from exc
        accepted = []
        for entry in entries:
            peer = self.peers.get(entry.client_id)
            if peer is not None and peer.conn is not conn:
                continue  # another client's id: not this connection's to change
            if entry.state is not None:
                entry.state = {
                    **entry.state,
                    "user": {
                        **(
                            entry.state.get("user")
                            if isinstance(entry.state.get("user"), dict)
                            else {}
                        ),
                        "name": conn.principal.name,
                        "role": conn.role,
                    },
                }
                self.peers[entry.client_id] = Peer(entry.clock, entry.state, conn)
                conn.awareness_ids.add(entry.client_id)
            else:
                self.peers.pop(entry.client_id, None)
                conn.awareness_ids.discard(entry.client_id)
            accepted.append(entry)
        if accepted:
            self._send_all(protocol.awareness_message(protocol.encode_awareness(accepted)))

    def _send_all(self, frame: bytes) -> None:
        for conn in self.connections:
            conn.send(frame)

    # -- group commit ----------------------------------------------------------------

    async def settle(self) -> None:
        """Wait until everything queued so far is committed (or dropped on failure)."""
        while not self._settled.is_set():
            await self._settled.wait()

    async def _flush_loop(self) -> None:
        try:
            while self.pending:
                if self.flush_interval:
                    await asyncio.sleep(self.flush_interval)
                batch, self.pending = self.pending, []
                await self._commit(batch)
        finally:
            self._flush_task = None
            self._settled.set()

    async def _commit(self, batch: list[Pending]) -> None:
        groups: dict[str, list[bytes]] = {}
        for item in batch:
            groups.setdefault(item.actor, []).append(item.delta)
        rows = [(crdt.merge(deltas), actor) for actor, deltas in groups.items()]
        merged = rows[0][0] if len(rows) == 1 else crdt.merge([r[0] for r in rows])
        async with self.lock:
            first = await self._append(rows, batch)
            if first is None:
                return
            last = first + len(rows) - 1
            self.last_seq = last
            self.tail.append(merged)
            self.log_count += len(rows)
            self.log_bytes += sum(len(r[0]) for r in rows)
        await self._broadcast(batch, merged)
        if self._publish is not None:
            await self._publish(self, first, last, merged)
        if self._on_fields is not None and self.workspace.fields_changed:
            self.workspace.fields_changed = False
            writer = next((i.conn.principal for i in reversed(batch) if i.conn), None)
            if writer is not None:
                self._on_fields(self, writer)
        if self.log_count >= self.compact_every or self.log_bytes >= self.compact_bytes:
            await self.compact()

    async def _append(self, rows: list[tuple[bytes, str]], batch: list[Pending]) -> int | None:
        for attempt, delay in enumerate((0.0, *COMMIT_RETRIES)):
            if delay:
                await asyncio.sleep(delay)
            first = self.last_seq + 1
            try:
                await self.store.append(self.case_id, first, rows)
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
        self.rebuild()
        for conn in {i.conn for i in batch if i.conn is not None}:
            conn.close(CLOSE_INTERNAL, "the update log could not be written; reconnect")
        return None

    def _deliveries(self, batch: list[Pending], merged: bytes) -> list[tuple[Connection, bytes]]:
        """Who gets which frame: the merged batch, without a client's own edits if cheap."""
        contributors = {i.conn for i in batch if i.conn is not None}
        frame = protocol.sync_update(merged)
        if len(contributors) <= 1 or len(contributors) > MAX_PAIRWISE:
            skip = contributors if len(contributors) == 1 else set()
            return [(conn, frame) for conn in self.connections if conn not in skip]
        out = []
        for conn in self.connections:
            if conn in contributors:
                others = [i.delta for i in batch if i.conn is not conn]
                if others:
                    out.append((conn, protocol.sync_update(crdt.merge(others))))
            else:
                out.append((conn, frame))
        return out

    async def _broadcast(self, batch: list[Pending], merged: bytes) -> None:
        deliveries = self._deliveries(batch, merged)
        done = 0
        try:
            async with asyncio.timeout(SEND_STALL_SECONDS):
                for conn, frame in deliveries:
                    await conn.send_now(frame)
                    done += 1
        except TimeoutError:
            stalled = deliveries[done][0]
            log.warning("collab: closing %s: not reading its updates", stalled.principal.sub)
            stalled.close(CLOSE_POLICY, "client too slow to receive updates")
            for conn, frame in deliveries[done + 1 :]:
                conn.send(frame)

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

    async def catch_up(self) -> None:
        """Read what other instances committed that this one has not seen."""
        async with self.lock:
            await self._catch_up_locked()

    async def _catch_up_locked(self) -> None:
        state = await self.store.load(self.case_id, after=self.last_seq)
        updates = ([state.snapshot] if state.snapshot else []) + [d for _, d in state.updates]
        if state.snapshot:
            self.log_count = 0
            self.log_bytes = 0
        self.log_count += len(state.updates)
        self.log_bytes += sum(len(d) for _, d in state.updates)
        if updates:
            self._apply_committed(updates, state.last_seq)

    # -- compaction and shutdown ---------------------------------------------------------

    async def compact(self) -> None:
        """Merge the log into the snapshot (only committed state)."""
        async with self.lock:
            if self.log_count == 0:
                return
            seq = self.last_seq
            if self.tail:
                parts = [self.committed, *self.tail]
                self.tail = []
                self.committed = await asyncio.to_thread(crdt.merge, parts)
            try:
                await self.store.compact(self.case_id, seq, self.committed)
            except Exception as exc:
                log.warning("collab: compaction of case %s failed: %s", self.case_id, exc)
                return
            self.log_count = 0
            self.log_bytes = 0

    async def close(self) -> None:
        """Flush what is queued and compact the log (before unloading)."""
        self.closing = True
        await self.settle()
        await self.compact()
