"""Bounded resources: awareness, workspace size, update rate, memory under a flood, token expiry."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import httpx
from collab_support import YClient, until
from conftest import process_env
from pycrdt import Text
from sqlalchemy import create_engine

from eakte.collab import protocol
from eakte.db import database_urls

PAGE = os.sysconf("SC_PAGE_SIZE")


def _awareness(entries: list[tuple[int, int, dict | None]]) -> bytes:
    return protocol.awareness_message(
        protocol.encode_awareness([protocol.AwarenessEntry(c, k, s) for c, k, s in entries])
    )


async def _roundtrip(client: YClient) -> None:
    """Wait until the server has handled everything this client sent so far."""
    before = len(client.received)
    await client.send_raw(protocol.sync_step1(bytes(client.doc.get_state())))
    await until(lambda: len(client.received) > before, what="sync step 2 answer")


async def test_awareness_flood_is_closed_and_does_not_stall_the_service(
    live, ycase, yclient
) -> None:
    case_id = await ycase()
    watcher = await yclient(live, case_id, "clerk")
    attacker = await yclient(live, case_id, "auditor")
    slow: list[float] = []
    probes = 0
    stop = asyncio.Event()

    async def probe() -> None:
        nonlocal probes
        async with httpx.AsyncClient(base_url=live.http, timeout=60) as http:
            while not stop.is_set():
                started = asyncio.get_running_loop().time()
                assert (await http.get("/healthz")).status_code == 200
                elapsed = asyncio.get_running_loop().time() - started
                probes += 1
                if elapsed > 0.1:
                    slow.append(elapsed)
                await asyncio.sleep(0.005)

    prober = asyncio.create_task(probe())
    flood = _awareness([(i + 1, 1, {"user": {"name": "x" * 20}}) for i in range(100_000)])
    await attacker.send_raw(flood)
    assert await attacker.wait_closed() == 1008
    assert "awareness states" in attacker.close_reason
    other = await yclient(live, case_id, "auditor")
    for i in range(20):  # many small frames, each a state of another id
        await other.send_raw(_awareness([(10_000 + i, 1, {"cursor": i})]))
    for _ in range(20):
        await other.send_raw(b"\x03")  # query awareness
    await _roundtrip(other)
    stop.set()
    await prober
    assert probes > 0
    # the event loop never stalled for long: at most a couple of slow probes on a busy machine
    assert len(slow) <= 2, slow
    # one state per connection, none of the flood
    joiner = await yclient(live, case_id, "clerk")
    await _roundtrip(joiner)
    assert len([s for s in joiner.awareness.values() if s]) <= 3
    assert watcher.close_code is None


async def test_awareness_identity_and_colour_come_from_the_server(live, ycase, yclient) -> None:
    case_id = await ycase()
    watcher = await yclient(live, case_id, "clerk")
    sender = await yclient(live, case_id, "auditor", sub="pruefer@augsburg")
    evil = "red;position:fixed;inset:0;background:url(https://evil.example/x)"
    state = {"user": {"name": "Bürgermeister", "role": "admin", "color": evil, "x": "<b>"}}
    await sender.send_raw(_awareness([(sender.doc.client_id, 1, state)]))
    await until(lambda: sender.doc.client_id in watcher.awareness, what="the state relayed")
    user = watcher.awareness[sender.doc.client_id]["user"]
    assert user["name"] == "Test auditor" and user["role"] == "auditor"
    assert user["color"].startswith("#") and len(user["color"]) == 7
    assert "x" not in user
    # a second id from the same connection is ignored: one state per connection
    await sender.send_raw(_awareness([(sender.doc.client_id + 1, 1, state)]))
    await _roundtrip(sender)
    await _roundtrip(watcher)
    assert sender.doc.client_id + 1 not in watcher.awareness


async def test_oversized_awareness_state_is_closed(live_with, collab_settings, ycase, yclient):
    server = await live_with(collab_settings, collab_max_awareness_bytes=1024)
    case_id = await ycase()
    sender = await yclient(server, case_id, "clerk")
    await sender.send_raw(_awareness([(sender.doc.client_id, 1, {"cursor": "x" * 2000})]))
    assert await sender.wait_closed() == 1008


async def test_query_awareness_is_rate_limited(live, ycase, yclient) -> None:
    case_id = await ycase()
    peer = await yclient(live, case_id, "clerk")
    await peer.send_raw(_awareness([(peer.doc.client_id, 1, {"cursor": 1})]))
    asker = await yclient(live, case_id, "auditor")
    await _roundtrip(asker)
    before = asker.awareness_frames
    for _ in range(20):
        await asker.send_raw(b"\x03")
    await _roundtrip(asker)
    answered = asker.awareness_frames - before
    assert 1 <= answered <= 3, answered
    assert asker.close_code is None


async def test_workspace_size_limit_closes_the_writer_and_keeps_the_room(
    live_with, collab_settings, ycase, yclient
) -> None:
    server = await live_with(collab_settings, collab_max_workspace_bytes=64 * 1024)
    case_id = await ycase()
    other = await yclient(server, case_id, "clerk")
    big = await yclient(server, case_id, "clerk")
    await big.edit(lambda d: d.get("notes", type=Text).insert(0, "a" * 40_000))
    await until(lambda: len(other.text()) == 40_000)
    await big.edit(lambda d: d.get("notes", type=Text).insert(0, "b" * 40_000))
    assert await big.wait_closed() == 4413
    assert "size limit" in big.close_reason
    await other.edit(lambda d: d.get("decision", type=Text).insert(0, "weiter"))
    fresh = await yclient(server, case_id, "auditor")
    # the edit may still be on its way when the auditor joins: it arrives as a broadcast
    await until(lambda: fresh.text("decision") == "weiter")
    assert fresh.text() == "a" * 40_000


async def test_an_update_during_the_commit_of_another_counts_it_against_the_limit(
    live_with, collab_settings, ycase, yclient
) -> None:
    """The batch being committed counts: while the database holds it up, a second update that
    would overfill the workspace together with it is refused (it was let through once)."""
    server = await live_with(collab_settings, collab_max_workspace_bytes=64 * 1024)
    case_id = await ycase()
    first = await yclient(server, case_id, "clerk")
    second = await yclient(server, case_id, "clerk")
    room = server.app.state.collab.rooms[uuid.UUID(case_id)]
    engine = create_engine(database_urls(collab_settings.resolved_database_url()).sync_url)
    with engine.connect() as blocker:
        # another writer holds the log's table: the room's commit waits for it (off the loop)
        if engine.dialect.name == "sqlite":
            blocker.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            blocker.exec_driver_sql("LOCK TABLE collab_updates IN EXCLUSIVE MODE")
        await first.edit(lambda d: d.get("notes", type=Text).insert(0, "a" * 40_000))
        await until(lambda: bool(room.inflight), what="the first update being committed")
        await second.edit(lambda d: d.get("decision", type=Text).insert(0, "b" * 40_000))
        assert await second.wait_closed() == 4413
        blocker.rollback()
    engine.dispose()
    fresh = await yclient(server, case_id, "auditor")
    await until(lambda: fresh.text() == "a" * 40_000, what="the first update kept")
    assert fresh.text("decision") == ""
    assert first.close_code is None


async def test_a_client_that_stops_reading_is_closed_and_leaves_the_room(
    live_with, collab_settings, ycase, yclient
) -> None:
    """A client whose socket is full gets closed as too slow and is gone from its room at
    once (its close frame waits behind the data it did not read; it once was never sent and
    the connection stayed in the room, ignored); the others go on."""
    server = await live_with(collab_settings, collab_max_workspace_bytes=512 * 1024 * 1024)
    case_id = await ycase()
    writer = await yclient(server, case_id, "clerk")
    watcher = await yclient(server, case_id, "auditor")
    stuck = await yclient(server, case_id, "auditor", sub="langsam@augsburg")
    room = server.app.state.collab.rooms[uuid.UUID(case_id)]
    assert len(room.connections) == 3
    stuck.ws.transport.pause_reading()  # the kernel's buffers fill, then the server's
    chunk = "x" * (512 * 1024)
    sent = 0
    while len(room.connections) == 3:
        assert sent < 400, "the stuck client was never closed"  # 200 MiB
        await writer.edit(lambda d: d.get("notes", type=Text).insert(0, chunk))
        sent += 1
        await _roundtrip(writer)  # one update at a time, as the room has taken it
    assert "langsam@augsburg" not in {c.principal.sub for c in room.connections}
    await writer.edit(lambda d: d.get("decision", type=Text).insert(0, "weiter"))
    await until(lambda: watcher.text("decision") == "weiter", what="the room goes on")
    assert len(watcher.text()) == sent * len(chunk)
    assert writer.close_code is None and watcher.close_code is None
    stuck.ws.transport.abort()


async def test_update_rate_per_connection_is_limited(
    live_with, collab_settings, ycase, yclient
) -> None:
    server = await live_with(collab_settings, collab_max_updates_per_second=20)
    case_id = await ycase()
    writer = await yclient(server, case_id, "clerk")
    for i in range(60):
        if writer.closed.is_set():
            break
        await writer.edit(lambda d, i=i: d.get("notes", type=Text).insert(0, str(i % 10)))
    assert await writer.wait_closed() == 1008
    assert "updates per second" in writer.close_reason


async def test_token_expiry_closes_the_socket_4401(live, ycase, yclient, token) -> None:
    case_id = await ycase()
    # 27 s past `exp`: still inside the 30 s leeway the REST API grants, for about 3 s more
    client = YClient(live.ws, case_id, token("clerk", ttl=-27))
    await client.connect()
    await client.edit(lambda d: d.get("notes", type=Text).insert(0, "before"))
    assert await client.wait_closed(timeout=20) == 4401
    assert client.close_reason == "token expired"
    fresh = await yclient(live, case_id, "auditor")
    assert fresh.text() == "before"


def _rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


async def test_memory_stays_bounded_under_a_flood_of_big_updates(
    processes, collab_settings, ycase, token
) -> None:
    """Eight clerks send one 15 MiB update each: one fits the 16 MiB workspace, the rest close."""
    server = processes(process_env(collab_settings))
    await server.start()
    case_id = await ycase()
    assert server.proc is not None
    editor = YClient(server.ws, case_id, token("clerk"))
    await editor.connect()
    await editor.edit(lambda d: d.get("notes", type=Text).insert(0, "Vermerk"))
    baseline = _rss(server.proc.pid)
    clients = [YClient(server.ws, case_id, token("clerk")) for _ in range(8)]
    for c in clients:
        await c.connect()
    blob = "x" * (15 * 1024 * 1024)
    await asyncio.gather(
        *(c.edit(lambda d: d.get("decision", type=Text).insert(0, blob)) for c in clients)
    )
    await until(lambda: sum(c.closed.is_set() for c in clients) >= 7, timeout=120)
    closed = [c.close_code for c in clients if c.closed.is_set()]
    assert len(closed) == 7 and set(closed) == {4413}, closed
    growth = _rss(server.proc.pid) - baseline
    assert growth < 400 * 1024 * 1024, growth / 2**20
    await editor.edit(lambda d: d.get("notes", type=Text).insert(0, "!"))
    fresh = YClient(server.ws, case_id, token("auditor"))
    await fresh.connect()
    await until(lambda: fresh.text() == "!Vermerk", what="the room still works")
    for c in [editor, fresh, *clients]:
        await c.close()
