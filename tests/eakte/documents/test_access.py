"""Who may do what with documents; other tenants' and other cases' ids are 404."""

from __future__ import annotations

import httpx
import pytest

from storage.testing import raw_names
from support import TENANT_A, TENANT_B

PROBLEM = "urn:eakte:problem:"


@pytest.fixture
async def doc(new_case, upload, samples):  # type: ignore[no-untyped-def]
    """A case of tenant A with one document; returns (case, document)."""
    case = await new_case()
    response = await upload(case["id"], samples.pdf())
    assert response.status_code == 201
    return case, response.json()


def _urls(case_id: str, document_id: str) -> list[tuple[str, str]]:
    base = f"/api/v1/cases/{case_id}/documents"
    one = f"{base}/{document_id}"
    return [
        ("GET", base),
        ("GET", one),
        ("GET", f"{one}/versions/1"),
        ("GET", f"{one}/versions/1/content"),
        ("HEAD", f"{one}/versions/1/content"),
        ("GET", f"{one}/content"),
        ("HEAD", f"{one}/content"),
        ("DELETE", one),
        ("POST", base),
        ("POST", f"{one}/versions"),
    ]


async def _call(client: httpx.AsyncClient, method: str, url: str, headers, samples):  # type: ignore[no-untyped-def]
    if method == "POST":
        data = {"title": "Plan", "kind": "lageplan"} if url.endswith("/documents") else {}
        return await client.post(
            url,
            data=data,
            files={"file": ("plan.pdf", samples.pdf("x"), "application/pdf")},
            headers=headers,
        )
    return await client.request(method, url, headers=headers)


@pytest.mark.parametrize("role", ["clerk", "approver", "admin"])
async def test_upload_roles(new_case, upload, samples, role: str) -> None:
    case = await new_case()
    created = await upload(case["id"], samples.pdf(), role=role)
    assert created.status_code == 201
    version = await upload(
        case["id"], samples.pdf("2"), role=role, document_id=created.json()["id"]
    )
    assert version.status_code == 201


@pytest.mark.parametrize("role", ["applicant", "auditor"])
async def test_roles_that_cannot_upload(db, store, new_case, upload, samples, role: str) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    response = await upload(case["id"], samples.pdf(), role=role)
    assert response.status_code == 403
    assert response.json()["type"] == PROBLEM + "forbidden"
    assert raw_names(store) == []


async def test_an_agency_not_asked_cannot_upload(db, store, new_case, upload, samples) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: an agency uploads its Stellungnahme only to a case it is asked on."""
    case = await new_case()
    response = await upload(case["id"], samples.pdf(), role="agency")
    assert response.status_code == 404
    assert raw_names(store) == []


@pytest.mark.parametrize("role", ["clerk", "approver", "auditor", "admin"])
async def test_read_roles(client: httpx.AsyncClient, auth, doc, samples, role: str) -> None:
    case, document = doc
    for method, url in _urls(case["id"], document["id"]):
        if method in ("GET", "HEAD"):
            response = await client.request(method, url, headers=auth(role))
            assert response.status_code == 200, (role, url)


async def test_applicant_is_403_everywhere(client: httpx.AsyncClient, auth, doc, samples) -> None:
    case, document = doc
    for method, url in _urls(case["id"], document["id"]):
        response = await _call(client, method, url, auth("applicant"), samples)
        assert response.status_code == 403, (method, url)


async def test_agency_without_participation_sees_no_case(
    client: httpx.AsyncClient, auth, doc
) -> None:
    case, document = doc
    response = await client.get(f"/api/v1/cases/{case['id']}/documents", headers=auth("agency"))
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["approver", "auditor"])
async def test_only_clerk_and_admin_withdraw(client: httpx.AsyncClient, auth, doc, role) -> None:  # type: ignore[no-untyped-def]
    case, document = doc
    url = f"/api/v1/cases/{case['id']}/documents/{document['id']}"
    withdraw = await client.post(url + "/withdrawal", json=WITHDRAWAL, headers=auth(role))
    assert withdraw.status_code == 403
    assert (await client.get(url, headers=auth("clerk"))).status_code == 200


async def test_other_tenant_gets_404_on_every_route(
    client: httpx.AsyncClient, auth, doc, samples, store
) -> None:
    case, document = doc
    before = raw_names(store)
    headers = auth("clerk", "approver", "auditor", "admin", tenant=TENANT_B)
    for method, url in _urls(case["id"], document["id"]):
        response = await _call(client, method, url, headers, samples)
        assert response.status_code == 404, (method, url, response.text)
        if method != "HEAD":
            assert response.json()["type"] == PROBLEM + "case-not-found"
    assert raw_names(store) == before
    still = await client.get(
        f"/api/v1/cases/{case['id']}/documents/{document['id']}", headers=auth("clerk")
    )
    assert still.json()["version_count"] == 1 and still.json()["deleted_at"] is None


async def test_document_of_another_case_is_404(
    client: httpx.AsyncClient, auth, doc, new_case, samples, store
) -> None:
    _, document = doc
    other = await new_case()
    before = raw_names(store)
    for method, url in _urls(other["id"], document["id"]):
        if url.endswith("/documents"):
            continue  # the list and create routes have no document id
        response = await _call(client, method, url, auth("clerk", "admin"), samples)
        assert response.status_code == 404, (method, url, response.text)
        if method != "HEAD":
            assert response.json()["type"] == PROBLEM + "document-not-found"
    assert raw_names(store) == before


async def test_foreign_tenant_document_id_under_own_case_is_404(
    client: httpx.AsyncClient, auth, new_case, upload, samples
) -> None:
    mine = await new_case()
    theirs = await new_case(tenant=TENANT_B)
    foreign = (await upload(theirs["id"], samples.pdf(), tenant=TENANT_B)).json()
    response = await client.get(
        f"/api/v1/cases/{mine['id']}/documents/{foreign['id']}/content", headers=auth("clerk")
    )
    assert response.status_code == 404
    assert response.json()["type"] == PROBLEM + "document-not-found"


WITHDRAWAL = {"reason": "falsche Datei hochgeladen"}


async def test_withdrawal_hides_but_keeps(
    client: httpx.AsyncClient, auth, doc, upload, samples, store, db
) -> None:
    case, document = doc
    url = f"/api/v1/cases/{case['id']}/documents/{document['id']}"
    keys = raw_names(store)
    response = await client.post(url + "/withdrawal", json=WITHDRAWAL, headers=auth("clerk"))
    assert response.status_code == 204
    listed = await client.get(f"/api/v1/cases/{case['id']}/documents", headers=auth("clerk"))
    assert listed.json()["items"] == []
    for path in ("", "/versions/1", "/content", "/versions/1/content"):
        gone = await client.get(url + path, headers=auth("clerk", "approver"))
        assert gone.status_code == 404, path
        assert gone.json()["type"] == PROBLEM + "document-not-found"
    again = await client.post(url + "/withdrawal", json=WITHDRAWAL, headers=auth("clerk"))
    assert again.status_code == 404
    new_version = await upload(case["id"], samples.pdf("2"), document_id=document["id"])
    assert new_version.status_code == 404
    # kept for the audit: the bytes stay, auditors can still read it
    assert raw_names(store) == keys
    audited = await client.get(url, headers=auth("auditor"))
    assert audited.status_code == 200
    assert audited.json()["deleted_at"] is not None
    assert audited.json()["deleted_by"].startswith("clerk-")
    assert audited.json()["withdrawn_reason"] == WITHDRAWAL["reason"]
    content = await client.get(url + "/content", headers=auth("auditor"))
    assert content.status_code == 200 and content.content.startswith(b"%PDF")
    with_deleted = await client.get(
        f"/api/v1/cases/{case['id']}/documents?include_deleted=true", headers=auth("auditor")
    )
    assert [d["id"] for d in with_deleted.json()["items"]] == [document["id"]]
    refused = await client.get(
        f"/api/v1/cases/{case['id']}/documents?include_deleted=true", headers=auth("clerk")
    )
    assert refused.status_code == 403


async def test_admin_reads_only_its_own_tenant(client: httpx.AsyncClient, auth, doc) -> None:
    case, document = doc
    for tenant in (TENANT_A, TENANT_B):
        response = await client.get(
            f"/api/v1/cases/{case['id']}/documents", headers=auth("admin", tenant=tenant)
        )
        assert response.status_code == (200 if tenant == TENANT_A else 404)
