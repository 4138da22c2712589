"""The applicant's API: submit, follow the status, upload, answer a Nachforderung."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest

from support import TENANT_A, TENANT_B, TINY_PDF, issue_letter

PDF = TINY_PDF
APPS = "/api/v1/authorities/{tenant}/applications"


def application(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "procedure": "baybo-59",
        "site": {
            "address": "Hauptstraße 5, 86150 Augsburg",
            "gemarkung": "Augsburg",
            "flurstueck": "1234/5",
        },
        "description": "Neubau eines Einfamilienhauses mit Garage\nZwei Vollgeschosse",
        "applicant": {
            "name": "Maria Muster",
            "email": "maria@example.org",
            "phone": "+49 821 123456",
        },
        "designer": {
            "name": "Architekturbüro Beispiel",
            "email": "buero@example.org",
            "chamber_number": "ByAK-12345",
        },
        "housing": True,
    }
    body.update(overrides)
    return body


@pytest.fixture
def maria(auth) -> dict[str, str]:  # type: ignore[no-untyped-def]
    # a citizen account: the tenant claim is whatever the citizen IdP puts there
    return auth("applicant", sub="maria@buergerkonto", tenant=TENANT_B)


@pytest.fixture
def submit(client: httpx.AsyncClient, maria):  # type: ignore[no-untyped-def]
    async def _submit(
        tenant: str = TENANT_A, headers: dict | None = None, **overrides: object
    ) -> dict:
        response = await client.post(
            APPS.format(tenant=tenant), json=application(**overrides), headers=headers or maria
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return _submit


async def test_authorities_are_public(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/authorities")
    assert response.status_code == 200
    items = {a["slug"]: a for a in response.json()["items"]}
    assert set(items) == {TENANT_A, TENANT_B}
    assert "baybo-59" in items[TENANT_A]["procedures"]


async def test_submit_returns_file_number_code_and_status_url(
    client: httpx.AsyncClient, submit, auth
) -> None:  # type: ignore[no-untyped-def]
    receipt = await submit()
    assert receipt["file_number"].startswith("BA-")
    code = receipt["access_code"]
    assert len(code.replace("-", "")) == 24  # 120 bits in base32
    assert (
        receipt["status_url"]
        == f"/api/v1/authorities/{TENANT_A}/applications/{receipt['file_number']}"
    )
    # officials see it as an ordinary case in its procedure's first state
    case = (await client.get(f"/api/v1/cases/{receipt['case_id']}", headers=auth("clerk"))).json()
    assert case["state"] == "eingegangen" and case["housing"] is True
    history = (
        await client.get(f"/api/v1/cases/{receipt['case_id']}/history", headers=auth("auditor"))
    ).json()
    assert "application.submitted" in [e["action"] for e in history["items"]]
    assert all(code not in str(e) for e in history["items"])


async def test_codes_are_stored_only_hashed(client: httpx.AsyncClient, submit, db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    receipt = await submit()
    async with db.session(write=False) as session:
        dump = str((await session.execute(text("SELECT * FROM application_access"))).all())
        audit = str((await session.execute(text("SELECT payload FROM audit_events"))).all())
    normal = receipt["access_code"].replace("-", "")
    assert normal not in dump and receipt["access_code"] not in dump
    assert normal not in audit


async def test_status_by_owner_token_and_by_access_code(
    client: httpx.AsyncClient, submit, maria
) -> None:  # type: ignore[no-untyped-def]
    receipt = await submit()
    url = receipt["status_url"]
    by_token = await client.get(url, headers=maria)
    by_code = await client.get(url, headers={"X-Access-Code": receipt["access_code"].lower()})
    assert by_token.status_code == by_code.status_code == 200
    assert by_token.json() == by_code.json()
    body = by_token.json()
    assert body["status"]["state"] == "eingegangen"
    assert body["status"]["label_de"] and body["status"]["label_en"]
    assert body["missing"] is None
    kinds = {d["kind"]: d for d in body["deadlines"]}
    assert "genehmigungsfiktion" in kinds and kinds["genehmigungsfiktion"]["effective_from"]
    assert "vollstaendigkeitspruefung" not in kinds  # internal deadline
    assert [t["action"] for t in body["timeline"]] == ["eingang_erfassen"]
    assert "actor" not in str(body["timeline"])


async def test_status_etag_and_304(client: httpx.AsyncClient, submit, maria) -> None:  # type: ignore[no-untyped-def]
    receipt = await submit()
    first = await client.get(receipt["status_url"], headers=maria)
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = await client.get(receipt["status_url"], headers=maria | {"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = await client.get(receipt["status_url"], headers=maria | {"If-None-Match": '"x"'})
    assert other.status_code == 200


async def test_wrong_code_unknown_and_foreign_file_numbers_look_the_same(
    client: httpx.AsyncClient, submit, auth
) -> None:  # type: ignore[no-untyped-def]
    mine = await submit()
    foreign = await submit(tenant=TENANT_B)
    stranger = auth("applicant", sub="mallory@buergerkonto")
    unknown = APPS.format(tenant=TENANT_A) + "/BA-1999-99999"
    attempts = [
        client.get(mine["status_url"], headers={"X-Access-Code": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"}),
        client.get(unknown, headers={"X-Access-Code": mine["access_code"]}),
        client.get(foreign["status_url"], headers={"X-Access-Code": mine["access_code"]}),
        client.get(mine["status_url"], headers={"X-Access-Code": foreign["access_code"]}),
        client.get(mine["status_url"], headers=stranger),
        client.get(mine["status_url"]),
    ]
    responses = [await a for a in attempts]
    assert [r.status_code for r in responses] == [404] * len(responses)
    shapes = {(r.json()["type"], r.json()["title"]) for r in responses}
    assert shapes == {("urn:eakte:problem:application-not-found", "Antrag nicht gefunden")}


async def test_guessing_is_throttled(client: httpx.AsyncClient, submit) -> None:  # type: ignore[no-untyped-def]
    receipt = await submit()
    url = receipt["status_url"]
    for i in range(10):
        response = await client.get(url, headers={"X-Access-Code": f"WRONG-{i:04d}"})
        assert response.status_code == 404
    blocked = await client.get(url, headers={"X-Access-Code": "WRONG-9999"})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["type"] == "urn:eakte:problem:too-many-attempts"
    # even the right code waits now: guessing is stopped, not just slowed
    assert (
        await client.get(url, headers={"X-Access-Code": receipt["access_code"]})
    ).status_code == 429


async def test_guessing_across_file_numbers_is_throttled_per_address(
    client: httpx.AsyncClient,
) -> None:
    statuses = []
    for i in range(31):
        response = await client.get(
            APPS.format(tenant=TENANT_A) + f"/BA-2026-{i:05d}", headers={"X-Access-Code": "NOPE"}
        )
        statuses.append(response.status_code)
    assert statuses[:30] == [404] * 30 and statuses[30] == 429


async def test_my_applications_across_authorities(
    client: httpx.AsyncClient, submit, maria, auth
) -> None:  # type: ignore[no-untyped-def]
    a = await submit(tenant=TENANT_A)
    b = await submit(tenant=TENANT_B, procedure="baybo-60", housing=False)
    await submit(tenant=TENANT_A, headers=auth("applicant", sub="someone-else"))
    items = (await client.get("/api/v1/applications", headers=maria)).json()["items"]
    assert [(i["authority"], i["file_number"]) for i in items] == [
        (TENANT_B, b["file_number"]),
        (TENANT_A, a["file_number"]),
    ]


@pytest.mark.parametrize("role", ["clerk", "approver", "auditor", "admin", "agency"])
async def test_officials_cannot_submit_as_applicants(
    client: httpx.AsyncClient, auth, role: str
) -> None:
    response = await client.post(
        APPS.format(tenant=TENANT_A), json=application(), headers=auth(role)
    )
    assert response.status_code == 403


async def test_submission_requires_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.post(APPS.format(tenant=TENANT_A), json=application())).status_code == 401
    assert (await client.get("/api/v1/applications")).status_code == 401


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"site": {"address": "A", "gemarkung": "G", "flurstueck": "12a"}}, 422),
        ({"site": {"address": "A", "gemarkung": "G"}}, 422),
        ({"applicant": {"name": "M", "email": "not-an-email"}}, 422),
        ({"designer": {"name": "D", "email": "d@example.org", "chamber_number": "<script>"}}, 422),
        ({"description": ""}, 422),
        ({"description": "x" * 20_001}, 422),
        ({"procedure": "baybo-99"}, 422),
        ({"procedure": "baybo-71"}, 422),  # a Vorbescheid needs questions
        ({"owner": "me"}, 422),
        ({"housing": "vielleicht"}, 422),
    ],
)
async def test_bad_applications_are_rejected_and_create_nothing(
    client: httpx.AsyncClient, maria, auth, overrides: dict, status: int
) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        APPS.format(tenant=TENANT_A), json=application(**overrides), headers=maria
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/cases", headers=auth("clerk"))).json()["items"] == []


async def test_unknown_authority_is_404(client: httpx.AsyncClient, maria) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(APPS.format(tenant="atlantis"), json=application(), headers=maria)
    assert response.status_code == 404


async def test_vorbescheid_with_questions(client: httpx.AsyncClient, submit, maria) -> None:  # type: ignore[no-untyped-def]
    receipt = await submit(
        procedure="baybo-71", questions=["Sind drei Vollgeschosse zulässig?"], housing=False
    )
    body = (await client.get(receipt["status_url"], headers=maria)).json()
    assert body["procedure"] == "baybo-71" and body["status"]["state"] == "eingegangen"


async def test_concurrent_submissions_get_distinct_numbers(
    client: httpx.AsyncClient, submit
) -> None:  # type: ignore[no-untyped-def]
    receipts = await asyncio.gather(*[submit() for _ in range(8)])
    assert len({r["file_number"] for r in receipts}) == 8
    assert len({r["access_code"] for r in receipts}) == 8


async def _upload(
    client: httpx.AsyncClient,
    headers: dict,
    receipt: dict,
    kind: str,
    content: bytes = PDF,
    name: str | None = None,
    language: str | None = None,
) -> httpx.Response:
    return await client.post(
        receipt["status_url"] + "/documents",
        data={"title": kind.title(), "kind": kind},
        files={"file": (name or f"{kind}.pdf", content, "application/pdf")},
        headers=headers | ({"Accept-Language": language} if language else {}),
    )


async def _act(
    client: httpx.AsyncClient,
    headers: dict,
    case_id: str,
    action: str,
    expected: str,
    **input: object,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/cases/{case_id}/process/actions",
        json={"action": action, "expected_state": expected, "input": input},
        headers=headers,
    )


async def test_upload_then_nachforderung_then_answer(
    client: httpx.AsyncClient, submit, maria, auth
) -> None:  # type: ignore[no-untyped-def]
    clerk = auth("clerk")
    receipt = await submit()
    first = await _upload(client, maria, receipt, "lageplan")
    assert first.status_code == 201, first.text
    assert first.json()["latest_version"]["media_type"] == "application/pdf"
    assert first.json()["created_by"] == "maria@buergerkonto"
    # officials see the applicant's upload on the case
    docs = (await client.get(f"/api/v1/cases/{receipt['case_id']}/documents", headers=clerk)).json()
    assert [d["kind"] for d in docs["items"]] == ["lageplan"]

    asked = await _act(
        client,
        clerk,
        receipt["case_id"],
        "nachfordern",
        "eingegangen",
        maengel=["Bauzeichnungen 1:100", "Baubeschreibung"],
        frist_bis="2030-01-31",
        hinweis_ruecknahmefiktion=True,
    )
    assert asked.status_code == 200, asked.text
    status = (
        await client.get(receipt["status_url"], headers={"X-Access-Code": receipt["access_code"]})
    ).json()
    assert status["status"]["state"] == "nachforderung"
    assert status["missing"] == {
        "items": ["Bauzeichnungen 1:100", "Baubeschreibung"],
        "received": [],
        "outstanding": ["Bauzeichnungen 1:100", "Baubeschreibung"],
        "deadline": "2030-01-31",
        "withdrawal_warning": True,
    }
    assert "genehmigungsfiktion" not in {d["kind"] for d in status["deadlines"]}

    doc = await _upload(client, maria, receipt, "bauzeichnung")
    assert doc.status_code == 201
    foreign_doc = (
        await client.post(
            f"/api/v1/cases/{receipt['case_id']}/documents",
            data={"title": "Vermerk", "kind": "sonstiges"},
            files={"file": ("v.pdf", PDF, "application/pdf")},
            headers=clerk,
        )
    ).json()
    bad = await client.post(
        receipt["status_url"] + "/responses", json={"documents": [foreign_doc["id"]]}, headers=maria
    )
    assert bad.status_code == 422
    assert bad.json()["type"] == "urn:eakte:problem:unknown-documents"

    # Art. 68 Abs. 2 S. 1 BayBO: a partial answer is recorded but does not resume the case
    partial = await client.post(
        receipt["status_url"] + "/responses",
        json={"documents": [doc.json()["id"]], "items": ["Bauzeichnungen 1:100"]},
        headers=maria,
    )
    assert partial.status_code == 200, partial.text
    assert partial.json()["status"]["state"] == "nachforderung"
    assert partial.json()["missing"]["outstanding"] == ["Baubeschreibung"]
    not_requested = await client.post(
        receipt["status_url"] + "/responses",
        json={"documents": [doc.json()["id"]], "items": ["Statik"]},
        headers=maria,
    )
    assert not_requested.status_code == 422
    assert not_requested.json()["reasons"][0]["code"] == "item_not_requested"
    answered = await client.post(
        receipt["status_url"] + "/responses",
        json={"documents": [doc.json()["id"]], "message": "anbei"},
        headers=maria,
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["status"]["state"] == "eingegangen"
    assert body["missing"] is None
    assert [t["action"] for t in body["timeline"]] == [
        "eingang_erfassen",
        "nachfordern",
        "nachgeforderte_unterlagen_erfassen",
        "nachgeforderte_unterlagen_erfassen",
        "unterlagen_nachreichen",
    ]
    fiktion = next(d for d in body["deadlines"] if d["kind"] == "genehmigungsfiktion")
    assert fiktion["effective_from"] > fiktion["due"]
    again = await client.post(
        receipt["status_url"] + "/responses", json={"documents": [doc.json()["id"]]}, headers=maria
    )
    assert again.status_code == 409
    assert again.json()["type"] == "urn:eakte:problem:no-open-nachforderung"


async def test_uploads_close_after_completeness(
    client: httpx.AsyncClient, submit, maria, auth
) -> None:  # type: ignore[no-untyped-def]
    clerk = auth("clerk")
    receipt = await submit()
    for kind in ("lageplan", "bauzeichnung", "baubeschreibung"):
        assert (await _upload(client, maria, receipt, kind)).status_code == 201
    assert (
        await _act(client, clerk, receipt["case_id"], "vollstaendigkeit_feststellen", "eingegangen")
    ).status_code == 200
    late = await _upload(client, maria, receipt, "sonstiges")
    assert late.status_code == 409
    assert late.json()["type"] == "urn:eakte:problem:uploads-closed"
    assert "Vollständigkeit" in late.json()["detail"]  # German by default on applicant routes
    english = await _upload(client, maria, receipt, "sonstiges", language="en")
    assert english.json()["type"] == "urn:eakte:problem:uploads-closed"
    assert english.json()["title"] == "Documents cannot be submitted now"
    assert "beteiligung" in english.json()["detail"]


@pytest.mark.parametrize(
    ("content", "name", "status"),
    [
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "plan.pdf", 415),
        (b"<html><script>alert(1)</script></html>", "plan.pdf", 415),
        (b"", "plan.pdf", 422),
    ],
)
async def test_applicant_uploads_are_validated(
    client: httpx.AsyncClient, submit, maria, auth, content: bytes, name: str, status: int
) -> None:  # type: ignore[no-untyped-def]
    receipt = await submit()
    response = await _upload(client, maria, receipt, "lageplan", content=content, name=name)
    assert response.status_code == status, response.text
    docs = (
        await client.get(f"/api/v1/cases/{receipt['case_id']}/documents", headers=auth("clerk"))
    ).json()
    assert docs["items"] == []


async def test_only_the_owner_uploads_and_answers(client: httpx.AsyncClient, submit, auth) -> None:  # type: ignore[no-untyped-def]
    receipt = await submit()
    stranger = auth("applicant", sub="mallory@buergerkonto")
    assert (await _upload(client, stranger, receipt, "lageplan")).status_code == 404
    response = await client.post(
        receipt["status_url"] + "/responses",
        json={"documents": [receipt["case_id"]]},
        headers=stranger,
    )
    assert response.status_code == 404
    code_only = await client.post(
        receipt["status_url"] + "/documents",
        data={"title": "x", "kind": "lageplan"},
        files={"file": ("x.pdf", PDF, "application/pdf")},
        headers={"X-Access-Code": receipt["access_code"]},
    )
    assert code_only.status_code == 401


async def test_issued_documents_only(client: httpx.AsyncClient, submit, maria, auth) -> None:  # type: ignore[no-untyped-def]
    clerk = auth("clerk")
    receipt = await submit()
    internal = (
        await client.post(
            f"/api/v1/cases/{receipt['case_id']}/documents",
            data={"title": "Interner Vermerk", "kind": "stellungnahme"},
            files={"file": ("v.pdf", PDF, "application/pdf")},
            headers=clerk,
        )
    ).json()
    tagged = (  # merely tagged `bescheid`: never shown as issued (issue 13)
        await client.post(
            f"/api/v1/cases/{receipt['case_id']}/documents",
            data={"title": "Entwurf Ablehnungsbescheid", "kind": "bescheid"},
            files={"file": ("Bescheid.pdf", PDF, "application/pdf")},
            headers=clerk,
        )
    ).json()
    issued = await issue_letter(client, auth, receipt["case_id"])
    permit = {"id": issued["document_id"]}
    status = (await client.get(receipt["status_url"], headers=maria)).json()
    assert [d["id"] for d in status["documents"]] == [permit["id"]]
    url = status["documents"][0]["download_url"]
    download = await client.get(url, headers={"X-Access-Code": receipt["access_code"]})
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert download.headers["content-disposition"].startswith("attachment")
    for other in (internal["id"], tagged["id"]):
        hidden = await client.get(url.replace(permit["id"], other), headers=maria)
        assert hidden.status_code == 404
    stranger = await client.get(url, headers=auth("applicant", sub="mallory@buergerkonto"))
    assert stranger.status_code == 404


APPLICANT_ROUTES = [
    ("GET", ""),
    ("POST", "/documents"),
    ("POST", "/responses"),
    ("POST", "/fiction-waiver"),
    ("GET", "/documents/{document_id}/content"),
]


async def test_applicant_tenant_matrix(client: httpx.AsyncClient, app, submit, maria, auth) -> None:  # type: ignore[no-untyped-def]
    """Every applicant route with a file number: the same number under another authority is 404."""
    paths = {p for p in app.openapi()["paths"] if "{file_number}" in p}
    assert paths == {
        "/api/v1/authorities/{tenant}/applications/{file_number}" + suffix
        for _, suffix in APPLICANT_ROUTES
    }
    mine = await submit(tenant=TENANT_A)
    permit = (
        await client.post(
            f"/api/v1/cases/{mine['case_id']}/documents",
            data={"title": "Bescheid", "kind": "bescheid"},
            files={"file": ("b.pdf", PDF, "application/pdf")},
            headers=auth("clerk"),
        )
    ).json()
    elsewhere = APPS.format(tenant=TENANT_B) + "/" + mine["file_number"]
    for method, suffix in APPLICANT_ROUTES:
        url = elsewhere + suffix.replace("{document_id}", permit["id"])
        kwargs: dict = {}
        if suffix == "/documents":
            kwargs = {
                "data": {"title": "x", "kind": "lageplan"},
                "files": {"file": ("x.pdf", PDF, "application/pdf")},
            }
        elif suffix == "/responses":
            kwargs = {"json": {"documents": [permit["id"]]}}
        elif suffix == "/fiction-waiver":
            kwargs = {"json": {"declaration": "Ich verzichte auf die Fiktion. Maria"}}
        for headers in (maria, {"X-Access-Code": mine["access_code"]}):
            if method == "POST" and "X-Access-Code" in headers:
                continue
            response = await client.request(method, url, headers=headers, **kwargs)
            assert response.status_code == 404, (method, suffix, response.text)


async def test_status_follows_every_change_despite_caching(
    client: httpx.AsyncClient, submit, maria, auth, settings
) -> None:  # type: ignore[no-untyped-def]
    from eakte.db import Database
    from eakte.process.ticker import tick

    receipt = await submit(housing=False)
    url = receipt["status_url"]
    first = await client.get(url, headers=maria)
    assert (await client.get(url, headers=maria)).headers["etag"] == first.headers["etag"]
    issued = await issue_letter(client, auth, receipt["case_id"])
    second = await client.get(url, headers=maria)
    assert second.headers["etag"] != first.headers["etag"]
    assert [d["id"] for d in second.json()["documents"]] == [issued["document_id"]]
    await client.post(
        f"/api/v1/cases/{receipt['case_id']}/documents/{issued['document_id']}/withdrawal",
        json={"reason": "falscher Bescheid"},
        headers=auth("clerk"),
    )
    third = await client.get(url, headers=maria)
    assert third.json()["documents"] == []
    await client.post(
        f"/api/v1/cases/{receipt['case_id']}/process/actions",
        json={
            "action": "nachfordern",
            "expected_state": "eingegangen",
            "input": {
                "maengel": ["x"],
                "frist_bis": _in_days(3).isoformat(),
                "hinweis_ruecknahmefiktion": False,
            },
        },
        headers=auth("clerk"),
    )
    fourth = (await client.get(url, headers=maria)).json()
    assert [d["kind"] for d in fourth["deadlines"]] == ["nachforderungsfrist"]
    db = Database(settings.resolved_database_url())
    try:
        # a week later the deadline (even rolled past a weekend or holiday) has expired
        later = _in_days(10)
        await tick(
            db,
            now=__import__("datetime").datetime(
                later.year, later.month, later.day, 12, tzinfo=__import__("datetime").UTC
            ),
        )
    finally:
        await db.dispose()
    fifth = (await client.get(url, headers=maria)).json()
    assert fifth["deadlines"] == [] and fifth["status"]["state"] == "nachforderung"


async def test_applicant_waives_the_fiction_in_textform(
    client: httpx.AsyncClient, submit, maria, auth
) -> None:  # type: ignore[no-untyped-def]
    """Art. 68 Abs. 2 S. 2 BayBO: the applicant may waive the Genehmigungsfiktion in Textform;
    the clock stops, the officials see the waiver, a second waiver is a 409."""
    receipt = await submit(housing=True)
    url = receipt["status_url"] + "/fiction-waiver"
    before = (await client.get(receipt["status_url"], headers=maria)).json()
    assert "genehmigungsfiktion" in {d["kind"] for d in before["deadlines"]}
    short = await client.post(url, json={"declaration": "nein"}, headers=maria)
    assert short.status_code == 422
    waived = await client.post(
        url, json={"declaration": "Ich verzichte auf die Genehmigungsfiktion. Maria"}, headers=maria
    )
    assert waived.status_code == 200, waived.text
    assert "genehmigungsfiktion" not in {d["kind"] for d in waived.json()["deadlines"]}
    view = (
        await client.get(f"/api/v1/cases/{receipt['case_id']}/process", headers=auth("clerk"))
    ).json()
    assert view["variables"]["fiktion_verzicht"]["von"] == "maria@buergerkonto"
    assert view["transitions"][-1]["input"]["erklaerung"].startswith("Ich verzichte")
    again = await client.post(
        url, json={"declaration": "Ich verzichte nochmals darauf. Maria"}, headers=maria
    )
    assert again.status_code == 409
    assert again.json()["type"] == "urn:eakte:problem:fiction-waiver-not-possible"
    by_code = await client.post(
        url,
        json={"declaration": "Ich verzichte auf die Fiktion. Maria"},
        headers={"X-Access-Code": receipt["access_code"]},
    )
    assert by_code.status_code in (401, 403)


def _in_days(days: int) -> date:
    from eakte.process.service import local_today

    return date.fromordinal(local_today().toordinal() + days)


async def test_openapi_has_examples_for_every_applicant_route(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]

    def has_example(ref_or_schema: dict) -> bool:
        ref = ref_or_schema.get("$ref")
        target = components[ref.rsplit("/", 1)[1]] if ref else ref_or_schema
        return bool(target.get("examples") or target.get("example"))

    routes = [
        (p, m, op)
        for p, ops in schema["paths"].items()
        if p.startswith("/api/v1/authorities") or p == "/api/v1/applications"
        for m, op in ops.items()
    ]
    assert len(routes) == 8
    for path, method, op in routes:
        body = op.get("requestBody", {}).get("content", {})
        if "application/json" in body:
            assert has_example(body["application/json"]["schema"]), (method, path, "request")
        ok = op["responses"].get("200") or op["responses"].get("201")
        content = ok.get("content", {}).get("application/json")
        if content and content.get("schema"):
            assert content.get("example") or has_example(content["schema"]), (method, path)
