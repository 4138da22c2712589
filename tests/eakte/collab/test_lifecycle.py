"""Compaction, idle unload, SIGTERM flush and kill -9 durability with real server processes."""

from __future__ import annotations

import asyncio
import random
import re
import uuid

from collab_support import YClient, until
from conftest import process_env
from pycrdt import Text
from sqlalchemy import create_engine, func, select

from eakte.collab import crdt, history
from eakte.collab.models import CollabSnapshot, CollabUpdate
from eakte.db import database_urls

MARKER = re.compile(r"<(\w+):(\d+)>")


def log_rows(settings, case_id: str) -> tuple[int, int | None]:  # type: ignore[no-untyped-def]
    """(update rows, snapshot seq) of a case."""
    engine = create_engine(database_urls(settings.resolved_database_url()).sync_url)
    ident = uuid.UUID(case_id)
    with engine.connect() as conn:
        count = conn.scalar(
            select(func.count()).select_from(CollabUpdate).where(CollabUpdate.case_id == ident)
        )
        snap = conn.scalar(select(CollabSnapshot.seq).where(CollabSnapshot.case_id == ident))
    engine.dispose()
    return int(count or 0), snap


async def test_log_is_compacted_by_count(live_with, collab_settings, ycase, yclient) -> None:
    server = await live_with(collab_settings, collab_compact_every_updates=5)
    case_id = await ycase()
    editor = await yclient(server, case_id, "clerk")
    for i in range(23):
        await editor.edit(lambda d, i=i: d.get("notes", type=Text).insert(0, f"<a:{i}>"))
        await asyncio.sleep(0.01)

    def compacted() -> bool:
        rows, snap = log_rows(collab_settings, case_id)
        return snap is not None and snap >= 5 and rows < 5  # edits may share a group commit

    await until(compacted, what="the log compacted every 5 updates")
    fresh = await yclient(server, case_id, "auditor")
    # the log may compact before the last edits are committed: wait for them, lose none
    await until(
        lambda: len(MARKER.findall(fresh.text())) == 23, what="all 23 edits at a new reader"
    )


async def test_edits_are_delivered_while_the_log_is_being_compacted(
    live_with, collab_settings, ycase, yclient, monkeypatch
) -> None:
    """A compaction runs beside the commits: edits made while it reads and merges the log
    reach the other editors before it ends (it used to hold every update back), and when it
    ends the log is compacted and the history holds every edit."""
    server = await live_with(collab_settings, collab_compact_every_updates=3)
    reading, go_on = asyncio.Event(), asyncio.Event()
    prepare = history.prepare

    async def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        rows = await prepare(*args, **kwargs)
        reading.set()
        await go_on.wait()
        return rows

    monkeypatch.setattr(history, "prepare", held)
    case_id = await ycase()
    writer = await yclient(server, case_id, "clerk")
    reader = await yclient(server, case_id, "auditor")
    edits = 0
    while not reading.is_set():  # until a compaction is under way (3 log rows)
        await writer.edit(lambda d, i=edits: d.get("notes", type=Text).insert(0, f"<a:{i}>"))
        edits += 1
        await until(lambda n=edits: len(MARKER.findall(reader.text())) == n, what="delivered")
    for _ in range(5):
        await writer.edit(lambda d, i=edits: d.get("notes", type=Text).insert(0, f"<a:{i}>"))
        edits += 1
    await until(
        lambda: len(MARKER.findall(reader.text())) == edits,
        what="edits delivered while the compaction waits",
    )
    assert not go_on.is_set()
    go_on.set()
    room = server.server.config.app.state.collab.rooms[uuid.UUID(case_id)]
    await room.settle()
    await room.compact()
    rows, snap = log_rows(collab_settings, case_id)
    assert rows == 0 and snap == room.last_seq
    assert len(MARKER.findall(crdt.Workspace(room.committed_state()).to_json()["notes"])) == edits


async def test_an_idle_room_is_flushed_compacted_and_unloaded(
    live_with, collab_settings, ycase, yclient
) -> None:
    server = await live_with(collab_settings, collab_idle_unload_seconds=0.2)
    hub = server.server.config.app.state.collab
    case_id = await ycase()
    editor = await yclient(server, case_id, "clerk")
    await editor.edit(lambda d: d.get("notes", type=Text).insert(0, "bleibt"))
    await asyncio.sleep(0.5)
    assert uuid.UUID(case_id) in hub.rooms  # a connected room is never unloaded
    await editor.close()
    await until(lambda: uuid.UUID(case_id) not in hub.rooms, what="unload")
    rows, snap = log_rows(collab_settings, case_id)
    assert rows == 0 and snap is not None
    again = await yclient(server, case_id, "clerk")
    assert again.text() == "bleibt"


async def _edit_forever(client: YClient, name: str, stop: asyncio.Event) -> None:
    i = 0
    rng = random.Random(name)
    while not stop.is_set():
        try:
            await client.edit(lambda d, i=i: d.get("notes", type=Text).insert(0, f"<{name}:{i}>"))
        except Exception:
            return
        i += 1
        await asyncio.sleep(rng.uniform(0, 0.004))


def _foreign_markers(client: YClient, name: str) -> set[tuple[str, str]]:
    return {m for m in MARKER.findall(client.text()) if m[0] != name}


async def test_kill_9_loses_no_update_that_anyone_received(
    collab_settings, ycase, token, processes
) -> None:
    env = process_env(collab_settings)
    server = processes(env, "kill9")
    await server.start()
    case_id = await ycase()
    for round_ in range(3):
        names = [f"c{round_}{k}" for k in range(3)]
        clients = [await YClient(server.ws, case_id, token("clerk")).connect() for _ in names]
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(_edit_forever(c, n, stop))
            for c, n in zip(clients, names, strict=True)
        ]
        await asyncio.sleep(random.uniform(0.3, 0.8))
        server.kill()  # SIGKILL while clients are mid-edit
        seen = set().union(*(_foreign_markers(c, n) for c, n in zip(clients, names, strict=True)))
        stop.set()
        await asyncio.gather(*tasks)
        for c in clients:
            await c.close()
        assert len(seen) > 20, "the clients did not exchange edits before the kill"
        await server.start()
        fresh = await YClient(server.ws, case_id, token("auditor")).connect()
        stored = set(MARKER.findall(fresh.text()))
        await fresh.close()
        missing = seen - stored
        assert not missing, f"round {round_}: accepted updates lost: {sorted(missing)[:10]}"


async def test_sigterm_flushes_and_compacts_every_room(
    collab_settings, ycase, token, processes
) -> None:
    server = processes(process_env(collab_settings), "sigterm")
    await server.start()
    cases = [await ycase() for _ in range(3)]
    secret = token("clerk")
    clients = [await YClient(server.ws, c, secret).connect() for c in cases]
    observers = [await YClient(server.ws, c, token("auditor")).connect() for c in cases]
    for i in range(30):
        for client in clients:
            await client.edit(lambda d, i=i: d.get("notes", type=Text).insert(0, f"<t:{i}>"))
    await until(lambda: all(o.text().count("<t:") == 30 for o in observers))
    assert await server.terminate() in (0, -15)  # uvicorn re-raises SIGTERM after a clean exit
    assert "Application shutdown complete" in server.log_path.read_text()
    for client in clients + observers:
        assert await client.wait_closed() in (1012, 1001, 1006)
    log_text = server.log_path.read_text()
    assert secret not in log_text and "token=[redacted]" in log_text  # uvicorn logs the query
    for case_id in cases:
        rows, snap = log_rows(collab_settings, case_id)
        assert rows == 0 and snap is not None, (rows, snap)
    await server.start()
    for case_id in cases:
        fresh = await YClient(server.ws, case_id, token("auditor")).connect()
        assert fresh.text().count("<t:") == 30
        await fresh.close()
