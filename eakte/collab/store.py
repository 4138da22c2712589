"""Reading and writing a case's update log and snapshot (one transaction per call)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from eakte.collab import history
from eakte.collab.models import CollabClient, CollabSnapshot, CollabUpdate
from eakte.db import Database, utcnow


class SeqTaken(Exception):
    """Another instance committed that sequence number first; catch up and retry."""


@dataclass
class LogState:
    """What the database holds for a case: the snapshot and the updates after it."""

    snapshot: bytes | None
    snapshot_seq: int
    updates: list[tuple[int, bytes]]
    owners: dict[int, str] = field(default_factory=dict)  # Yjs client id -> user

    @property
    def last_seq(self) -> int:
        return self.updates[-1][0] if self.updates else self.snapshot_seq


INLINE_BYTES = 64 * 1024  # larger batches are written on the writer thread
CHECKPOINT_EVERY = 256  # inline commits between two WAL checkpoints (on the writer thread)


ROWS_PER_STATEMENT = 64  # rows are one per user in a commit; more go row by row


@contextlib.contextmanager
def _seq_taken(first_seq: int) -> Iterator[None]:
    """A primary-key conflict in the log is another instance's commit of that number."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "FOREIGN KEY" in str(exc):
            raise
        raise SeqTaken(str(first_seq)) from exc


@functools.cache
def _insert_rows(count: int) -> str:
    """One INSERT of `count` log rows."""
    values = ", ".join(["(?, ?, ?, ?, ?)"] * count)
    return f"INSERT INTO collab_updates (case_id, seq, data, actor, created_at) VALUES {values}"


class SQLiteAppender:
    """Group commits on SQLite without an ORM session, mostly without a thread hop.

    The log append is the hot path: one `INSERT` of the batch's rows (a transaction of its
    own; with new client-id claims `BEGIN IMMEDIATE; INSERT …; INSERT …; COMMIT`) on a plain
    sqlite3 connection (WAL, synchronous=NORMAL like the service's engine). A small batch is
    committed right on the event loop: in WAL mode with synchronous=NORMAL a commit appends a
    few pages to the WAL (no fsync), tens of microseconds, less than handing it to a thread
    and waking the loop again (a third of the steady-state CPU, bench/collab). That
    connection never waits: its busy timeout is 0, so a lock held by anyone else (the
    service's engine, another process) sends the batch to the writer thread, which waits as
    long as needed; and it never checkpoints (`wal_autocheckpoint=0`, the fsync of a
    checkpoint could take milliseconds): the writer thread checkpoints every
    CHECKPOINT_EVERY inline commits. Batches over INLINE_BYTES always go to the thread.
    The commit has happened when `append` returns, either way.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collab-log")
        self._conn: sqlite3.Connection | None = None  # the writer thread's
        self._inline: sqlite3.Connection | None = None  # the event loop's
        self._since_checkpoint = 0
        self._checkpointing = False

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    def _inline_connection(self) -> sqlite3.Connection | None:
        """The event loop's connection, once the writer thread has put the file in WAL mode."""
        if self._inline is None and self._conn is not None:
            conn = sqlite3.connect(
                self.path, timeout=0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._inline = conn
        return self._inline

    @staticmethod
    def _write(
        conn: sqlite3.Connection,
        rows: list[tuple[str, int, bytes, str, str]],
        claims: list[tuple[str, int, str, str]],
    ) -> None:
        if not claims and len(rows) <= ROWS_PER_STATEMENT:
            # one statement is one transaction (the connection is in autocommit mode): the
            # common batch costs one call into SQLite instead of BEGIN, INSERT and COMMIT
            conn.execute(_insert_rows(len(rows)), [v for row in rows for v in row])
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(_insert_rows(1), rows)
            conn.executemany(
                "INSERT OR IGNORE INTO collab_clients (case_id, client_id, owner, created_at) "
                "VALUES (?, ?, ?, ?)",
                claims,
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _append(
        self, rows: list[tuple[str, int, bytes, str, str]], claims: list[tuple[str, int, str, str]]
    ) -> None:
        self._write(self._connection(), rows, claims)

    def _try_inline(
        self, rows: list[tuple[str, int, bytes, str, str]], claims: list[tuple[str, int, str, str]]
    ) -> bool:
        """Commit on the calling thread if no one holds the write lock; False if someone does."""
        conn = self._inline_connection()
        if conn is None:  # the first batch goes to the thread, which sets up the file
            return False
        try:
            self._write(conn, rows, claims)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return False
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY and not self._checkpointing:
            self._since_checkpoint = 0
            self._checkpointing = True
            self._executor.submit(self._checkpoint)
        return True

    def _checkpoint(self) -> None:
        try:
            self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass  # the next one (or any other connection's auto-checkpoint) catches up
        finally:
            self._checkpointing = False

    @staticmethod
    def _values(
        case_id: uuid.UUID,
        first_seq: int,
        rows: list[tuple[bytes, str]],
        claims: list[tuple[int, str]],
    ) -> tuple[list[tuple[str, int, bytes, str, str]], list[tuple[str, int, str, str]]]:
        # the text SQLAlchemy's DateTime stores on SQLite ("YYYY-MM-DD HH:MM:SS.ffffff")
        created = utcnow().replace(tzinfo=None).isoformat(" ", "microseconds")
        case = case_id.hex
        values = [
            (case, first_seq + i, data, actor[:200], created)
            for i, (data, actor) in enumerate(rows)
        ]
        return values, [(case, cid, owner[:200], created) for cid, owner in claims]

    def append_now(
        self,
        case_id: uuid.UUID,
        first_seq: int,
        rows: list[tuple[bytes, str]],
        claims: list[tuple[int, str]],
    ) -> bool:
        """Commit on the calling thread (the event loop) if that cannot wait; False if not.

        False: someone holds the write lock, the batch is over INLINE_BYTES, or the writer
        thread has not set up the file yet; `append` then commits on the writer thread.
        """
        if not self._fits_inline(rows):
            return False
        values, owners = self._values(case_id, first_seq, rows, claims)
        with _seq_taken(first_seq):
            return self._try_inline(values, owners)

    def _fits_inline(self, rows: list[tuple[bytes, str]]) -> bool:
        return sum(len(data) for data, _ in rows) <= INLINE_BYTES

    async def append(
        self,
        case_id: uuid.UUID,
        first_seq: int,
        rows: list[tuple[bytes, str]],
        claims: list[tuple[int, str]],
    ) -> None:
        values, owners = self._values(case_id, first_seq, rows, claims)
        with _seq_taken(first_seq):
            if self._fits_inline(rows) and self._try_inline(values, owners):
                return
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._append, values, owners)

    def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(_close).result()
        self._executor.shutdown()
        if self._inline is not None:
            self._inline.close()
            self._inline = None


class LogStore:
    """The update log of every case, over the service's database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.fast: SQLiteAppender | None = None
        if db.backend == "sqlite":
            path = make_url(db.urls.sync_url).database
            if path and path != ":memory:":
                self.fast = SQLiteAppender(path)

    def close(self) -> None:
        """Release the writer thread."""
        if self.fast is not None:
            self.fast.close()
            self.fast = None

    async def load(self, case_id: uuid.UUID, *, after: int = 0) -> LogState:
        """The snapshot (if newer than `after`) and the updates after `after` and it."""
        async with self.db.session(write=False) as session:
            row = (
                await session.execute(
                    select(CollabSnapshot.seq, CollabSnapshot.data).where(
                        CollabSnapshot.case_id == case_id
                    )
                )
            ).first()
            snapshot, snapshot_seq = (None, 0)
            if row is not None and row.seq > after:
                snapshot, snapshot_seq = bytes(row.data), row.seq
            start = max(after, snapshot_seq)
            rows = await session.execute(
                select(CollabUpdate.seq, CollabUpdate.data)
                .where(CollabUpdate.case_id == case_id, CollabUpdate.seq > start)
                .order_by(CollabUpdate.seq)
            )
            updates = [(seq, bytes(data)) for seq, data in rows]
            owned = await session.execute(
                select(CollabClient.client_id, CollabClient.owner).where(
                    CollabClient.case_id == case_id
                )
            )
            owners = {int(cid): owner for cid, owner in owned}
        return LogState(snapshot, snapshot_seq if snapshot is not None else after, updates, owners)

    async def last_seq(self, case_id: uuid.UUID) -> int:
        """The newest committed sequence number (0 for none)."""
        async with self.db.session(write=False) as session:
            newest = await session.scalar(
                select(func.max(CollabUpdate.seq)).where(CollabUpdate.case_id == case_id)
            )
            snap = await session.scalar(
                select(CollabSnapshot.seq).where(CollabSnapshot.case_id == case_id)
            )
        return max(newest or 0, snap or 0)

    def append_now(
        self,
        case_id: uuid.UUID,
        first_seq: int,
        rows: list[tuple[bytes, str]],
        claims: list[tuple[int, str]],
    ) -> bool:
        """Commit without waiting, where the database allows it (SQLite, write lock free).

        False when it cannot (PostgreSQL, a held lock, a large batch): use `append`.
        Raises SeqTaken as `append` does.
        """
        return self.fast is not None and self.fast.append_now(case_id, first_seq, rows, claims)

    async def append(
        self,
        case_id: uuid.UUID,
        first_seq: int,
        rows: list[tuple[bytes, str]],
        *,
        claims: list[tuple[int, str]] | None = None,
    ) -> int:
        """Insert `rows` (data, actor) as first_seq, first_seq+1, … in one transaction.

        `claims` (client id, owner) are recorded in the same transaction (first claim wins).
        """
        claims = claims or []
        if self.fast is not None:
            await self.fast.append(case_id, first_seq, rows, claims)
            return first_seq + len(rows) - 1
        now = utcnow()
        values = [
            {
                "case_id": case_id,
                "seq": first_seq + i,
                "data": data,
                "actor": actor[:200],
                "created_at": now,
            }
            for i, (data, actor) in enumerate(rows)
        ]
        try:
            async with self.db.session(write=True) as session:
                await session.execute(insert(CollabUpdate), values)
                for cid, owner in claims:
                    await self._claim(session, case_id, cid, owner, now)
        except IntegrityError as exc:
            raise SeqTaken(str(first_seq)) from exc
        return first_seq + len(rows) - 1

    async def _claim(
        self, session: Any, case_id: uuid.UUID, client_id: int, owner: str, now: Any
    ) -> None:
        values = {
            "case_id": case_id,
            "client_id": client_id,
            "owner": owner[:200],
            "created_at": now,
        }
        if self.db.backend == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            await session.execute(pg_insert(CollabClient).values(**values).on_conflict_do_nothing())
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            await session.execute(
                sqlite_insert(CollabClient).values(**values).on_conflict_do_nothing()
            )

    async def compact(
        self,
        case_id: uuid.UUID,
        seq: int,
        data: bytes,
        *,
        tenant: str | None = None,
        window_seconds: int = 300,
    ) -> bool:
        """Store `data` as the snapshot up to `seq` and drop the updates it covers.

        With `tenant`, the dropped updates are first folded into the attributed history
        (per user and time window) and the audit chain, in the same transaction. The log
        rows are read and merged in a read transaction first; the write transaction that
        follows only inserts, updates and deletes (a few milliseconds), so commits of the
        room wait at most that long (on SQLite every writer waits for the write lock).
        False if the snapshot is already at `seq` or later, or another compaction of the
        case came between the two transactions (the next compaction folds the rest).
        """
        async with self.db.session(write=False) as session:
            current_row = (
                await session.execute(
                    select(CollabSnapshot.seq, CollabSnapshot.data).where(
                        CollabSnapshot.case_id == case_id
                    )
                )
            ).first()
            current = current_row.seq if current_row is not None else None
            if current is not None and current >= seq:
                return False
            rows = (
                await history.prepare(
                    session,
                    case_id=case_id,
                    upto=seq,
                    baseline=bytes(current_row.data) if current_row is not None else None,
                    window_seconds=window_seconds,
                )
                if tenant is not None
                else []
            )
        now = utcnow()
        async with self.db.session(write=True) as session:
            query = select(CollabSnapshot.seq).where(CollabSnapshot.case_id == case_id)
            if self.db.backend == "postgresql":
                query = query.with_for_update()  # two instances compacting: one folds
            if await session.scalar(query) != current:
                return False
            if tenant is not None and rows:
                await history.record(
                    session,
                    tenant=tenant,
                    case_id=case_id,
                    rows=rows,
                    window_seconds=window_seconds,
                )
            if current is None:
                session.add(CollabSnapshot(case_id=case_id, seq=seq, data=data, updated_at=now))
                await session.flush()
            else:
                await session.execute(
                    update(CollabSnapshot)
                    .where(CollabSnapshot.case_id == case_id)
                    .values(seq=seq, data=data, updated_at=now)
                )
            await session.execute(
                delete(CollabUpdate).where(CollabUpdate.case_id == case_id, CollabUpdate.seq <= seq)
            )
        return True
