"""Round trip: 0200 -> Nachforderung (0201) -> 0202 with documents -> Beteiligung (0300/0303)
-> Bescheid (0205), every message XSD-valid, picked up and acknowledged by the intermediary."""

from __future__ import annotations

import httpx
from lxml import etree

from eakte.xbau import parsing
from support import TENANT_B, issue_letter, minimal_pdf

PLAN = ("lageplan.pdf", "application/pdf", "lageplan", "Lageplan M 1:1000")
ZEICHNUNG = (
    "bauzeichnungen.pdf",
    "application/pdf",
    "bauzeichnung",
    "Grundrisse, Schnitte, Ansichten",
)
BESCHREIBUNG = ("baubeschreibung.pdf", "application/pdf", "baubeschreibung", "Baubeschreibung")


async def act(client, headers, case_id, action, expected, **inputs):  # type: ignore[no-untyped-def]
    response = await client.post(
        f"/api/v1/cases/{case_id}/process/actions",
        json={"action": action, "expected_state": expected, "input": inputs},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def queued(client: httpx.AsyncClient, xbau: dict[str, str]) -> list[dict]:
    response = await client.get("/api/v1/xbau/outbox", headers=xbau)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def pick_up(client: httpx.AsyncClient, xbau: dict[str, str], item: dict) -> etree._Element:
    """Fetch, validate and acknowledge one outgoing message; return its root."""
    content = await client.get(item["content_url"], headers=xbau)
    assert content.status_code == 200 and content.headers["content-type"] == "application/xml"
    message = parsing.load(content.content)  # XSD + Schematron
    for attachment in item["attachments"]:
        body = await client.get(attachment["url"], headers=xbau)
        assert body.status_code == 200 and len(body.content) == attachment["size"]
    ack = await client.post(f"/api/v1/xbau/outbox/{item['id']}/ack", headers=xbau)
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    again = await client.post(f"/api/v1/xbau/outbox/{item['id']}/ack", headers=xbau)
    assert again.json()["acknowledged_at"] == ack.json()["acknowledged_at"]
    return message.root


async def test_round_trip(client, auth, deliver, message, pdf) -> None:  # type: ignore[no-untyped-def]
    clerk, approver, xbau = auth("clerk", sub="clara"), auth("approver", sub="anton"), auth("xbau")

    _, raw = message(anlagen=[PLAN])
    received = await deliver(raw, {"lageplan.pdf": pdf})
    assert received.status_code == 201, received.text
    case_id, file_number = received.json()["case_id"], received.json()["file_number"]
    [receipt] = await queued(client, xbau)
    assert receipt["message_type"].endswith(".1120")
    root = await pick_up(client, xbau, receipt)
    assert root.findtext("bezug/vorgang") == file_number
    assert await queued(client, xbau) == []

    await act(
        client,
        clerk,
        case_id,
        "nachfordern",
        "eingegangen",
        maengel=[
            "Bauzeichnungen (Grundrisse, Schnitte, Ansichten) fehlen",
            "Baubeschreibung fehlt",
        ],
        frist_bis="2027-01-29",
        hinweis_ruecknahmefiktion=True,
    )
    [formal] = await queued(client, xbau)
    assert formal["message_type"] == "baugenehmigung.formellePruefung.0201"
    root = await pick_up(client, xbau, formal)
    assert root.findtext("{*}antragVollstaendig") == "false"
    befunde = root.findall("{*}befundFrist/{*}befundliste/{*}befund")
    assert [b.findtext("{*}beschreibung/textabsatz") for b in befunde] == [
        "Bauzeichnungen (Grundrisse, Schnitte, Ansichten) fehlen",
        "Baubeschreibung fehlt",
    ]
    assert root.findtext("{*}befundFrist/{*}frist") == "2027-01-29"

    _, change = message(
        "0202_nachreichung.xml", vorgang=file_number, anlagen=[ZEICHNUNG, BESCHREIBUNG]
    )
    arrived = await deliver(
        change,
        {
            "bauzeichnungen.pdf": minimal_pdf("Grundriss EG"),
            "baubeschreibung.pdf": minimal_pdf("Baubeschreibung"),
        },
    )
    assert arrived.status_code == 201, arrived.text
    assert arrived.json()["state"] == "eingegangen"  # the Nachforderung is answered
    assert arrived.json()["procedure_action"] == "unterlagen_nachreichen"

    await act(client, clerk, case_id, "vollstaendigkeit_feststellen", "eingegangen")
    [complete] = await queued(client, xbau)
    root = await pick_up(client, xbau, complete)
    assert root.findtext("{*}antragVollstaendig") == "true"

    asked = await client.post(
        f"/api/v1/cases/{case_id}/participations",
        json={"kind": "fachstelle_stellungnahme", "party": "Wasserwirtschaftsamt Donauwörth"},
        headers=clerk,
    )
    assert asked.status_code == 201, asked.text
    sent = await client.post(
        f"/api/v1/cases/{case_id}/participations/{asked.json()['id']}/xbau",
        json={
            "agency_kennung": "wwa:097610042",
            "agency_name": "Wasserwirtschaftsamt Donauwörth",
            "reason": "Versickerung von Niederschlagswasser",
        },
        headers=clerk,
    )
    assert sent.status_code == 201, sent.text
    [request] = await queued(client, xbau)
    assert request["reader"] == "wwa:097610042"
    assert {a["dateiname"] for a in request["attachments"]} == {
        "lageplan.pdf",
        "bauzeichnungen.pdf",
        "baubeschreibung.pdf",
    }
    root = await pick_up(client, xbau, request)
    assert root.findtext("{*}frist") == asked.json()["due"]

    _, answer = message("0303_stellungnahme_gemeinde.xml", anlagen=[])
    answer = answer.replace(
        b"00000000-0000-4000-8000-000000000300", request["message_uuid"].encode()
    )
    statement = await deliver(answer)
    assert statement.status_code == 201, statement.text
    view = (await client.get(f"/api/v1/cases/{case_id}/process", headers=clerk)).json()
    [participation] = view["participations"]
    assert participation["status"] == "answered" and participation["answer"] == "consent"
    assert "versickern" in participation["statement"]

    await act(client, clerk, case_id, "beteiligung_abschliessen", "beteiligung")
    await act(client, clerk, case_id, "entscheidung_entwerfen", "pruefung", vermerk="zulässig")
    # the sealed Baugenehmigung from issuing (issue 13) is what the 0205 carries
    await issue_letter(client, auth, case_id, "baugenehmigung", make_known=False)
    await act(client, approver, case_id, "genehmigung_zeichnen", "zur_zeichnung")
    [decision] = await queued(client, xbau)
    assert decision["message_type"] == "baugenehmigung.bescheid.0205"
    assert [a["dateiname"] for a in decision["attachments"]] == ["baugenehmigung.pdf"]
    root = await pick_up(client, xbau, decision)
    assert root.findtext("{*}bescheid/{*}tenor/{*}istGenehmigung") == "true"
    assert root.findtext("{*}bezug/vorgang") == file_number
    assert await queued(client, xbau) == []

    # another tenant's intermediary sees none of it
    other = auth("xbau", tenant=TENANT_B)
    assert (await client.get(decision["content_url"], headers=other)).status_code == 404
    assert (
        await client.post(f"/api/v1/xbau/outbox/{decision['id']}/ack", headers=other)
    ).status_code == 404
    assert (await client.get(decision["attachments"][0]["url"], headers=other)).status_code == 404
    listed = await client.get("/api/v1/xbau/outbox?status=acknowledged", headers=other)
    assert listed.json()["items"] == []
    assert (await client.get("/api/v1/xbau/outbox", headers=clerk)).status_code == 403
