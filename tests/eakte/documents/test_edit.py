"""Retitle, reclassify and withdraw documents (issue 16): audited, nothing lost, marked in lists."""

from __future__ import annotations

import httpx
import pytest

from support import TENANT_B

PROBLEM = "urn:eakte:problem:"


@pytest.fixture
async def doc(new_case, upload, samples):  # type: ignore[no-untyped-def]
    """A case of tenant A with one PDF document; returns (case, document)."""
    case = await new_case()
    response = await upload(case["id"], samples.pdf(), title="Lageplan alt")
    assert response.status_code == 201
    return case, response.json()


async def test_retitle_and_reclassify_keep_versions_and_are_in_the_history(
    client: httpx.AsyncClient, auth, doc
) -> None:
    case, document = doc
    url = f"/api/v1/cases/{case['id']}/documents/{document['id']}"
    response = await client.patch(
        url, json={"title": "Lageplan M 1:500", "kind": "bauzeichnung"}, headers=auth("clerk")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["kind"], body["kind_label"]) == (
        "Lageplan M 1:500",
        "bauzeichnung",
        "Bauzeichnung",
    )
    assert [v["sha256"] for v in body["versions"]] == [document["latest_version"]["sha256"]]
    listed = await client.get(f"/api/v1/cases/{case['id']}/documents", headers=auth("approver"))
    assert [d["title"] for d in listed.json()["items"]] == ["Lageplan M 1:500"]
    history = await client.get(f"/api/v1/cases/{case['id']}/history", headers=auth("clerk"))
    updated = [e for e in history.json()["items"] if e["action"] == "document.updated"]
    assert len(updated) == 1
    assert updated[0]["details"]["before"] == {"title": "Lageplan alt", "kind": "lageplan"}
    assert "umbenannt von „Lageplan alt“ in „Lageplan M 1:500“" in updated[0]["text"]
    assert "Art geändert von Lageplan in Bauzeichnung" in updated[0]["text"]
    # the same values again change nothing and record nothing
    again = await client.patch(url, json={"kind": "bauzeichnung"}, headers=auth("clerk"))
    assert again.status_code == 200
    history = await client.get(f"/api/v1/cases/{case['id']}/history", headers=auth("clerk"))
    assert [e["action"] for e in history.json()["items"]].count("document.updated") == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 301},
        {"kind": "bauplan"},
        {"title": "ok", "owner": "me"},
        {"title": "Plan\u0000"},
        {"title": None, "kind": None},
    ],
)
async def test_bad_changes_are_422_and_change_nothing(
    client: httpx.AsyncClient, auth, doc, body: dict[str, object]
) -> None:
    case, document = doc
    url = f"/api/v1/cases/{case['id']}/documents/{document['id']}"
    response = await client.patch(url, json=body, headers=auth("clerk"))
    assert response.status_code == 422, response.text
    assert response.json()["type"] == PROBLEM + "validation-failed"
    unchanged = await client.get(url, headers=auth("clerk"))
    assert (unchanged.json()["title"], unchanged.json()["kind"]) == ("Lageplan alt", "lageplan")


@pytest.mark.parametrize("role", ["approver", "auditor", "agency"])
async def test_only_clerks_and_admins_change_documents(
    client: httpx.AsyncClient, auth, doc, role: str
) -> None:
    case, document = doc
    url = f"/api/v1/cases/{case['id']}/documents/{document['id']}"
    response = await client.patch(url, json={"title": "Neu"}, headers=auth(role))
    assert response.status_code == 403
    withdraw = await client.post(url + "/withdrawal", json={"reason": "falsch"}, headers=auth(role))
    assert withdraw.status_code == 403


async def test_another_tenants_document_is_404(client: httpx.AsyncClient, auth, doc) -> None:
    case, document = doc
    url = f"/api/v1/cases/{case['id']}/documents/{document['id']}"
    for headers in (auth("clerk", tenant=TENANT_B), auth("admin", tenant=TENANT_B)):
        response = await client.patch(url, json={"title": "fremd"}, headers=headers)
        assert response.status_code == 404
        assert response.json()["type"] == PROBLEM + "case-not-found"
    missing = f"/api/v1/cases/{case['id']}/documents/00000000-0000-4000-8000-000000000000"
    response = await client.patch(missing, json={"title": "x"}, headers=auth("clerk"))
    assert response.status_code == 404
    assert response.json()["type"] == PROBLEM + "document-not-found"


async def test_withdrawn_document_stays_in_the_file_marked_with_its_reason(
    client: httpx.AsyncClient, auth, doc, new_case
) -> None:
    """Art. 33 BayDiG: nothing of a file is deleted; withdrawn documents stay listed as record."""
    case, document = doc
    base = f"/api/v1/cases/{case['id']}/documents"
    url = f"{base}/{document['id']}"
    reason = "versehentlich doppelt hochgeladen"
    assert (
        await client.post(url + "/withdrawal", json={"reason": reason}, headers=auth("clerk"))
    ).status_code == 204
    plain = await client.get(base, headers=auth("clerk"))
    assert plain.json()["items"] == []
    for role in ("clerk", "approver", "auditor"):
        full = await client.get(base + "?include_withdrawn=true", headers=auth(role))
        assert full.status_code == 200
        [item] = full.json()["items"]
        assert item["withdrawn"] is True and item["withdrawn_reason"] == reason
        assert item["deleted_by"].startswith("clerk-")
    refused = await client.get(base + "?include_withdrawn=true", headers=auth("agency"))
    assert refused.status_code == 403
    # a withdrawn document can no longer be changed
    patched = await client.patch(url, json={"title": "neu"}, headers=auth("clerk"))
    assert patched.status_code == 404
    history = await client.get(f"/api/v1/cases/{case['id']}/history", headers=auth("clerk"))
    [withdrawn] = [e for e in history.json()["items"] if e["action"] == "document.withdrawn"]
    assert withdrawn["text"].endswith(
        f"hat das Dokument „Lageplan alt“ zurückgezogen (Grund: {reason})"
    )
    # another tenant's official cannot list it either
    foreign = await client.get(
        base + "?include_withdrawn=true", headers=auth("clerk", tenant=TENANT_B)
    )
    assert foreign.status_code == 404


@pytest.mark.parametrize("reason", ["", "ab", "x" * 2001])
async def test_withdrawal_needs_a_reason(client: httpx.AsyncClient, auth, doc, reason: str) -> None:
    case, document = doc
    url = f"/api/v1/cases/{case['id']}/documents/{document['id']}"
    response = await client.post(
        url + "/withdrawal", json={"reason": reason}, headers=auth("clerk")
    )
    assert response.status_code == 422
    listed = await client.get(f"/api/v1/cases/{case['id']}/documents", headers=auth("clerk"))
    assert [d["id"] for d in listed.json()["items"]] == [document["id"]]
