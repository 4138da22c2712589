"""Who changed what in a workspace: attributed history that survives compaction, and restore.

When the log is compacted, its rows (each one user's merged edits of one group commit) are
folded per user and time window (`EAKTE_COLLAB_HISTORY_WINDOW_SECONDS`, default 5 minutes)
into `collab_history` rows, each with the sha256 of its merged update, and every such row
enters the tenant's audit chain as `workspace.edited` in the same transaction. A point of the
history is the state right after an entry: every entry before it (ordered by window, then
sequence number) and the entry itself. Content that was
compacted before this history existed forms one `system:baseline` row.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.auth.principal import Principal
from eakte.cases.models import Case
from eakte.collab import crdt
from eakte.collab.models import CollabHistory, CollabUpdate, CollabVersion
from eakte.db import Database
from eakte.errors import NotFound

BASELINE_ACTOR = "system:baseline"
EDITED = "workspace.edited"
RESTORED = "workspace.restored"


@dataclass(slots=True)
class _Group:
    actor: str
    start: datetime
    first_seq: int
    last_seq: int
    data: list[bytes]


@dataclass(slots=True)
class Row:
    """One history row to be written: a user's merged edits of one time window."""

    actor: str
    start: datetime
    first_seq: int
    last_seq: int
    count: int
    data: bytes


def _window(at: datetime, seconds: int) -> datetime:
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    epoch = int(at.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, tz=UTC)


async def prepare(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    upto: int,
    baseline: bytes | None,
    window_seconds: int,
) -> list[Row]:
    """The history rows that fold the log rows up to `upto` (read only; see `record`).

    Reading and merging happen outside the write transaction, so that a compaction holds
    the database's write lock (on SQLite: every writer's) only for its inserts.
    """
    rows = (
        await session.execute(
            select(CollabUpdate.seq, CollabUpdate.actor, CollabUpdate.created_at, CollabUpdate.data)
            .where(CollabUpdate.case_id == case_id, CollabUpdate.seq <= upto)
            .order_by(CollabUpdate.seq)
        )
    ).all()
    if not rows:
        return []
    has_history = await session.scalar(
        select(CollabHistory.id).where(CollabHistory.case_id == case_id).limit(1)
    )
    out: list[Row] = []
    if has_history is None and baseline and rows[0].seq > 1:
        # compacted before the history existed: that content is the baseline (not audited)
        out.append(Row(BASELINE_ACTOR, rows[0].created_at, 0, 0, 0, baseline))
    groups: dict[tuple[str, datetime], _Group] = {}
    for seq, actor, created_at, data in rows:
        key = (actor, _window(created_at, window_seconds))
        group = groups.get(key)
        if group is None:
            groups[key] = _Group(actor, key[1], seq, seq, [bytes(data)])
        else:
            group.last_seq = seq
            group.data.append(bytes(data))
    for group in sorted(groups.values(), key=lambda g: (g.start, g.first_seq)):
        out.append(
            Row(
                group.actor,
                group.start,
                group.first_seq,
                group.last_seq,
                len(group.data),
                crdt.merge(group.data),
            )
        )
    return out


async def record(
    session: AsyncSession, *, tenant: str, case_id: uuid.UUID, rows: list[Row], window_seconds: int
) -> None:
    """Write the prepared history rows and their audit events (`workspace.edited`)."""
    entries = [
        entry for row in rows if (entry := _add(session, case_id, row, window_seconds)) is not None
    ]
    # one lock of the chain head and one flush for all of them (a busy room compacts often)
    await audit.record_many(session, tenant=tenant, entries=entries)


def _add(
    session: AsyncSession, case_id: uuid.UUID, row: Row, window_seconds: int
) -> audit.Entry | None:
    """Add one history row; the audit entry that records it (None for the baseline)."""
    start = _window(row.start, window_seconds)
    end = start + timedelta(seconds=window_seconds)
    digest = hashlib.sha256(row.data).hexdigest()
    session.add(
        CollabHistory(
            case_id=case_id,
            actor=row.actor[:200],
            window_start=start,
            window_end=end,
            first_seq=row.first_seq,
            last_seq=row.last_seq,
            updates=row.count,
            data=row.data,
            sha256=digest,
        )
    )
    if row.actor == BASELINE_ACTOR:
        return None
    return audit.Entry(
        actor=row.actor[:200],
        action=EDITED,
        case_id=case_id,
        payload={
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "first_seq": row.first_seq,
            "last_seq": row.last_seq,
            "updates": row.count,
            "sha256": digest,
        },
    )


async def entries(
    session: AsyncSession,
    case_id: uuid.UUID,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
) -> list[CollabHistory]:
    """History rows of a case, oldest first, filtered by window and user."""
    query = select(CollabHistory).where(CollabHistory.case_id == case_id)
    if since is not None:
        query = query.where(CollabHistory.window_end > since)
    if until is not None:
        query = query.where(CollabHistory.window_start < until)
    if actor is not None:
        query = query.where(CollabHistory.actor == actor)
    rows = (await session.scalars(query)).all()
    return sorted(rows, key=_order)


def _order(row: CollabHistory) -> tuple[Any, ...]:
    return (row.window_start, row.first_seq)


async def states_around(
    session: AsyncSession, case_id: uuid.UUID, entry_id: uuid.UUID
) -> tuple[CollabHistory, bytes, bytes, bytes] | None:
    """An entry, the state before it, after it, and at the end of its window (all users)."""
    rows = sorted(
        (
            await session.scalars(select(CollabHistory).where(CollabHistory.case_id == case_id))
        ).all(),
        key=_order,
    )
    target = next((r for r in rows if r.id == entry_id), None)
    if target is None:
        return None
    index = rows.index(target)
    before = [bytes(r.data) for r in rows[:index]]
    point = [bytes(r.data) for r in rows if r.window_start <= target.window_start]
    return (
        target,
        crdt.merge(before),
        crdt.merge([*before, bytes(target.data)]),
        crdt.merge(point),
    )


def view(state: bytes) -> dict[str, Any]:
    """The workspace JSON of a state (what the history view shows)."""
    return crdt.Workspace(state).to_json()


class HistoryNotFound(NotFound):
    """No such history entry or named version in this case."""

    slug, title = "workspace-history-not-found", "Workspace history entry or version not found"


def _text(state: bytes) -> dict[str, Any]:
    data = view(state)
    return {k: data[k] for k in ("fields", "notes", "decision", "checklist", "conditions")}


async def list_entries(
    db: Database,
    hub: Any,
    case: Case,
    *,
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
) -> list[CollabHistory]:
    """Every edit so far (queued ones are committed and folded first), filtered."""
    await hub.fold_history(case)
    async with db.session(write=False) as session:
        return await entries(session, case.id, since=since, until=until, actor=actor)


async def view_entry(db: Database, hub: Any, case: Case, entry_id: uuid.UUID) -> dict[str, Any]:
    """One entry with the workspace before and after it and at the end of its window."""
    await hub.fold_history(case)
    async with db.session(write=False) as session:
        found = await states_around(session, case.id, entry_id)
    if found is None:
        raise HistoryNotFound(
            "Kein solcher Eintrag im Verlauf dieses Vorgangs. / No such history entry in this case."
        )
    entry, before, after, point = found
    return {
        "entry": entry,
        "before": _text(before),
        "after": _text(after),
        "at_window_end": _text(point),
    }


async def restore(
    db: Database,
    hub: Any,
    principal: Principal,
    case: Case,
    *,
    history_id: uuid.UUID | None = None,
    version_id: uuid.UUID | None = None,
) -> tuple[bool, int, str]:
    """Restore a point of the history or a named version as a new, attributed, audited edit."""
    if (history_id is None) == (version_id is None):
        raise ValueError("give exactly one of history_id and version_id")
    await hub.fold_history(case)
    async with db.session(write=False) as session:
        if history_id is not None:
            found = await states_around(session, case.id, history_id)
            state = found[2] if found is not None else None  # the point right after it
        else:
            state = await session.scalar(
                select(CollabVersion.state).where(
                    CollabVersion.id == version_id, CollabVersion.case_id == case.id
                )
            )
    if state is None:
        raise HistoryNotFound(
            "Kein solcher Stand in diesem Vorgang. / No such point or version in this case."
        )
    state = bytes(state)
    room = await hub.room(case)
    changed = await room.restore(principal, state)
    digest = hashlib.sha256(state).hexdigest()
    async with db.session(write=True) as session:
        await audit.record(
            session,
            tenant=case.tenant_id,
            actor=principal,
            action=RESTORED,
            case_id=case.id,
            payload={
                "history_id": str(history_id) if history_id else None,
                "version_id": str(version_id) if version_id else None,
                "restored_sha256": digest,
                "seq": room.last_seq,
                "changed": changed,
            },
        )
    return changed, room.last_seq, digest
