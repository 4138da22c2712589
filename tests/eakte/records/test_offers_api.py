"""The admin routes of the Aussonderung (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from records_support import appraised, archive_message, close_on

from eakte.records.xdomea import messages, schema
from support import TENANT_B

PROBLEM = "urn:eakte:problem:"
XML = {"Content-Type": "application/xml"}


async def test_offer_route_builds_a_valid_0501_and_takes_the_archives_messages(
    client: httpx.AsyncClient, auth, db, ended_case
) -> None:  # type: ignore[no-untyped-def]
    case = await ended_case()
    await close_on(db, case, datetime(2015, 5, 5, tzinfo=UTC))
    body = {"today": "2030-01-01"}
    assert (
        await client.post("/api/v1/records/offers", json=body, headers=auth("clerk"))
    ).status_code == 403
    bad = await client.post(
        "/api/v1/records/offers", json={"today": "gestern"}, headers=auth("admin")
    )
    assert bad.status_code == 422
    early = await client.post(
        "/api/v1/records/offers", json={"today": "2020-01-01"}, headers=auth("admin")
    )
    assert early.status_code == 409 and early.json()["type"] == PROBLEM + "aussonderung-conflict"
    created = await client.post("/api/v1/records/offers", json=body, headers=auth("admin"))
    assert created.status_code == 201, created.text
    offer = created.json()
    assert offer["state"] == "angeboten" and offer["cases"] == 1
    schema.parse_valid(offer["xml"].encode(), messages.ANBIETEVERZEICHNIS)
    url = f"/api/v1/records/offers/{offer['process_id']}"

    foreign = await client.get(url, headers=auth("admin", tenant=TENANT_B))
    assert foreign.status_code == 404 and foreign.json()["type"] == PROBLEM + "offer-not-found"
    appraisal = archive_message("0502", offer["process_id"], appraised(case["id"], "A"))
    stolen = await client.post(
        url + "/messages", content=appraisal, headers=auth("admin", tenant=TENANT_B) | XML
    )
    assert stolen.status_code == 404

    for junk in (b"<kaputt", b"<a/>", archive_message("0502", offer["process_id"], "")):
        refused = await client.post(url + "/messages", content=junk, headers=auth("admin") | XML)
        assert refused.status_code == 422, junk
        assert refused.json()["type"] == PROBLEM + "xdomea-invalid"
        assert refused.json()["errors"]
    other_process = archive_message("0502", "8b7a4c1e-0000-4000-8000-000000000001", "")
    mismatch = await client.post(
        url + "/messages", content=other_process, headers=auth("admin") | XML
    )
    assert mismatch.status_code == 422

    answered = await client.post(url + "/messages", content=appraisal, headers=auth("admin") | XML)
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "bewertet"
    schema.parse_valid(answered.json()["xml"].encode(), messages.BEWERTUNG_EMPFANG)
    again = await client.post(url + "/messages", content=appraisal, headers=auth("admin") | XML)
    assert again.status_code == 409
    receipt = await client.post(
        url + "/messages",
        content=archive_message("0504", offer["process_id"]),
        headers=auth("admin") | XML,
    )
    assert {m["code"] for m in receipt.json()["messages"]} == {"0501", "0502", "0504", "0505"}
    seen = await client.get(url, headers=auth("auditor"))
    assert seen.status_code == 200 and seen.json()["xml"] is None
