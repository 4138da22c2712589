"""Read-only is absolute, client ids belong to users, field rights follow PATCH /cases/{id}.

The attacks of issue 17, with hand-built updates (pycrdt) and real Yjs clients (Node): an
update of a read-only role that the room cannot apply yet (it depends on a clerk's *next*
clock, or deletes the clerk's future clocks) must close the socket 4403 and leave nothing
behind that a later edit could bring to life.
"""

from __future__ import annotations

import asyncio
import random

from collab_support import YClient, until
from pycrdt import Doc, Map, Text
from sqlalchemy import create_engine, select

from eakte.collab import protocol
from eakte.collab.models import CollabClient, CollabUpdate
from eakte.db import database_urls


def _future_dependent(clerk: YClient, *, root: str = "notes") -> tuple[bytes, Doc]:
    """An attacker's update that builds on the clerk's next (not yet sent) insertion."""
    future = Doc(client_id=clerk.doc.client_id)  # the clerk's own id: what the clerk does next
    future.apply_update(clerk.doc.get_update())
    if root == "notes":
        text = future.get("notes", type=Text)
        text.insert(len(text), "Z")
    else:
        future.get("fields", type=Map)["title"] = "Z"
    attacker = Doc(client_id=random.getrandbits(32))
    attacker.apply_update(future.get_update())
    before = attacker.get_state()
    if root == "notes":
        text = attacker.get("notes", type=Text)
        text.insert(len(text), " HIJACK")
    else:
        attacker.get("fields", type=Map)["title"] = "HIJACK"
    return bytes(attacker.get_update(before)), future


def _future_delete(clerk: YClient, length: int = 1000) -> bytes:
    """An update with no structs and a delete set for the clerk's next `length` clocks."""
    client = clerk.doc.client_id
    clock = _clocks(clerk.doc).get(client, 0)
    return (
        b"\x00"
        + protocol.write_var_uint(1)
        + protocol.write_var_uint(client)
        + protocol.write_var_uint(1)
        + protocol.write_var_uint(clock)
        + protocol.write_var_uint(length)
    )


def _clocks(doc: Doc) -> dict[int, int]:
    from eakte.collab.ydecode import decode_state_vector

    return decode_state_vector(bytes(doc.get_state()))


def _log_actors(settings, case_id: str) -> list[str]:
    import uuid

    engine = create_engine(database_urls(settings.resolved_database_url()).sync_url)
    with engine.connect() as conn:
        actors = conn.scalars(
            select(CollabUpdate.actor).where(CollabUpdate.case_id == uuid.UUID(case_id))
        ).all()
    engine.dispose()
    return list(actors)


async def _reader(client, live, case_id, role, auth, token) -> YClient:
    sub = f"ro-{role}@augsburg"
    if role == "agency":
        response = await client.post(
            f"/api/v1/cases/{case_id}/participations",
            json={"kind": "fachstelle_stellungnahme", "party": "X", "agency_sub": sub},
            headers=auth("clerk"),
        )
        assert response.status_code == 201, response.text
    reader = YClient(live.ws, case_id, token(role, sub=sub))
    return await reader.connect()


async def test_read_only_update_that_depends_on_the_clerks_next_edit_is_refused(
    live, client, ycase, yclient, token, auth, collab_settings
) -> None:
    case_id = await ycase()
    clerk = await yclient(live, case_id, "clerk")
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(0, "Vermerk"))
    auditor = await _reader(client, live, case_id, "auditor", auth, token)
    await until(lambda: auditor.text() == "Vermerk")
    update, _ = _future_dependent(clerk)
    await auditor.send_update(update)
    assert await auditor.wait_closed() == 4403
    # the clerk now makes exactly the edit the attack waited for
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(len("Vermerk"), "Z"))
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(0, "!"))
    fresh = await yclient(live, case_id, "auditor")
    await until(lambda: fresh.text() == "!VermerkZ", what="the clerk's text alone")
    assert clerk.text() == "!VermerkZ"
    assert not any("auditor" in actor for actor in _log_actors(collab_settings, case_id))


async def test_read_only_delete_set_for_future_clocks_is_refused(
    live, client, ycase, yclient, token, auth
) -> None:
    case_id = await ycase()
    clerk = await yclient(live, case_id, "clerk")
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(0, "a"))
    auditor = await _reader(client, live, case_id, "auditor", auth, token)
    await auditor.send_update(_future_delete(clerk))
    assert await auditor.wait_closed() == 4403
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(1, "bcdef"))
    fresh = await yclient(live, case_id, "auditor")
    await until(lambda: fresh.text() == "abcdef", what="the clerk's new text kept")


async def test_read_only_deletion_of_existing_text_is_refused(
    live, client, ycase, yclient, token, auth
) -> None:
    case_id = await ycase()
    clerk = await yclient(live, case_id, "clerk")
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(0, "Bleibt stehen"))
    auditor = await _reader(client, live, case_id, "auditor", auth, token)
    await until(lambda: auditor.text() == "Bleibt stehen")
    await auditor.edit(lambda d: d.get("notes", type=Text).__delitem__(slice(0, 6)))
    assert await auditor.wait_closed() == 4403
    fresh = await yclient(live, case_id, "auditor")
    assert fresh.text() == "Bleibt stehen"


async def test_read_only_sync_of_a_doc_with_deletions_is_fine(
    live, client, ycase, yclient, token, auth
) -> None:
    """What every reader sends on connect (its whole delete set) is not a write."""
    case_id = await ycase()
    clerk = await yclient(live, case_id, "clerk")
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(0, "abcdef"))
    await clerk.edit(lambda d: d.get("notes", type=Text).__delitem__(slice(1, 3)))
    auditor = await _reader(client, live, case_id, "auditor", auth, token)
    await until(lambda: auditor.text() == "adef")
    await auditor.send_update(bytes(auditor.doc.get_update()))  # everything it has, deletes too
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(0, ">"))
    await until(lambda: auditor.text() == ">adef", what="the reader still connected")
    assert auditor.close_code is None


async def test_read_only_fields_title_variant_does_not_reach_the_case(
    live, client, ycase, yclient, token, auth
) -> None:
    case_id = await ycase(title="Neubau Garage")
    clerk = await yclient(live, case_id, "clerk")
    auditor = await _reader(client, live, case_id, "auditor", auth, token)
    update, _ = _future_dependent(clerk, root="fields")
    await auditor.send_update(update)
    assert await auditor.wait_closed() == 4403
    await clerk.edit(lambda d: d.get("fields", type=Map).__setitem__("title", "Neubau Carport"))
    await until(lambda: clerk.fields()["title"] == "Neubau Carport")

    async def title() -> str:
        response = await client.get(f"/api/v1/cases/{case_id}", headers=auth("clerk"))
        return str(response.json()["title"])

    for _ in range(200):
        if await title() == "Neubau Carport":
            break
        await asyncio.sleep(0.05)
    assert await title() == "Neubau Carport"
    history = await client.get(f"/api/v1/cases/{case_id}/history", headers=auth("auditor"))
    assert "HIJACK" not in history.text


async def test_update_under_another_users_client_id_is_refused(live, ycase, yclient) -> None:
    case_id = await ycase()
    alice = await yclient(live, case_id, "clerk", sub="alice@augsburg")
    await alice.edit(lambda d: d.get("notes", type=Text).insert(0, "Alice"))
    bob = await yclient(live, case_id, "clerk", sub="bob@augsburg")
    await until(lambda: bob.text() == "Alice")
    forged = Doc(client_id=alice.doc.client_id)
    forged.apply_update(alice.doc.get_update())
    before = forged.get_state()
    forged.get("notes", type=Text).insert(0, "Bob as Alice: ")
    await bob.send_update(bytes(forged.get_update(before)))
    assert await bob.wait_closed() == 4403
    assert "belongs to someone else" in bob.close_reason
    fresh = await yclient(live, case_id, "auditor")
    assert fresh.text() == "Alice"


async def test_a_writer_deleting_another_users_future_clocks_is_refused(
    live, ycase, yclient
) -> None:
    case_id = await ycase()
    alice = await yclient(live, case_id, "clerk", sub="alice@augsburg")
    await alice.edit(lambda d: d.get("notes", type=Text).insert(0, "A"))
    bob = await yclient(live, case_id, "clerk", sub="bob@augsburg")
    await bob.send_update(_future_delete(alice))
    assert await bob.wait_closed() == 4403
    await alice.edit(lambda d: d.get("notes", type=Text).insert(1, "lice"))
    fresh = await yclient(live, case_id, "auditor")
    await until(lambda: fresh.text() == "Alice")


async def test_client_ids_stay_bound_after_the_room_reloads(
    live_with, collab_settings, ycase, yclient
) -> None:
    server = await live_with(collab_settings, collab_idle_unload_seconds=0.05)
    case_id = await ycase()
    alice = await yclient(server, case_id, "clerk", sub="alice@augsburg")
    await alice.edit(lambda d: d.get("notes", type=Text).insert(0, "Alice"))
    await alice.close()
    hub = server.server.config.app.state.collab
    await until(lambda: not hub.rooms, what="the room unloaded")
    import uuid

    engine = create_engine(database_urls(collab_settings.resolved_database_url()).sync_url)
    with engine.connect() as conn:
        owner = conn.scalar(
            select(CollabClient.owner).where(
                CollabClient.case_id == uuid.UUID(case_id),
                CollabClient.client_id == alice.doc.client_id,
            )
        )
    engine.dispose()
    assert owner == "alice@augsburg"
    bob = await yclient(server, case_id, "clerk", sub="bob@augsburg")
    forged = Doc(client_id=alice.doc.client_id)
    forged.apply_update(bob.doc.get_update())
    before = forged.get_state()
    forged.get("notes", type=Text).insert(0, "x")
    await bob.send_update(bytes(forged.get_update(before)))
    assert await bob.wait_closed() == 4403


async def test_missing_dependencies_are_held_then_applied(live, ycase, yclient) -> None:
    """A writer's update that needs content still to come waits (bounded) and then applies."""
    case_id = await ycase()
    alice = await yclient(live, case_id, "clerk", sub="alice@augsburg")
    await alice.edit(lambda d: d.get("notes", type=Text).insert(0, "A"))
    first, future = _future_dependent(alice)  # Bob builds on Alice's next edit
    bob = await yclient(live, case_id, "clerk", sub="bob@augsburg")
    await bob.send_update(first)
    await asyncio.sleep(0.1)
    assert bob.close_code is None
    await alice.send_update(bytes(future.get_update(alice.doc.get_state())))  # Alice's "Z"
    fresh = await yclient(live, case_id, "auditor")
    await until(lambda: fresh.text() == "AZ HIJACK", what="the held update applied")


async def test_held_updates_are_bounded(live_with, collab_settings, ycase, yclient) -> None:
    server = await live_with(collab_settings, collab_max_pending_bytes=2048)
    case_id = await ycase()
    alice = await yclient(server, case_id, "clerk", sub="alice@augsburg")
    await alice.edit(lambda d: d.get("notes", type=Text).insert(0, "A"))
    bob = await yclient(server, case_id, "clerk", sub="bob@augsburg")
    for _ in range(400):
        update, _ = _future_dependent(alice)
        await bob.send_update(update)
        if bob.closed.is_set():
            break
    assert await bob.wait_closed() == 1008
    assert "missing dependencies" in bob.close_reason
    await alice.edit(lambda d: d.get("notes", type=Text).insert(1, "Z"))
    fresh = await yclient(server, case_id, "auditor")
    await until(lambda: fresh.text() == "AZ")


async def test_approver_may_not_change_case_fields_over_the_socket(
    live, client, ycase, yclient, auth
) -> None:
    case_id = await ycase(title="Neubau Garage")
    patch = await client.patch(
        f"/api/v1/cases/{case_id}",
        json={"title": "Approver title"},
        headers=auth("approver") | {"If-Match": '"1"'},
    )
    assert patch.status_code == 403
    clerk = await yclient(live, case_id, "clerk")
    approver = await yclient(live, case_id, "approver")
    await approver.edit(lambda d: d.get("fields", type=Map).__setitem__("title", "Approver title"))
    await until(lambda: approver.denied, what="the approver told why")
    assert "title" in approver.denied[0] and "zurückgenommen" in approver.denied[0]
    await until(lambda: approver.fields()["title"] == "Neubau Garage", what="reverted for it")
    assert clerk.fields()["title"] == "Neubau Garage"
    # the approver may still write the Vermerk and the decision draft
    await approver.edit(lambda d: d.get("decision", type=Text).insert(0, "Entwurf"))
    await until(lambda: clerk.text("decision") == "Entwurf")
    # a clerk's change of another field is projected; the approver's title never was
    await clerk.edit(lambda d: d.get("fields", type=Map).__setitem__("description", "Carport"))
    for _ in range(400):
        case = (await client.get(f"/api/v1/cases/{case_id}", headers=auth("clerk"))).json()
        if case["description"] == "Carport":
            break
        await asyncio.sleep(0.025)
    assert (case["description"], case["title"]) == ("Carport", "Neubau Garage")
    assert approver.close_code is None
