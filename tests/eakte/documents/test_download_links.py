"""Signed download links (issue 19): issued by an authorised call, fetched without a token,
refused when malformed, forged, expired or naming another tenant's object."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from eakte.documents import links
from eakte.documents.download import content_disposition
from support import TENANT_A, TENANT_B, link_grant, metric_value, tamper_link


def _path(url: str) -> str:
    """The app-relative part of a link (the in-process client has no network)."""
    return urlsplit(url).path


def _secret(app) -> bytes:  # type: ignore[no-untyped-def]
    return app.state.link_issuer.secret  # type: ignore[no-any-return]


@pytest.fixture
async def case_with_files(new_case, upload, samples):  # type: ignore[no-untyped-def]
    """A case with three documents; returns (case id, [(document id, bytes)])."""
    case = await new_case()
    files = []
    for i, name in enumerate(("Lageplan Süd.pdf", "Ansicht.pdf", "Schnitt.pdf")):
        content = samples.pdf(f"Plan {i}", pad=1000 * (i + 1))
        document = await upload(case["id"], content, filename=name, kind="bauzeichnung")
        assert document.status_code == 201, document.text
        files.append((document.json()["id"], content))
    return case["id"], files


async def test_bulk_links_fetch_the_same_bytes_without_a_token(
    client: httpx.AsyncClient, auth, case_with_files, app
) -> None:
    case_id, files = case_with_files
    response = await client.post(
        f"/api/v1/cases/{case_id}/documents/download-links", headers=auth("clerk")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["document_id"] for item in body["items"]] == [d for d, _ in files]
    for item, (_, content) in zip(body["items"], files, strict=True):
        assert item["expires_at"] == body["expires_at"]
        got = await client.get(_path(item["url"]))  # no Authorization header
        assert got.status_code == 200
        assert got.content == content
        assert got.headers["content-type"] == "application/pdf"
        assert got.headers["referrer-policy"] == "no-referrer"
    first = await client.get(_path(body["items"][0]["url"]), headers={"Range": "bytes=0-3"})
    assert first.status_code == 206 and first.content == b"%PDF"
    assert "Lageplan%20S%C3%BCd.pdf" in first.headers["content-disposition"]
    metrics = (await client.get("/metrics")).text
    assert metric_value(metrics, 'eakte_download_links_issued_total{mode="signed"}') == 3


async def test_bulk_links_for_chosen_documents_keep_their_order(
    client: httpx.AsyncClient, auth, case_with_files
) -> None:
    case_id, files = case_with_files
    wanted = [files[2][0], files[0][0]]
    response = await client.post(
        f"/api/v1/cases/{case_id}/documents/download-links",
        json={"document_ids": wanted},
        headers=auth("approver"),
    )
    assert response.status_code == 200, response.text
    assert [item["document_id"] for item in response.json()["items"]] == wanted
    content = await client.get(_path(response.json()["items"][0]["url"]))
    assert content.content == files[2][1]


async def test_link_to_one_version(
    client: httpx.AsyncClient, auth, case_with_files, upload, samples
) -> None:
    case_id, files = case_with_files
    document_id, first = files[0]
    second = samples.pdf("zweite Fassung")
    await upload(case_id, second, document_id=document_id, filename="neu.pdf")
    base = f"/api/v1/cases/{case_id}/documents/{document_id}/versions"
    for number, content in ((1, first), (2, second)):
        link = await client.post(f"{base}/{number}/download-link", headers=auth("clerk"))
        assert link.status_code == 200, link.text
        assert link.json()["number"] == number
        assert (await client.get(_path(link.json()["url"]))).content == content
    missing = await client.post(f"{base}/3/download-link", headers=auth("clerk"))
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:eakte:problem:version-not-found"


async def test_another_tenants_ids_are_not_found(
    client: httpx.AsyncClient, auth, case_with_files, new_case, upload, samples
) -> None:
    case_id, files = case_with_files
    # a Munich official asks for Augsburg's case, its documents, one version
    other = auth("clerk", tenant=TENANT_B)
    bulk = await client.post(f"/api/v1/cases/{case_id}/documents/download-links", headers=other)
    assert bulk.status_code == 404
    assert bulk.json()["type"] == "urn:eakte:problem:case-not-found"
    one = await client.post(
        f"/api/v1/cases/{case_id}/documents/{files[0][0]}/versions/1/download-link",
        headers=other,
    )
    assert one.status_code == 404
    # Munich's own case, with an Augsburg document id in the list
    munich = await new_case(tenant=TENANT_B)
    await upload(munich["id"], samples.pdf("München"), tenant=TENANT_B)
    mixed = await client.post(
        f"/api/v1/cases/{munich['id']}/documents/download-links",
        json={"document_ids": [files[0][0]]},
        headers=other,
    )
    assert mixed.status_code == 404
    assert mixed.json()["type"] == "urn:eakte:problem:document-not-found"
    unknown = await client.post(
        f"/api/v1/cases/{case_id}/documents/download-links",
        json={"document_ids": [str(uuid.uuid4())]},
        headers=auth("clerk"),
    )
    assert unknown.status_code == 404


async def test_applicants_and_anonymous_callers_get_no_links(
    client: httpx.AsyncClient, auth, case_with_files
) -> None:
    case_id, _ = case_with_files
    url = f"/api/v1/cases/{case_id}/documents/download-links"
    assert (await client.post(url)).status_code == 401
    applicant = await client.post(url, headers=auth("applicant"))
    assert applicant.status_code == 403  # their download is the Bekanntgabe (Art. 41 Abs. 2a)


@pytest.mark.parametrize(
    "body",
    [{"document_ids": []}, {"document_ids": ["kein-uuid"]}, {"extra": 1}, [1, 2]],
)
async def test_bad_link_requests_are_422(
    client: httpx.AsyncClient, auth, case_with_files, body: object
) -> None:
    case_id, _ = case_with_files
    response = await client.post(
        f"/api/v1/cases/{case_id}/documents/download-links", json=body, headers=auth("clerk")
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def _one_link(client, auth, case_with_files) -> str:  # type: ignore[no-untyped-def]
    case_id, files = case_with_files
    response = await client.post(
        f"/api/v1/cases/{case_id}/documents/{files[0][0]}/versions/1/download-link",
        headers=auth("clerk"),
    )
    return _path(response.json()["url"])


@pytest.mark.parametrize(
    ("make", "status", "slug"),
    [
        (lambda t, s: "not-a-token", 404, "download-link-invalid"),
        (lambda t, s: t.split("/", 1)[0], 404, "download-link-invalid"),  # the MAC alone
        (lambda t, s: t + "/", 404, "download-link-invalid"),  # an empty key segment
        (lambda t, s: t.replace("/", "//", 1), 404, "download-link-invalid"),
        (lambda t, s: "A" * 43 + "/" + "B" * 5000, 404, "download-link-invalid"),
        (lambda t, s: ("B" if t[0] != "B" else "C") + t[1:], 403, "download-link-forged"),
        (lambda t, s: t + "x", 403, "download-link-forged"),  # another version's key
        (lambda t, s: tamper_link(t, e=int(time.time()) + 10**6), 403, "download-link-forged"),
        (lambda t, s: tamper_link(t, t=TENANT_B), 403, "download-link-forged"),
        (
            lambda t, s: links.sign(b"another deployment's secret 0123456789", link_grant(t)),
            403,
            "download-link-forged",
        ),
        (
            lambda t, s: links.sign(s, link_grant(t, expires=int(time.time()) - 1)),
            403,
            "download-link-expired",
        ),
    ],
)
async def test_bad_links_are_refused_with_problem_json(
    client: httpx.AsyncClient, auth, case_with_files, app, make, status: int, slug: str
) -> None:
    path = await _one_link(client, auth, case_with_files)
    token = path.split("/dl/", 1)[1]
    bad = make(token, _secret(app))
    for language, title in (("en", None), ("de", "Der Download-Link")):
        response = await client.get(f"/api/v1/dl/{bad}", headers={"Accept-Language": language})
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"] == f"urn:eakte:problem:{slug}"
        if title:
            assert problem["title"].startswith(title)
            assert response.headers["content-language"] == "de"
        assert "%PDF" not in response.text
    head = await client.head(f"/api/v1/dl/{bad}")
    assert head.status_code == status and head.content == b""


async def test_a_genuine_link_to_another_tenants_object_is_not_served(
    client: httpx.AsyncClient, auth, case_with_files, app, new_case, upload, samples
) -> None:
    """Even a correctly signed link serves only an object of the tenant it names that exists
    as a version row of that tenant (the fallback checks the row)."""
    munich = await new_case(tenant=TENANT_B)
    await upload(munich["id"], samples.pdf("München"), tenant=TENANT_B)
    augsburg_token = (await _one_link(client, auth, case_with_files)).split("/dl/", 1)[1]
    grant = link_grant(augsburg_token)
    moved = grant.key.replace(f"{TENANT_A}/", f"{TENANT_B}/", 1)
    claimed = links.sign(_secret(app), link_grant(augsburg_token, tenant=TENANT_B, key=moved))
    response = await client.get(f"/api/v1/dl/{claimed}")
    assert response.status_code == 404
    assert response.json()["type"] == "urn:eakte:problem:version-not-found"
    with pytest.raises(ValueError):
        links.sign(_secret(app), link_grant(augsburg_token, tenant=TENANT_B))


def test_content_disposition_is_signed_as_the_download_route_sends_it() -> None:
    secret = b"s" * 40
    grant = links.Grant(
        tenant=TENANT_A,
        key=f"{TENANT_A}/c/d/v",
        expires=2_000_000_000,
        media_type="application/pdf",
        disposition=content_disposition("Grundriss EG – Büro.pdf"),
    )
    assert links.verify(secret, links.sign(secret, grant), now=1_999_999_999) == grant
