"""Full-text search of document content on both backends (issue 15)."""

from __future__ import annotations

import sys

import httpx
from sqlalchemy import select

from eakte.search import extractor, worker
from eakte.search.models import DONE, FAILED, UNSUPPORTED, DocumentText
from support import TENANT_A, TENANT_B, png_image, text_pdf

PROBLEM = "urn:eakte:problem:"
FIRE = text_pdf(
    "Brandschutzkonzept für die Tiefgarage mit 40 Stellplätzen.",
    "Rettungswege über das Treppenhaus, Feuerwehrzufahrt von der Maximilianstraße.",
)


async def _search(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list:  # type: ignore[type-arg]
    response = await client.get("/api/v1/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def _statuses(db) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    async with db.session(write=False) as session:
        rows = await session.execute(
            select(DocumentText.status, DocumentText.error).order_by(DocumentText.id)
        )
        return [(s, e) for s, e in rows.all()]


async def test_document_text_is_found_with_a_marked_snippet(
    client: httpx.AsyncClient, auth, new_case, add_document, index_all
) -> None:
    case = await new_case(title="Neubau Mehrfamilienhaus")
    doc = await add_document(case, FIRE)
    assert await _search(client, auth("clerk"), q="Tiefgarage") == []  # not yet extracted
    assert await index_all() == 1
    hits = await _search(client, auth("clerk"), q="Tiefgarage Rettungswege")
    assert [(h["case_id"], h["document_id"]) for h in hits] == [(case["id"], doc["id"])]
    assert hits[0]["file_number"] == case["file_number"]
    assert "<mark>" in hits[0]["snippet"] and "Tiefgarage" in hits[0]["snippet"]
    assert await _search(client, auth("clerk"), q="Tiefgarage Schwimmbad") == []


async def test_case_list_q_finds_document_text_and_the_flurstueck(
    client: httpx.AsyncClient, auth, new_case, add_document, index_all
) -> None:
    with_text = await new_case(
        title="Umbau Wohnhaus", site={"address": "Hauptstraße 1", "flurstueck": "77/2"}
    )
    parcel = await new_case(
        title="Anbau Garage",
        site={"address": "Am Bach 3", "gemarkung": "Göggingen", "flurstueck": "1234/5"},
    )
    await add_document(with_text, FIRE)
    await index_all()

    async def listed(**params: str) -> list[str]:
        response = await client.get("/api/v1/cases", params=params, headers=auth("clerk"))
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert await listed(q="Brandschutzkonzept") == [with_text["id"]]
    assert await listed(q="1234/5") == [parcel["id"]]
    assert await listed(flurstueck="1234/5") == [parcel["id"]]
    assert await listed(gemarkung="göggingen") == [parcel["id"]]
    assert await listed(gemarkung="Göggingen", flurstueck="77/2") == []
    assert await listed(q="Umbau") == [with_text["id"]]  # metadata still found
    assert await listed(q='"*') == []  # punctuation only: no error, nothing matches


async def test_another_tenants_documents_with_the_same_words_are_never_found(
    client: httpx.AsyncClient, auth, new_case, add_document, index_all
) -> None:
    own = await new_case()
    foreign = await new_case(tenant=TENANT_B)
    await add_document(own, FIRE)
    await add_document(foreign, FIRE, tenant=TENANT_B)
    await index_all()
    for roles in (("clerk",), ("approver",), ("auditor",), ("admin",)):
        hits = await _search(client, auth(*roles, tenant=TENANT_A), q="Brandschutzkonzept")
        assert {h["case_id"] for h in hits} == {own["id"]}, roles
    hits_b = await _search(client, auth("clerk", tenant=TENANT_B), q="Brandschutzkonzept")
    assert {h["case_id"] for h in hits_b} == {foreign["id"]}
    listed = await client.get(
        "/api/v1/cases", params={"q": "Brandschutzkonzept"}, headers=auth("clerk")
    )
    assert [c["id"] for c in listed.json()["items"]] == [own["id"]]


async def test_role_visibility_applies_to_every_hit(
    client: httpx.AsyncClient, auth, new_case, add_document, index_all
) -> None:
    asked = await new_case()
    other = await new_case()
    for case in (asked, other):
        await add_document(case, FIRE, kind="brandschutznachweis")
    # issue 16: an internal document (e.g. a frozen Vermerk) is never found by an agency
    await add_document(asked, text_pdf("Vermerk intern: Tiefgarage Klagedrohung"), title="Vermerk")
    await index_all()
    agency = "wwa@augsburg"
    answer = await client.post(
        f"/api/v1/cases/{asked['id']}/participations",
        json={
            "kind": "fachstelle_stellungnahme",
            "party": "Wasserwirtschaftsamt",
            "agency_sub": agency,
        },
        headers=auth("clerk"),
    )
    assert answer.status_code == 201, answer.text
    hits = await _search(client, auth("agency", sub=agency), q="Tiefgarage")
    assert {h["case_id"] for h in hits} == {asked["id"]}
    assert [h["kind"] for h in hits] == ["brandschutznachweis"]
    assert await _search(client, auth("agency", sub=agency), q="Klagedrohung") == []
    clerk_hits = await _search(client, auth("clerk"), q="Klagedrohung")
    assert [h["document_title"] for h in clerk_hits] == ["Vermerk"]
    listed = await client.get(
        "/api/v1/cases", params={"q": "Klagedrohung"}, headers=auth("agency", sub=agency)
    )
    assert listed.json()["items"] == []  # not even as a yes/no through the case list
    assert await _search(client, auth("agency", sub="anderes-amt@augsburg"), q="Tiefgarage") == []
    applicant = await client.get(
        "/api/v1/search", params={"q": "Tiefgarage"}, headers=auth("applicant")
    )
    assert applicant.status_code in (401, 403)


async def test_withdrawn_documents_and_old_versions_are_not_found(
    client: httpx.AsyncClient, auth, new_case, add_document, index_all
) -> None:
    case = await new_case()
    doc = await add_document(case, FIRE)
    await add_document(case, text_pdf("Statik der Bodenplatte"), document_id=str(doc["id"]))
    await index_all()
    assert await _search(client, auth("clerk"), q="Tiefgarage") == []  # only in version 1
    assert len(await _search(client, auth("clerk"), q="Bodenplatte")) == 1
    withdrawn = await client.post(
        f"/api/v1/cases/{case['id']}/documents/{doc['id']}/withdrawal",
        json={"reason": "falsche Datei"},
        headers=auth("clerk"),
    )
    assert withdrawn.status_code == 204
    assert await _search(client, auth("clerk"), q="Bodenplatte") == []


async def test_plain_text_is_indexed_and_images_are_marked_unsupported(
    client: httpx.AsyncClient, auth, db, new_case, add_document, index_all
) -> None:
    case = await new_case()
    await add_document(
        case, "Baubeschreibung: Holzständerbauweise, Gründach.\n".encode(), filename="b.txt"
    )
    await add_document(case, png_image(), filename="foto.png", title="Foto")
    await index_all()
    assert sorted(s for s, _ in await _statuses(db)) == [DONE, UNSUPPORTED]
    hits = await _search(client, auth("clerk"), q="holzständerbauweise")
    assert len(hits) == 1


async def test_a_hanging_extractor_is_killed_and_the_worker_goes_on(
    client: httpx.AsyncClient, auth, app, db, settings, new_case, add_document, monkeypatch
) -> None:
    case = await new_case()
    await add_document(case, FIRE)
    capped = settings.model_copy(update={"search_max_seconds": 1.0})
    monkeypatch.setattr(
        extractor, "EXTRACT_ARGV", [sys.executable, "-c", "import time; time.sleep(3600)"]
    )
    assert await worker.drain(db, app.state.store, capped) == 1
    [(status, error)] = await _statuses(db)
    assert status == FAILED and error is not None and "longer than" in error
    monkeypatch.undo()
    await add_document(case, text_pdf("Abstandsflächenplan"), title="Abstandsflächen")
    await worker.drain(db, app.state.store, settings)
    assert len(await _search(client, auth("clerk"), q="Abstandsflächenplan")) == 1


async def test_an_extractor_that_exhausts_memory_is_stopped_by_its_limit(
    app, db, settings, new_case, add_document, monkeypatch
) -> None:
    case = await new_case()
    await add_document(case, FIRE)
    capped = settings.model_copy(update={"search_max_memory_mib": 256})
    monkeypatch.setattr(
        extractor, "EXTRACT_ARGV", [sys.executable, "-c", "x = bytearray(8 * 1024 ** 3)"]
    )
    await worker.drain(db, app.state.store, capped)
    [(status, error)] = await _statuses(db)
    assert status == FAILED and error is not None and "MemoryError" in error


async def test_a_broken_pdf_fails_alone(
    client: httpx.AsyncClient, auth, db, new_case, add_document, index_all
) -> None:
    case = await new_case()
    await add_document(case, b"%PDF-1.7\n1 0 obj << /Type /Pages /Kids [1 0 R] >>\n" * 50)
    await add_document(case, FIRE, title="Konzept")
    await index_all()
    assert sorted(s for s, _ in await _statuses(db)) == [DONE, FAILED]
    assert len(await _search(client, auth("clerk"), q="Feuerwehrzufahrt")) == 1


async def test_bad_search_input_is_a_problem(client: httpx.AsyncClient, auth) -> None:
    for params in ({}, {"q": ""}, {"q": "!!! ??"}, {"q": "x", "limit": "0"}, {"q": "a" * 201}):
        response = await client.get("/api/v1/search", params=params, headers=auth("clerk"))
        assert response.status_code == 422, params
        assert response.json()["type"] == PROBLEM + "validation-failed"
    assert (await client.get("/api/v1/search", params={"q": "x"})).status_code == 401


async def test_a_common_word_ranks_the_newest_visible_hits_only(
    client: httpx.AsyncClient, auth, new_case, add_document, index_all, monkeypatch
) -> None:
    """Ranking is capped at the newest RANK_CANDIDATES hits the caller may see (issue 15)."""
    from eakte.search import service

    monkeypatch.setattr(service, "RANK_CANDIDATES", 3)
    own, foreign = await new_case(), await new_case(tenant=TENANT_B)
    for n in range(6):
        await add_document(own, text_pdf(f"Stellplatznachweis Nummer {n}"), title=f"S{n}")
        # newer texts of another tenant with the same word must not take the places
        await add_document(
            foreign, text_pdf("Stellplatznachweis fremd"), title=f"F{n}", tenant=TENANT_B
        )
    await index_all()
    hits = await _search(client, auth("clerk"), q="Stellplatznachweis")
    assert sorted(h["document_title"] for h in hits) == ["S3", "S4", "S5"]
    assert {h["case_id"] for h in hits} == {own["id"]}
    rare = await _search(client, auth("clerk"), q="Stellplatznachweis Nummer 0")
    assert [h["document_title"] for h in rare] == ["S0"]  # fewer hits than the cap: all ranked
