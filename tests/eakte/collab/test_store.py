"""The update log on SQLite (commit on the loop or the writer thread) and the room's clocks."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import uuid
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text
from sqlalchemy.engine import make_url

from eakte.collab import crdt, ydecode
from eakte.collab.store import LogStore


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
    """The state vector kept per transaction equals the document's, edit after edit."""
    rng = random.Random(17)
    workspace = crdt.Workspace()
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
            workspace.set_fields({"title": f"Server {step}"})  # the server's own edits
        workspace.apply(peer.get_update(before))
        assert workspace.clocks() == ydecode.decode_state_vector(workspace.state_vector())
        if rng.random() < 0.02:
            peers.append(Doc(client_id=rng.getrandbits(32)))
