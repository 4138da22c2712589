"""Issue 16: Beteiligung in the browser: preview, the agency's restricted view, its answer."""

from __future__ import annotations

import httpx

from support import TENANT_B, TINY_PDF, case_payload

CLARA = "clara@augsburg"
WWA = "wwa@augsburg"


async def _setup(client: httpx.AsyncClient, auth) -> tuple[dict, dict[str, str], dict[str, str]]:  # type: ignore[no-untyped-def,type-arg]
    clerk = auth("clerk", sub=CLARA)
    created = await client.post("/api/v1/cases", json=case_payload(), headers=clerk)
    assert created.status_code == 201, created.text
    return created.json(), clerk, auth("agency", sub=WWA)


async def _upload(client, case, headers, kind: str, title: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        files={"file": (f"{kind}.pdf", TINY_PDF, "application/pdf")},
        data={"title": title, "kind": kind},
        headers=headers,
    )


async def test_preview_gives_each_kind_its_deadline_from_the_rule(client, auth) -> None:  # type: ignore[no-untyped-def]
    """Art. 65 Abs. 2 S. 2 BayBO: one month for an agency's consent, counted from arrival;
    § 36 Abs. 2 S. 2 BauGB: two months for the municipality."""
    case, clerk, agency = await _setup(client, auth)
    url = f"/api/v1/cases/{case['id']}/participations/preview?arrived_on=2026-03-02"
    body = (await client.get(url, headers=clerk)).json()
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert kinds["fachstelle_zustimmung"]["due"] == "2026-04-02"
    assert kinds["fachstelle_zustimmung"]["on_silence"] == "consent_deemed"
    assert kinds["gemeinde_einvernehmen"]["due"] == "2026-05-04"  # 2 May is a Saturday
    assert "Art. 65" in kinds["fachstelle_zustimmung"]["legal_basis"]
    assert kinds["fachstelle_zustimmung"]["label"]["de"]
    assert (await client.get(url, headers=agency)).status_code == 403
    bad = await client.get(url.replace("2026-03-02", "2026-02-30"), headers=clerk)
    assert bad.status_code == 422
    foreign = await client.get(url, headers=auth("clerk", tenant=TENANT_B))
    assert foreign.status_code == 404
    assert foreign.json()["type"] == "urn:eakte:problem:case-not-found"


async def test_the_agency_sees_bauvorlagen_and_its_request_only(client, auth) -> None:  # type: ignore[no-untyped-def]
    case, clerk, agency = await _setup(client, auth)
    assert (await _upload(client, case, clerk, "lageplan", "Lageplan")).status_code == 201
    internal = await _upload(client, case, clerk, "sonstiges", "Vermerk (Stand)")
    assert internal.status_code == 201
    await client.post(
        f"/api/v1/cases/{case['id']}/participations",
        json={"kind": "fachstelle_zustimmung", "party": "Denkmalschutz"},
        headers=clerk,
    )
    asked = await client.post(
        f"/api/v1/cases/{case['id']}/participations",
        json={
            "kind": "fachstelle_stellungnahme",
            "party": "Wasserwirtschaftsamt",
            "agency_sub": WWA,
        },
        headers=clerk,
    )
    assert asked.status_code == 201, asked.text
    await client.post(
        f"/api/v1/cases/{case['id']}/process/actions",
        json={
            "action": "nachfordern",
            "expected_state": "eingegangen",
            "input": {
                "maengel": ["Interner Hinweis"],
                "frist_bis": "2030-01-31",
                "hinweis_ruecknahmefiktion": True,
            },
        },
        headers=clerk,
    )
    view = (await client.get(f"/api/v1/cases/{case['id']}/process", headers=agency)).json()
    assert [p["party"] for p in view["participations"]] == ["Wasserwirtschaftsamt"]
    assert view["variables"] == {} and view["transitions"] == []
    assert view["available_actions"] == []
    assert "Interner Hinweis" not in str(view)
    docs = (await client.get(f"/api/v1/cases/{case['id']}/documents", headers=agency)).json()
    assert [d["title"] for d in docs["items"]] == ["Lageplan"]
    hidden = await client.get(
        f"/api/v1/cases/{case['id']}/documents/{internal.json()['id']}/content", headers=agency
    )
    assert hidden.status_code == 404
    # the agency uploads its Stellungnahme, nothing else, and no new versions
    refused = await _upload(client, case, agency, "lageplan", "Neuer Lageplan")
    assert refused.status_code == 403 and " / " in refused.json()["detail"]
    statement = await _upload(client, case, agency, "stellungnahme", "Stellungnahme WWA")
    assert statement.status_code == 201, statement.text
    docs = (await client.get(f"/api/v1/cases/{case['id']}/documents", headers=agency)).json()
    assert [d["title"] for d in docs["items"]] == ["Lageplan", "Stellungnahme WWA"]
    version = await client.post(
        f"/api/v1/cases/{case['id']}/documents/{docs['items'][0]['id']}/versions",
        files={"file": ("l.pdf", TINY_PDF, "application/pdf")},
        headers=agency,
    )
    assert version.status_code == 403
    clerk_docs = (await client.get(f"/api/v1/cases/{case['id']}/documents", headers=clerk)).json()
    assert len(clerk_docs["items"]) == 3


async def test_the_agency_answers_and_the_sachbearbeiter_is_notified(client, auth) -> None:  # type: ignore[no-untyped-def]
    case, clerk, agency = await _setup(client, auth)
    asked = await client.post(
        f"/api/v1/cases/{case['id']}/participations",
        json={
            "kind": "fachstelle_stellungnahme",
            "party": "Wasserwirtschaftsamt",
            "agency_sub": WWA,
        },
        headers=clerk,
    )
    pid = asked.json()["id"]
    answer = await client.post(
        f"/api/v1/cases/{case['id']}/participations/{pid}/answer",
        json={"answer": "statement", "statement": "Keine Bedenken bei Versickerung."},
        headers=agency,
    )
    assert answer.status_code == 200, answer.text
    listed = (await client.get("/api/v1/notifications", headers=clerk)).json()
    assert listed["unread"] == 1
    assert listed["items"][0]["kind"] == "participation_answered"
    assert "Wasserwirtschaftsamt hat geantwortet" in listed["items"][0]["text_de"]
    view = (await client.get(f"/api/v1/cases/{case['id']}/process", headers=clerk)).json()
    assert view["participations"][0]["statement"] == "Keine Bedenken bei Versickerung."
    assert view["participations"][0]["late"] is False


async def test_silence_is_deemed_consent_and_the_clerk_is_told(app, client, auth) -> None:  # type: ignore[no-untyped-def]
    """Art. 65 Abs. 2 S. 2 BayBO: an agency's consent counts as given when it does not answer
    within a month; the ticker records it and notifies the Sachbearbeiter."""
    from eakte.process.ticker import tick

    case, clerk, _ = await _setup(client, auth)
    asked = await client.post(
        f"/api/v1/cases/{case['id']}/participations",
        json={
            "kind": "fachstelle_zustimmung",
            "party": "Denkmalschutz",
            "requested_on": "2026-01-05",
        },
        headers=clerk,
    )
    assert asked.status_code == 201, asked.text
    report = await tick(app.state.db)
    assert len(report.deemed) == 1
    listed = (await client.get("/api/v1/notifications", headers=clerk)).json()
    (item,) = [i for i in listed["items"] if i["kind"] == "participation_deemed"]
    assert "Denkmalschutz" in item["text_de"] and "Zustimmung gilt als erteilt" in item["text_de"]
    view = (await client.get(f"/api/v1/cases/{case['id']}/process", headers=clerk)).json()
    assert view["participations"][0]["status"] == "deemed"
