"""Rejected uploads get a clear 4xx and leave nothing behind: no row, no object, no event."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, update

from eakte.audit.models import AuditEvent
from eakte.documents.models import Document, DocumentVersion
from eakte.tenants.models import Tenant
from storage.testing import raw_names
from support import TENANT_A

PROBLEM = "urn:eakte:problem:"


async def _nothing_stored(db, store) -> None:  # type: ignore[no-untyped-def]
    async with db.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 0
        assert await session.scalar(select(func.count()).select_from(DocumentVersion)) == 0
        actions = (await session.scalars(select(AuditEvent.action))).all()
        assert not [a for a in actions if a.startswith("document.")]
    assert [n for n in raw_names(store) if not n.startswith(".tmp/")] == []
    assert raw_names(store) == []


async def _set_limit(db, max_bytes: int) -> None:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        await session.execute(
            update(Tenant).where(Tenant.slug == TENANT_A).values(max_upload_bytes=max_bytes)
        )


@pytest.mark.parametrize(
    ("sample", "filename", "slug", "detected"),
    [
        ("elf", "lageplan.pdf", "media-type-not-allowed", "application/x-executable"),
        ("elf", "tool", "media-type-not-allowed", "application/x-executable"),
        ("html", "lageplan.pdf", "media-type-not-allowed", "text/html"),
        ("zip", "unterlagen.zip", "media-type-not-allowed", "application/zip"),
        ("png", "lageplan.pdf", "extension-mismatch", "image/png"),
        ("text", "lageplan.pdf", "extension-mismatch", "text/plain"),
        ("text", "notiz.html", "extension-mismatch", "text/plain"),
        ("pdf", "lageplan.exe", "extension-mismatch", "application/pdf"),
        (
            "docx",
            "bericht.odt",
            "extension-mismatch",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
async def test_wrong_types_are_415(
    db, store, new_case, upload, samples, sample: str, filename: str, slug: str, detected: str
) -> None:
    case = await new_case()
    response = await upload(case["id"], getattr(samples, sample)(), filename=filename)
    assert response.status_code == 415, response.text
    body = response.json()
    assert body["type"] == PROBLEM + slug
    assert body["detected_media_type"] == detected
    await _nothing_stored(db, store)


async def test_pe_executable_is_415(db, store, new_case, upload) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    pe = b"MZ" + b"\x90" * 58 + (64).to_bytes(4, "little") + b"PE\x00\x00\x4c\x01" + bytes(200)
    response = await upload(case["id"], pe, filename="Bauantrag.pdf")
    assert response.status_code == 415
    await _nothing_stored(db, store)


async def test_tenant_allow_list_is_used(db, store, new_case, upload, samples) -> None:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        await session.execute(
            update(Tenant)
            .where(Tenant.slug == TENANT_A)
            .values(allowed_media_types=["application/pdf"])
        )
    case = await new_case()
    response = await upload(case["id"], samples.png(), filename="plan.png")
    assert response.status_code == 415
    assert "accepted: application/pdf" in response.json()["detail"]
    await _nothing_stored(db, store)


async def test_empty_file_is_422(db, store, new_case, upload) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    response = await upload(case["id"], b"", filename="leer.pdf")
    assert response.status_code == 422
    assert response.json()["type"] == PROBLEM + "empty-upload"
    await _nothing_stored(db, store)


@pytest.mark.parametrize("size_over", [1, 300_000])
async def test_over_the_limit_is_413(db, store, new_case, upload, samples, size_over: int) -> None:  # type: ignore[no-untyped-def]
    await _set_limit(db, 200_000)
    case = await new_case()
    content = samples.pdf(pad=200_000 + size_over)
    response = await upload(case["id"], content)
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["type"] == PROBLEM + "upload-too-large"
    assert body["max_bytes"] == 200_000
    await _nothing_stored(db, store)
    exact = samples.pdf()
    await _set_limit(db, len(exact))
    assert (await upload(case["id"], exact)).status_code == 201


async def test_declared_content_length_over_the_limit_is_413_at_once(
    client: httpx.AsyncClient, auth, db, store, new_case
) -> None:
    await _set_limit(db, 1000)
    case = await new_case()
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        content=b"x" * 200_000,
        headers=auth("clerk")
        | {"Content-Type": "multipart/form-data; boundary=abc", "Content-Length": "200000"},
    )
    assert response.status_code == 413
    await _nothing_stored(db, store)


@pytest.mark.parametrize("cut", ["in_headers", "in_file_head", "in_file_tail", "before_end"])
async def test_truncated_body_is_400(
    client: httpx.AsyncClient, auth, db, store, new_case, samples, multipart_body, cut: str
) -> None:
    case = await new_case()
    content = samples.pdf(pad=200_000)
    body, content_type = multipart_body(
        [("title", None, b"Plan"), ("kind", None, b"lageplan"), ("file", "plan.pdf", content)]
    )
    file_at = body.index(content)
    keep = {
        "in_headers": body.index(b"filename=") + 5,
        "in_file_head": file_at + 1000,
        "in_file_tail": file_at + len(content) - 10,
        "before_end": len(body) - 4,
    }[cut]
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        content=body[:keep],
        headers=auth("clerk") | {"Content-Type": content_type},
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"] == PROBLEM + "malformed-upload"
    await _nothing_stored(db, store)


@pytest.mark.parametrize(
    ("content_type", "status", "slug"),
    [
        ("application/pdf", 415, "multipart-required"),
        ("application/json", 415, "multipart-required"),
        (None, 415, "multipart-required"),
        ("multipart/form-data", 400, "malformed-upload"),
    ],
)
async def test_not_a_multipart_body(
    client: httpx.AsyncClient, auth, db, store, new_case, samples, content_type, status, slug
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    headers = auth("clerk") | ({"Content-Type": content_type} if content_type else {})
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents", content=samples.pdf(), headers=headers
    )
    assert response.status_code == status
    assert response.json()["type"] == PROBLEM + slug
    await _nothing_stored(db, store)


async def test_garbage_multipart_is_400(
    client: httpx.AsyncClient, auth, db, store, new_case
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        content=b"this is not multipart at all\r\n" * 10,
        headers=auth("clerk") | {"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 400
    await _nothing_stored(db, store)


@pytest.mark.parametrize(
    ("fields", "fields_last", "loc"),
    [
        ({"title": "Plan", "kind": "gartenzwerg"}, False, "kind"),
        ({"title": "Plan", "kind": "gartenzwerg"}, True, "kind"),
        ({"title": "   ", "kind": "lageplan"}, True, "title"),
        ({"title": "x" * 301, "kind": "lageplan"}, False, "title"),
        ({"kind": "lageplan"}, True, "title"),
        ({"title": "Plan"}, False, "kind"),
    ],
)
async def test_invalid_fields_are_422_before_or_after_the_file(
    client: httpx.AsyncClient,
    auth,
    db,
    store,
    new_case,
    samples,
    multipart_body,
    fields,
    fields_last,
    loc,
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    text_parts = [(k, None, v.encode()) for k, v in fields.items()]
    file_part = ("file", "plan.pdf", samples.pdf(pad=100_000))
    parts = [file_part, *text_parts] if fields_last else [*text_parts, file_part]
    body, content_type = multipart_body(parts)
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        content=body,
        headers=auth("clerk") | {"Content-Type": content_type},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == PROBLEM + "validation-failed"
    assert ["body", loc] in [e["loc"] for e in problem["errors"]]
    await _nothing_stored(db, store)


@pytest.mark.parametrize(
    "parts",
    [
        [("title", None, b"Plan"), ("kind", None, b"lageplan")],
        [
            ("title", None, b"Plan"),
            ("kind", None, b"lageplan"),
            ("owner", None, b"x"),
            ("file", "a.pdf", b"%PDF-1.4\n"),
        ],
        [
            ("title", None, b"Plan"),
            ("kind", None, b"lageplan"),
            ("title", None, b"again"),
            ("file", "a.pdf", b"%PDF-1.4\n"),
        ],
        [
            ("title", None, b"Plan"),
            ("kind", None, b"lageplan"),
            ("file", "a.pdf", b"%PDF-1.4\n"),
            ("file", "b.pdf", b"%PDF-1.4\n"),
        ],
        [("title", None, b"Plan"), ("kind", None, b"lageplan"), ("upload", "a.pdf", b"%PDF-1.4\n")],
    ],
    ids=["no-file", "unknown-field", "duplicate-field", "two-files", "file-under-other-name"],
)
async def test_odd_part_layouts_are_422(
    client: httpx.AsyncClient, auth, db, store, new_case, multipart_body, parts
) -> None:  # type: ignore[no-untyped-def]
    case = await new_case()
    body, content_type = multipart_body(parts)
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        content=body,
        headers=auth("clerk") | {"Content-Type": content_type},
    )
    assert response.status_code == 422, response.text
    await _nothing_stored(db, store)


async def test_rejected_new_version_changes_nothing(
    client: httpx.AsyncClient, auth, db, store, new_case, upload, samples
) -> None:
    case = await new_case()
    doc = (await upload(case["id"], samples.pdf())).json()
    before = raw_names(store)
    for content, filename in ((samples.html(), "neu.pdf"), (b"", "neu.pdf")):
        response = await upload(case["id"], content, filename=filename, document_id=doc["id"])
        assert response.status_code in (415, 422)
    fetched = await client.get(
        f"/api/v1/cases/{case['id']}/documents/{doc['id']}", headers=auth("clerk")
    )
    assert fetched.json()["version_count"] == 1
    assert raw_names(store) == before
