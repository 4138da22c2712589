"""The update log on SQLite (commit on the loop or the writer thread) and the room's clocks."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import uuid
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from eakte.audit.models import AuditEvent
from eakte.collab import crdt, history, ydecode
from eakte.collab.models import CollabHistory
from eakte.collab.store import LogStore
from support import TENANT_A


async def test_an_append_while_another_writer_holds_the_lock_waits_for_it_and_is_kept(
    db: Any, new_case: Any
) -> None:
    if db.backend != "sqlite":
        pytest.skip("the SQLite writer path; PostgreSQL appends through the service's engine")
    case_id = uuid.UUID(str((await new_case())["id"]))
    store = LogStore(db)
    try:
        await store.append(case_id, 1, [(b"\x00\x00", "a@x")])  # the first one sets up the file
        await store.append(case_id, 2, [(b"\x00\x00", "a@x")])  # on the loop: nobody holds it
        other = sqlite3.connect(make_url(db.urls.sync_url).database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # e.g. the service's engine writing a case
        task = asyncio.create_task(store.append(case_id, 3, [(b"\x00\x00", "b@x")]))
        for _ in range(20):  # the loop keeps running while the append waits for the lock
            await asyncio.sleep(0)
        assert not task.done()
        other.execute("COMMIT")
        other.close()
        assert await task == 3
        state = await store.load(case_id)
        assert [seq for seq, _ in state.updates] == [1, 2, 3]
    finally:
        store.close()


def test_the_rooms_clocks_follow_every_change_of_its_document() -> None:
    """The state vector kept per transaction equals the document's, edit after edit.

    Half of the client edits go in as the room applies a checked update (with its runs,
    no observer: the update is the change), half observed; the changes returned, replayed
    in a fresh document, give the same content.
    """
    rng = random.Random(17)
    workspace = crdt.Workspace()
    replay = Doc()
    workspace.clocks()
    peers = [Doc(client_id=rng.getrandbits(32)) for _ in range(4)]
    for step in range(600):
        peer = rng.choice(peers)
        peer.apply_update(workspace.diff(bytes(peer.get_state())))
        before = peer.get_state()
        roll = rng.random()
        if roll < 0.4:
            text = peer.get("notes", type=Text)
            if len(text) and rng.random() < 0.3:
                del text[0 : rng.randint(1, len(text))]
            else:
                text.insert(rng.randint(0, len(text)), "Vermerk ")
        elif roll < 0.7:
            peer.get("fields", type=Map)[rng.choice(["title", "description"])] = str(step)
        else:
            items = peer.get("checklist", type=Array)
            if len(items) and rng.random() < 0.3:
                del items[0]
            else:
                items.append(Map({"text": "Statik prüfen", "done": False}))
        if rng.random() < 0.1:
            server_edit = workspace.set_fields({"title": f"Server {step}"})  # its own edits
            if server_edit:
                replay.apply_update(server_edit)
        update = peer.get_update(before)
        checked = rng.random() < 0.5
        change = workspace.apply(update, ydecode.shape(update).runs if checked else None)
        if checked:
            assert change == update
        if change:
            replay.apply_update(change)
        assert workspace.clocks() == ydecode.decode_state_vector(workspace.state_vector())
        if rng.random() < 0.02:
            peers.append(Doc(client_id=rng.getrandbits(32)))
    assert crdt.Workspace(replay.get_update()).to_json() == workspace.to_json()


async def test_two_compactions_of_one_log_fold_it_into_the_history_once(
    db: Any, new_case: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compaction reads and merges outside its write transaction; when another compaction
    of the case comes between, it writes nothing (no history row, no audit event twice)."""
    case_id = uuid.UUID(str((await new_case())["id"]))
    store = LogStore(db)
    doc = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    for i in range(6):
        doc.get("notes", type=Text).insert(0, f"Vermerk {i} ")
    try:
        for seq, update in enumerate(updates, start=1):
            await store.append(case_id, seq, [(update, "alice@augsburg")])
        reading, go_on = asyncio.Event(), asyncio.Event()
        prepare = history.prepare

        async def held(*args: Any, **kwargs: Any) -> list[history.Row]:
            rows = await prepare(*args, **kwargs)
            if not reading.is_set():  # the first compaction stops after its read phase
                reading.set()
                await go_on.wait()
            return rows

        monkeypatch.setattr(history, "prepare", held)
        state = bytes(doc.get_update())
        first = asyncio.create_task(store.compact(case_id, 4, state, tenant=TENANT_A))
        await reading.wait()
        assert await store.compact(case_id, 6, state, tenant=TENANT_A) is True
        go_on.set()
        assert await first is False  # the other one came between its read and its write
        async with db.session(write=False) as session:
            rows = (
                await session.scalars(select(CollabHistory).where(CollabHistory.case_id == case_id))
            ).all()
            edited = await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.case_id == case_id, AuditEvent.action == history.EDITED)
            )
        assert [(r.actor, r.first_seq, r.last_seq, r.updates) for r in rows] == [
            ("alice@augsburg", 1, 6, 6)
        ]
        assert edited == 1
        assert (await store.load(case_id)).updates == []
    finally:
        store.close()


def test_a_merge_of_hundreds_of_updates_holds_every_edit() -> None:
    """crdt.merge merges in rounds (MERGE_FAN_IN at a time): the result is every update,
    whatever the order they were committed in and however many there are."""
    rng = random.Random(5)
    peers = [Doc(client_id=rng.getrandbits(32)) for _ in range(5)]
    updates: list[bytes] = []
    for peer in peers:
        peer.observe(lambda event: updates.append(event.update))
    for step in range(700):
        peer = rng.choice(peers)
        if rng.random() < 0.3:  # some edits build on others' (origins of other clients)
            other = rng.choice(peers)
            peer.apply_update(other.get_update(peer.get_state()))
        text = peer.get("notes", type=Text)
        text.insert(rng.randint(0, len(text)), f"{step} ")
    assert len(updates) > 3 * crdt.MERGE_FAN_IN
    whole = Doc()
    for update in updates:
        whole.apply_update(update)
    merged = crdt.merge(list(updates))
    assert crdt.Workspace(merged).to_json() == crdt.Workspace(whole.get_update()).to_json()
    assert crdt.merge(updates[:1]) == updates[0]
