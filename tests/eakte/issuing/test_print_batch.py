"""Daily print batch for the post room: letters with no electronic channel (issue 13)."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from datetime import timedelta

import pikepdf
import pypdf
from sqlalchemy import func, select

from eakte.audit.models import AuditEvent
from eakte.postroom.models import PrintItem
from eakte.process.service import local_today
from support import TENANT_A, TENANT_B, issue_letter, sign_postal_letter
from workflows import bekanntgabe as rule

BATCHES = "/api/v1/postroom/batches"
CONDITIONS = [f"Nebenbestimmung Nr. {i}: Die Zufahrt ist herzustellen." for i in range(1, 31)]


def _pages_text(pdf: bytes) -> list[str]:
    return [
        " ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages
    ]


async def _three_letters(client, auth, new_case) -> list[dict]:  # type: ignore[no-untyped-def]
    """Three posted letters to postcodes 90402, 80331, 86150 (in this order of signing)."""
    cases = [await new_case(title=f"Vorhaben {i}") for i in range(3)]
    letters = [
        await sign_postal_letter(
            client, auth, cases[0]["id"], name="Nora Nachbar", address="Königstr. 1\n90402 Nürnberg"
        ),
        await sign_postal_letter(
            client,
            auth,
            cases[1]["id"],
            name="Max Mieter",
            address="Marienplatz 8\n80331 München",
            letter_type="baugenehmigung",
            data={"conditions": CONDITIONS},  # two pages or more: padding is needed
        ),
        await sign_postal_letter(
            client,
            auth,
            cases[2]["id"],
            name="Erika Eigner",
            address="Rathausplatz 1\n86150 Augsburg",
            letter_type="eingangsbestaetigung",
            data={"received_on": "02.11.2026"},
        ),
    ]
    return [{"letter": letter, "case": case} for letter, case in zip(letters, cases, strict=True)]


async def test_batch_has_a_sorted_cover_list_and_each_letter_starts_on_an_odd_page(
    client, auth, new_case, db
) -> None:  # type: ignore[no-untyped-def]
    made = await _three_letters(client, auth, new_case)
    electronic_case = await new_case()
    electronic = await issue_letter(client, auth, electronic_case["id"], make_known=False)
    postroom = auth("postroom", sub="paula@augsburg")
    created = await client.post(BATCHES, json={}, headers=postroom)
    assert created.status_code == 201, created.text
    batch = created.json()
    assert batch["date"] == local_today().isoformat()
    assert batch["letters"] == 3
    # postcode, then file number: München, Augsburg, Nürnberg
    assert [i["postcode"] for i in batch["items"]] == ["80331", "86150", "90402"]
    assert [i["file_number"] for i in batch["items"]] == [
        made[1]["case"]["file_number"],
        made[2]["case"]["file_number"],
        made[0]["case"]["file_number"],
    ]
    assert electronic["id"] not in {i["issued_id"] for i in batch["items"]}
    content = await client.get(batch["content_url"], headers=postroom)
    assert content.status_code == 200
    assert content.headers["content-type"] == "application/pdf"
    with pikepdf.open(io.BytesIO(content.content)) as pdf:
        assert len(pdf.pages) == batch["pages"]
    assert batch["pages"] % 2 == 0  # duplex: the stack ends on a full sheet
    texts = _pages_text(content.content)
    cover = texts[0]
    assert "Druckstapel Poststelle" in cover
    positions = [cover.index(i["file_number"]) for i in batch["items"]]
    assert positions == sorted(positions)  # the cover lists them in print order
    for name in ("Max Mieter", "Erika Eigner", "Nora Nachbar"):
        assert name in cover
    assert "Baugenehmigung" in cover and "Benachrichtigung der Nachbarn" in cover
    assert batch["items"][0]["pages"] >= 2
    for item in batch["items"]:
        first = item["first_page"]
        assert first % 2 == 1, item  # every letter starts on the front of a sheet
        assert item["file_number"] in texts[first - 1]
        assert item["addressee_name"] in texts[first - 1]
        after = first - 1 + item["pages"]
        if item["pages"] % 2:  # the back of its last sheet stays blank
            assert texts[after] == ""
    async with db.session(write=False) as session:
        actions = list(await session.scalars(select(AuditEvent.action)))
    assert actions.count("postroom.batch_created") == 1


async def test_a_rerun_does_not_duplicate_and_a_later_letter_waits(
    client, auth, new_case, db
) -> None:  # type: ignore[no-untyped-def]
    made = await _three_letters(client, auth, new_case)
    postroom = auth("postroom", sub="paula@augsburg")
    first = (await client.post(BATCHES, json={}, headers=postroom)).json()
    late_case = await new_case()
    late = await sign_postal_letter(
        client, auth, late_case["id"], name="Lena Later", address="Domplatz 2\n93047 Regensburg"
    )
    again = await client.post(BATCHES, json={}, headers=postroom)
    assert again.status_code == 200  # the day's batch exists: returned, not made again
    assert again.json()["id"] == first["id"]
    assert {i["issued_id"] for i in again.json()["items"]} == {m["letter"]["id"] for m in made}
    listed = await client.get(BATCHES, headers=postroom)
    assert [b["id"] for b in listed.json()] == [first["id"]]
    async with db.session(write=False) as session:
        batched = await session.scalar(
            select(func.count(PrintItem.id)).where(PrintItem.batch_id.is_not(None))
        )
        waiting = list(await session.scalars(select(PrintItem).where(PrintItem.batch_id.is_(None))))
    assert batched == 3
    assert [str(w.issued_id) for w in waiting] == [late["id"]]


async def test_posting_records_the_date_and_bekanntgabe_per_art_41_abs_2_bayvwvfg(
    client, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    made = await _three_letters(client, auth, new_case)
    postroom = auth("postroom", sub="paula@augsburg")
    batch = (await client.post(BATCHES, json={}, headers=postroom)).json()
    today = local_today()
    future = await client.post(
        f"{BATCHES}/{batch['id']}/posted",
        json={"posted_on": (today + timedelta(days=1)).isoformat()},
        headers=postroom,
    )
    assert future.status_code == 409
    assert future.json()["type"] == "urn:eakte:problem:postroom-blocked"
    assert future.json()["reasons"][0]["de"].startswith("Der Tag der Aufgabe")
    posted = await client.post(
        f"{BATCHES}/{batch['id']}/posted", json={"posted_on": today.isoformat()}, headers=postroom
    )
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert body["posted_on"] == today.isoformat()
    # the neighbour letter serves the permit: it must be zugestellt (Art. 66 Abs. 1 S. 4 BayBO),
    # its day comes from the proof of service, not from the posting-day rule
    neighbour = made[0]["letter"]["id"]
    assert [s["issued_id"] for s in body["skipped"]] == [neighbour]
    assert "Zustellung erforderlich (Art. 66 Abs. 1 S. 4 BayBO)" in body["skipped"][0]["reason_de"]
    # the one rule: Zugangsfiktion on the n-th day after posting (Art. 41 Abs. 2 S. 1 BayVwVfG)
    expected = rule.compute_bekanntgabe(rule.Method.POST, today).on
    assert expected == today + timedelta(days=4)  # posted from 01.01.2025: fourth day
    clerk = auth("clerk")
    served = await client.get(
        f"/api/v1/cases/{made[0]['case']['id']}/issued/{neighbour}", headers=clerk
    )
    assert served.json()["state"] == "signed" and served.json()["bekanntgabe_on"] is None
    for m in made[1:]:
        case_id, issued_id = m["case"]["id"], m["letter"]["id"]
        letter = (
            await client.get(f"/api/v1/cases/{case_id}/issued/{issued_id}", headers=clerk)
        ).json()
        assert letter["state"] == "bekanntgegeben"
        assert letter["posted_on"] == today.isoformat()
        assert letter["bekanntgabe_on"] == expected.isoformat()
        assert "Art. 41 Abs. 2" in letter["bekanntgabe_rule"]
    assert {i["bekanntgabe_on"] for i in body["items"]} == {expected.isoformat(), None}
    twice = await client.post(
        f"{BATCHES}/{batch['id']}/posted", json={"posted_on": today.isoformat()}, headers=postroom
    )
    assert twice.status_code == 409  # posted once: the dates stay as recorded


async def test_a_letter_made_known_by_hand_meanwhile_is_skipped_not_reposted(
    client, auth, new_case
) -> None:  # type: ignore[no-untyped-def]
    made = await _three_letters(client, auth, new_case)
    postroom = auth("postroom", sub="paula@augsburg")
    batch = (await client.post(BATCHES, json={}, headers=postroom)).json()
    by_hand = made[0]
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    by_hand_url = (
        f"/api/v1/cases/{by_hand['case']['id']}/issued/{by_hand['letter']['id']}/bekanntgabe"
    )
    # the neighbour letter serves the permit (Art. 66 Abs. 1 S. 4 BayBO): the posting day alone
    # does not make it known; the day of service from the proof does
    unproven = await client.post(
        by_hand_url, json={"posted_on": yesterday}, headers=auth("clerk")
    )
    assert unproven.status_code == 409, unproven.text
    assert "Zustellung erforderlich" in unproven.json()["reasons"][0]["de"]
    served = local_today().isoformat()
    known = await client.post(
        by_hand_url, json={"posted_on": yesterday, "served_on": served}, headers=auth("clerk")
    )
    assert known.status_code == 200, known.text
    assert known.json()["bekanntgabe_on"] == served
    assert "Zustellungsnachweis" in known.json()["bekanntgabe_rule"]
    posted = await client.post(
        f"{BATCHES}/{batch['id']}/posted",
        json={"posted_on": local_today().isoformat()},
        headers=postroom,
    )
    assert posted.status_code == 200
    assert [s["issued_id"] for s in posted.json()["skipped"]] == [by_hand["letter"]["id"]]
    letter = (
        await client.get(
            f"/api/v1/cases/{by_hand['case']['id']}/issued/{by_hand['letter']['id']}",
            headers=auth("clerk"),
        )
    ).json()
    assert letter["posted_on"] == yesterday  # not overwritten by the batch


async def test_roles_bad_input_and_other_tenants_batches(client, auth, new_case) -> None:  # type: ignore[no-untyped-def]
    postroom = auth("postroom", sub="paula@augsburg")
    empty = await client.post(BATCHES, json={}, headers=postroom)
    assert empty.status_code == 409
    assert empty.json()["type"] == "urn:eakte:problem:postroom-blocked"
    assert "keine Schreiben" in empty.json()["reasons"][0]["de"]
    await _three_letters(client, auth, new_case)
    for role in ("clerk", "approver", "applicant"):
        refused = await client.post(BATCHES, json={}, headers=auth(role))
        assert refused.status_code == 403, role
    for bad in ({"date": "2026-13-01"}, {"date": "heute"}, {"extra": 1}):
        response = await client.post(BATCHES, json=bad, headers=postroom)
        assert response.status_code == 422, bad
        assert response.json()["type"].startswith("urn:eakte:problem:")
    batch = (await client.post(BATCHES, json={}, headers=postroom)).json()
    bad_day = await client.post(
        f"{BATCHES}/{batch['id']}/posted", json={"posted_on": "gestern"}, headers=postroom
    )
    assert bad_day.status_code == 422
    other = auth("postroom", tenant=TENANT_B, sub=f"paula@{TENANT_B}")
    for method, url, body in (
        ("GET", f"{BATCHES}/{batch['id']}", None),
        ("GET", f"{BATCHES}/{batch['id']}/content", None),
        ("POST", f"{BATCHES}/{batch['id']}/posted", {"posted_on": local_today().isoformat()}),
    ):
        response = await client.request(method, url, json=body, headers=other)
        assert response.status_code == 404, (method, url)
        assert response.json()["type"] == "urn:eakte:problem:print-batch-not-found"
    assert (await client.get(BATCHES, headers=other)).json() == []
    still = await client.get(f"{BATCHES}/{batch['id']}", headers=postroom)
    assert still.json()["posted_on"] is None  # the other tenant changed nothing


async def test_cli_print_batch_makes_the_batch_once(client, auth, new_case, store_env) -> None:  # type: ignore[no-untyped-def]
    await _three_letters(client, auth, new_case)
    command = [sys.executable, "-m", "eakte.cli", "print", "batch", "--tenant", TENANT_A]
    day = ["--date", local_today().isoformat()]
    first = subprocess.run(
        [*command, *day], env=store_env, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert "created: 3 letters" in first.stdout
    second = subprocess.run(
        [*command, *day], env=store_env, capture_output=True, text=True, timeout=120
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert "exists: 3 letters" in second.stdout
    listed = await client.get(BATCHES, headers=auth("postroom", sub="paula@augsburg"))
    assert len(listed.json()) == 1
    bad = subprocess.run(
        [*command, "--date", "31.12."], env=store_env, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    unknown = subprocess.run(
        [*command[:-1], "nirgendwo"], env=store_env, capture_output=True, text=True, timeout=60
    )
    assert unknown.returncode == 2


async def test_two_concurrent_runs_make_one_batch(client, auth, new_case, db) -> None:  # type: ignore[no-untyped-def]
    made = await _three_letters(client, auth, new_case)
    postroom = auth("postroom", sub="paula@augsburg")
    first, second = await asyncio.gather(
        client.post(BATCHES, json={}, headers=postroom),
        client.post(BATCHES, json={}, headers=postroom),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 201], (
        first.text,
        second.text,
    )
    assert first.json()["id"] == second.json()["id"]
    async with db.session(write=False) as session:
        items = list(await session.scalars(select(PrintItem)))
    assert {str(i.batch_id) for i in items} == {first.json()["id"]}
    assert sorted(str(i.issued_id) for i in items) == sorted(m["letter"]["id"] for m in made)
    listed = await client.get(BATCHES, headers=postroom)
    assert len(listed.json()) == 1
