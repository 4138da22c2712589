"""Documents and versions through the HTTP API: upload, version, list, read, audit."""

from __future__ import annotations

import asyncio
import hashlib

import httpx
import pytest

from storage.testing import raw_names
from support import TENANT_A


async def test_upload_creates_document_with_version_one(
    client: httpx.AsyncClient, auth, new_case, upload, samples, store
) -> None:
    case = await new_case()
    pdf = samples.pdf()
    response = await upload(case["id"], pdf, comment="Erstvorlage")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["case_id"] == case["id"]
    assert body["title"] == "Lageplan M 1:500"
    assert body["kind"] == "lageplan" and body["kind_label"] == "Lageplan"
    assert body["version_count"] == 1
    assert response.headers["location"] == f"/api/v1/cases/{case['id']}/documents/{body['id']}"
    v1 = body["latest_version"]
    assert body["versions"] == [v1]
    assert v1["number"] == 1
    assert v1["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert v1["size"] == len(pdf)
    assert v1["media_type"] == "application/pdf"
    assert v1["filename"] == "lageplan.pdf"
    assert v1["comment"] == "Erstvorlage"
    assert v1["status"] == "ok"
    assert v1["created_by"].startswith("clerk-")
    keys = [entry.key for entry in store.iter_keys()]
    assert len(keys) == 1
    tenant, case_id, document_id, version_id = keys[0].split("/")
    assert (tenant, case_id, document_id) == (TENANT_A, case["id"], body["id"])
    assert len(version_id) == 36
    assert store.hash(keys[0]) == v1["sha256"]


async def test_new_versions_count_up_and_keep_the_old_ones(
    client: httpx.AsyncClient, auth, new_case, upload, samples, store
) -> None:
    case = await new_case()
    doc = (await upload(case["id"], samples.pdf("v1"))).json()
    contents = [samples.pdf("v1")]
    for n in (2, 3):
        content = samples.pdf(f"v{n}")
        contents.append(content)
        response = await upload(
            case["id"], content, document_id=doc["id"], comment=f"Fassung {n}", role="approver"
        )
        assert response.status_code == 201, response.text
        version = response.json()
        assert version["number"] == n
        assert version["comment"] == f"Fassung {n}"
        assert response.headers["location"].endswith(f"/documents/{doc['id']}/versions/{n}")
    full = await client.get(
        f"/api/v1/cases/{case['id']}/documents/{doc['id']}", headers=auth("auditor")
    )
    assert full.status_code == 200
    body = full.json()
    assert body["version_count"] == 3
    assert [v["number"] for v in body["versions"]] == [1, 2, 3]
    assert body["latest_version"] == body["versions"][-1]
    assert [v["sha256"] for v in body["versions"]] == [
        hashlib.sha256(c).hexdigest() for c in contents
    ]
    for n, content in enumerate(contents, start=1):
        got = await client.get(
            f"/api/v1/cases/{case['id']}/documents/{doc['id']}/versions/{n}/content",
            headers=auth("clerk"),
        )
        assert got.content == content
    assert len(list(store.iter_keys())) == 3


async def test_list_shows_documents_with_their_newest_version(
    client: httpx.AsyncClient, auth, new_case, upload, samples
) -> None:
    case = await new_case()
    other_case = await new_case()
    a = (await upload(case["id"], samples.pdf("a"), title="Lageplan")).json()
    b = (
        await upload(
            case["id"], samples.png(), filename="ansicht.png", title="Ansicht", kind="bauzeichnung"
        )
    ).json()
    await upload(other_case["id"], samples.pdf("x"))
    await upload(case["id"], samples.pdf("a2"), document_id=a["id"])
    listed = await client.get(f"/api/v1/cases/{case['id']}/documents", headers=auth("approver"))
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [d["id"] for d in items] == [a["id"], b["id"]]
    assert items[0]["latest_version"]["number"] == 2
    assert items[0]["versions"] is None
    assert items[1]["latest_version"]["media_type"] == "image/png"
    assert items[1]["kind_label"] == "Bauzeichnung"


async def test_get_single_version(
    client: httpx.AsyncClient, auth, new_case, upload, samples
) -> None:
    case = await new_case()
    doc = (await upload(case["id"], samples.pdf())).json()
    base = f"/api/v1/cases/{case['id']}/documents/{doc['id']}"
    response = await client.get(f"{base}/versions/1", headers=auth("auditor"))
    assert response.status_code == 200
    assert response.json() == doc["latest_version"]
    missing = await client.get(f"{base}/versions/2", headers=auth("auditor"))
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:eakte:problem:version-not-found"
    zero = await client.get(f"{base}/versions/0", headers=auth("auditor"))
    assert zero.status_code == 422


@pytest.mark.parametrize(
    ("sample", "filename", "media_type"),
    [
        ("png", "ansicht-nord.png", "image/png"),
        (
            "docx",
            "baubeschreibung.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("odt", "baubeschreibung.odt", "application/vnd.oasis.opendocument.text"),
        ("text", "baubeschreibung.txt", "text/plain"),
        ("text", "Baubeschreibung", "text/plain"),
        ("dxf", "lageplan.dxf", "image/vnd.dxf"),
        ("ifc", "haus.ifc", "text/plain"),
        ("xml", "antrag.xml", "text/xml"),
        ("jpeg", "foto.jpg", "image/jpeg"),
        ("tiff", "scan.tif", "image/tiff"),
    ],
)
async def test_accepted_types_are_detected_from_the_content(
    new_case, upload, samples, sample: str, filename: str, media_type: str
) -> None:
    case = await new_case()
    response = await upload(case["id"], getattr(samples, sample)(), filename=filename)
    assert response.status_code == 201, response.text
    assert response.json()["latest_version"]["media_type"] == media_type


async def test_fields_may_follow_the_file(
    client: httpx.AsyncClient, auth, new_case, upload, samples
) -> None:
    case = await new_case()
    response = await upload(
        case["id"], samples.pdf(), title="Brandschutz", kind="brandschutznachweis", fields_last=True
    )
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "brandschutznachweis"
    version = await upload(
        case["id"],
        samples.pdf("2"),
        document_id=response.json()["id"],
        comment="neu",
        fields_last=True,
    )
    assert version.status_code == 201
    assert version.json()["comment"] == "neu"


async def test_curl_style_upload_with_httpx_files(
    client: httpx.AsyncClient, auth, new_case, samples
) -> None:
    case = await new_case()
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        data={"title": "Statik", "kind": "standsicherheitsnachweis"},
        files={"file": ("statik.pdf", samples.pdf(), "text/html")},
        headers=auth("admin"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["latest_version"]["media_type"] == "application/pdf"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\maria\\Lageplan.pdf", "Lageplan.pdf"),
        ("Lage\tplan\x07\x1b.pdf", "Lage plan.pdf"),
        ('Plan "final"; v2.pdf', 'Plan "final"; v2.pdf'),
        ("Grundriß Erdgeschoß.pdf", "Grundriß Erdgeschoß.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("..", "dokument"),
        ("x" * 400 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
async def test_filenames_are_sanitised(new_case, upload, samples, sent: str, stored: str) -> None:
    case = await new_case()
    response = await upload(case["id"], samples.pdf(), filename=sent)
    assert response.status_code == 201, response.text
    assert response.json()["latest_version"]["filename"] == stored


async def test_document_kinds_vocabulary(client: httpx.AsyncClient, auth) -> None:
    response = await client.get("/api/v1/document-kinds", headers=auth("applicant"))
    assert response.status_code == 200
    kinds = {k["id"]: k["label"] for k in response.json()}
    assert kinds["lageplan"] == "Lageplan"
    assert kinds["standsicherheitsnachweis"] == "Standsicherheitsnachweis"
    assert list(kinds) == [
        "lageplan",
        "bauzeichnung",
        "baubeschreibung",
        "standsicherheitsnachweis",
        "brandschutznachweis",
        "stellungnahme",
        "nachbarunterschrift",
        "bescheid",
        "sonstiges",
    ]
    assert (await client.get("/api/v1/document-kinds")).status_code == 401


async def test_every_version_is_an_audit_event(
    client: httpx.AsyncClient, auth, new_case, upload, samples
) -> None:
    case = await new_case()
    doc = (await upload(case["id"], samples.pdf())).json()
    await upload(case["id"], samples.pdf("2"), document_id=doc["id"], comment="Nachtrag")
    deleted = await client.post(
        f"/api/v1/cases/{case['id']}/documents/{doc['id']}/withdrawal",
        json={"reason": "ersetzt durch Tektur"},
        headers=auth("clerk"),
    )
    assert deleted.status_code == 204
    history = (
        await client.get(f"/api/v1/cases/{case['id']}/history", headers=auth("auditor"))
    ).json()["items"]
    documents = [e for e in history if e["action"].startswith("document.")]
    assert [e["action"] for e in documents] == [
        "document.created",
        "document.version_added",
        "document.version_added",
        "document.withdrawn",
    ]
    v2 = documents[2]["details"]
    assert v2["number"] == 2 and v2["comment"] == "Nachtrag" and len(v2["sha256"]) == 64
    assert v2["object_key"].startswith(f"{TENANT_A}/{case['id']}/{doc['id']}/")
    verify = await client.get("/api/v1/audit/verify", headers=auth("auditor"))
    assert verify.json()["valid"] is True


async def test_versions_cannot_be_edited_or_replaced(
    client: httpx.AsyncClient, auth, new_case, upload, samples
) -> None:
    case = await new_case()
    doc = (await upload(case["id"], samples.pdf())).json()
    base = f"/api/v1/cases/{case['id']}/documents/{doc['id']}/versions/1"
    headers = auth("clerk", "admin")
    for method in ("PUT", "PATCH", "POST"):
        response = await client.request(method, base, headers=headers, json={"comment": "x"})
        assert response.status_code == 405, method
    refused = await client.delete(base, headers=headers)  # Aussonderung only (issue 15)
    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:eakte:problem:deletion-refused"
    response = await client.put(f"{base}/content", headers=headers, content=samples.pdf("evil"))
    assert response.status_code == 405


async def test_upload_of_a_missing_case_or_document_is_404_and_stores_nothing(
    client: httpx.AsyncClient, new_case, upload, samples, store
) -> None:
    missing = "2b1c9a55-0000-4000-8000-000000000000"
    response = await upload(missing, samples.pdf())
    assert response.status_code == 404
    assert response.json()["type"] == "urn:eakte:problem:case-not-found"
    case = await new_case()
    response = await upload(case["id"], samples.pdf(), document_id=missing)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:eakte:problem:document-not-found"
    assert raw_names(store) == []


async def test_openapi_describes_the_multipart_upload(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    post = schema["paths"]["/api/v1/cases/{case_id}/documents"]["post"]
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file", "title", "kind"]
    assert {"413", "415", "422"} <= set(post["responses"])
    content = schema["paths"][
        "/api/v1/cases/{case_id}/documents/{document_id}/versions/{number}/content"
    ]["get"]
    assert {"200", "206", "304", "416"} <= set(content["responses"])


async def test_concurrent_new_versions_get_consecutive_numbers(
    client: httpx.AsyncClient, auth, new_case, upload, samples
) -> None:
    case = await new_case()
    doc = (await upload(case["id"], samples.pdf())).json()
    responses = await asyncio.gather(
        *[upload(case["id"], samples.pdf(f"parallel {i}"), document_id=doc["id"]) for i in range(6)]
    )
    assert [r.status_code for r in responses] == [201] * 6
    assert sorted(r.json()["number"] for r in responses) == [2, 3, 4, 5, 6, 7]
    full = await client.get(
        f"/api/v1/cases/{case['id']}/documents/{doc['id']}", headers=auth("clerk")
    )
    assert full.json()["version_count"] == 7
    verify = await client.get("/api/v1/audit/verify", headers=auth("auditor"))
    assert verify.json()["valid"] is True
