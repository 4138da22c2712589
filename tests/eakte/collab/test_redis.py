"""Two real server processes share rooms through Redis; a missed message is caught up."""

from __future__ import annotations

import asyncio
import os

import pytest
from collab_support import YClient, until
from conftest import process_env
from pycrdt import Map, Text

REDIS_URL = os.environ.get("EAKTE_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except Exception:
        return False


pytestmark = pytest.mark.skipif(
    not os.environ.get("EAKTE_TEST_REDIS_URL") and not _redis_answers(),
    reason="EAKTE_TEST_REDIS_URL is unset and no Redis answers on 127.0.0.1:6379",
)


async def test_two_instances_converge_and_resync_after_a_missed_message(
    collab_settings, ycase, token, processes
) -> None:
    env = process_env(collab_settings, EAKTE_REDIS_URL=REDIS_URL, EAKTE_COLLAB_RESYNC_SECONDS="0.5")
    one, two = processes(env, "one"), processes(env, "two")
    await asyncio.gather(one.start(), two.start())
    case_id = await ycase()
    on_one = [await YClient(one.ws, case_id, token("clerk")).connect() for _ in range(2)]
    on_two = [await YClient(two.ws, case_id, token("clerk")).connect() for _ in range(2)]
    everyone = on_one + on_two

    async def edits(client: YClient, name: str) -> None:
        for i in range(40):

            def change(d, i=i):  # type: ignore[no-untyped-def]
                d.get("notes", type=Text).insert(0, f"<{name}:{i}>")
                d.get("fields", type=Map)[f"k_{name}"] = i

            await client.edit(change)
            await asyncio.sleep(0.003)

    await asyncio.gather(*(edits(c, f"n{k}") for k, c in enumerate(everyone)))
    await until(
        lambda: len({c.text() for c in everyone}) == 1 and everyone[0].text().count("<") == 160,
        what="all four clients on two instances converge",
    )
    assert len({tuple(sorted(c.fields().items())) for c in everyone}) == 1

    # drop the instances' subscriptions: messages published meanwhile are lost
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    r.client_kill_filter(_type="pubsub")
    await on_one[0].edit(lambda d: d.get("notes", type=Text).insert(0, "<missed:0>"))
    await until(
        lambda: all(c.text().startswith("<missed:0>") for c in on_two),
        timeout=10,
        what="the other instance catches up from the database log",
    )
    fresh = await YClient(two.ws, case_id, token("auditor")).connect()
    assert fresh.text() == on_one[0].text()
    for client in everyone + [fresh]:
        await client.close()


async def test_closing_a_case_on_one_instance_makes_writers_on_the_other_read_only(
    collab_settings, ycase, token, processes
) -> None:
    """Issue 15: a closed case is the record (Art. 33 BayDiG). An official connected to another
    instance behind the load balancer must not keep writing until she reconnects."""
    import httpx

    env = process_env(collab_settings, EAKTE_REDIS_URL=REDIS_URL)
    one, two = processes(env, "one"), processes(env, "two")
    await asyncio.gather(one.start(), two.start())
    case_id = await ycase()
    elsewhere = await YClient(two.ws, case_id, token("clerk")).connect()
    await elsewhere.edit(lambda d: d.get("notes", type=Text).insert(0, "final"))
    headers = {"Authorization": f"Bearer {token('clerk')}"}
    async with httpx.AsyncClient(base_url=one.http, timeout=60) as http:
        withdrawn = await http.post(
            f"/api/v1/cases/{case_id}/process/actions",
            json={
                "action": "ruecknahme_erklaeren",
                "expected_state": "eingegangen",
                "input": {"erklaert_am": "2026-11-02"},
            },
            headers=headers,
        )
        assert withdrawn.status_code == 200, withdrawn.text
        closed = await http.post(
            f"/api/v1/cases/{case_id}/record/closing", json={}, headers=headers
        )
        assert closed.status_code == 200, closed.text
    # the other instance hears of it through Redis (its log says so); its next write is refused
    await until(
        lambda: "closed elsewhere; 1 connection(s) read-only" in two.log_path.read_text(),
        timeout=60,
        what="the other instance switches its connection to read-only",
    )
    await elsewhere.edit(lambda d: d.get("notes", type=Text).insert(0, "late "))
    assert await elsewhere.wait_closed() == 4403
    assert "case closed" in elsewhere.close_reason
    reader = await YClient(two.ws, case_id, token("auditor")).connect()
    assert reader.text() == "final"  # the late write was not kept
    await reader.close()
