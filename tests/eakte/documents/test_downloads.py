"""Downloads: streaming, ETag/If-None-Match, Range, HEAD, Content-Disposition."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

import httpx
import pytest

from eakte.documents.download import content_disposition


@pytest.fixture
async def document(new_case, upload, samples):  # type: ignore[no-untyped-def]
    """A case with one PDF document (padded to a few KiB); returns (urls, content)."""
    case = await new_case()
    content = samples.pdf(pad=5000)
    doc = (await upload(case["id"], content, filename="Lageplan Süd.pdf")).json()
    base = f"/api/v1/cases/{case['id']}/documents/{doc['id']}"
    return {"v1": f"{base}/versions/1/content", "latest": f"{base}/content", "base": base}, content


@pytest.mark.parametrize("which", ["v1", "latest"])
async def test_download_headers_and_body(
    client: httpx.AsyncClient, auth, document, which: str
) -> None:
    urls, content = document
    response = await client.get(urls[which], headers=auth("approver"))
    assert response.status_code == 200
    assert response.content == content
    digest = hashlib.sha256(content).hexdigest()
    assert response.headers["etag"] == f'"{digest}"'
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"Lageplan Sud.pdf\"; filename*=UTF-8''Lageplan%20S%C3%BCd.pdf"
    )


async def test_latest_follows_new_versions(
    client: httpx.AsyncClient, auth, document, upload, samples
) -> None:
    urls, first = document
    case_id, document_id = urls["base"].split("/")[4], urls["base"].split("/")[6]
    second = samples.pdf("zwei")
    await upload(case_id, second, document_id=document_id, filename="neu.pdf")
    latest = await client.get(urls["latest"], headers=auth("clerk"))
    assert latest.content == second
    assert "neu.pdf" in latest.headers["content-disposition"]
    assert (await client.get(urls["v1"], headers=auth("clerk"))).content == first


async def test_if_none_match_gives_304(client: httpx.AsyncClient, auth, document) -> None:
    urls, content = document
    etag = (await client.get(urls["v1"], headers=auth("clerk"))).headers["etag"]
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await client.get(urls["v1"], headers=auth("clerk") | {"If-None-Match": value})
        assert response.status_code == 304, value
        assert response.content == b""
        assert response.headers["etag"] == etag
    fresh = await client.get(urls["v1"], headers=auth("clerk") | {"If-None-Match": '"nope"'})
    assert fresh.status_code == 200 and fresh.content == content


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, None),
        ("bytes=-50", -50, None),
        ("bytes=10-999999999", 10, None),
        ("bytes=5-5", 5, 5),
    ],
)
async def test_single_range_gives_206(
    client: httpx.AsyncClient, auth, document, header: str, start: int, end: int | None
) -> None:
    urls, content = document
    response = await client.get(urls["v1"], headers=auth("clerk") | {"Range": header})
    assert response.status_code == 206
    size = len(content)
    expected = content[start : None if end is None else end + 1]
    assert response.content == expected
    first = start if start >= 0 else size + start
    last = first + len(expected) - 1
    assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert response.headers["content-length"] == str(len(expected))


@pytest.mark.parametrize(
    "header", ["bytes=999999-", "bytes=abc", "bytes=5-2", "bytes=-0", "bytes=-", "bytes=1-2-3"]
)
async def test_bad_or_unsatisfiable_range_gives_416(
    client: httpx.AsyncClient, auth, document, header: str
) -> None:
    urls, content = document
    response = await client.get(urls["v1"], headers=auth("clerk") | {"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(content)}"
    assert response.json()["type"] == "urn:eakte:problem:range-not-satisfiable"


async def test_multiple_ranges_or_other_units_get_the_whole_body(
    client: httpx.AsyncClient, auth, document
) -> None:
    urls, content = document
    for header in ("bytes=0-1,5-6", "items=0-1"):
        response = await client.get(urls["v1"], headers=auth("clerk") | {"Range": header})
        assert response.status_code == 200
        assert response.content == content


async def test_if_range_with_an_old_etag_sends_everything(
    client: httpx.AsyncClient, auth, document
) -> None:
    urls, content = document
    etag = (await client.head(urls["v1"], headers=auth("clerk"))).headers["etag"]
    headers = auth("clerk") | {"Range": "bytes=0-9"}
    current = await client.get(urls["v1"], headers=headers | {"If-Range": etag})
    assert current.status_code == 206 and current.content == content[:10]
    stale = await client.get(urls["v1"], headers=headers | {"If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == content


async def test_head_has_the_headers_but_no_body(client: httpx.AsyncClient, auth, document) -> None:
    urls, content = document
    for which in ("v1", "latest"):
        response = await client.head(urls[which], headers=auth("auditor"))
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == str(len(content))
        assert response.headers["etag"] == f'"{hashlib.sha256(content).hexdigest()}"'
        assert response.headers["content-disposition"].startswith("attachment;")
    ranged = await client.head(urls["v1"], headers=auth("auditor") | {"Range": "bytes=0-9"})
    assert ranged.status_code == 206
    assert ranged.headers["content-length"] == "10"


@pytest.mark.parametrize(
    ("filename", "ascii_fallback"),
    [
        ('Plan "final".pdf', "Plan _final_.pdf"),
        ("Grundriß Öffentliche Straße.pdf", "Grundri Offentliche Strae.pdf"),
        ("a/b\\c.pdf", "a_b_c.pdf"),
        ("evil\r\nSet-Cookie: x=1.pdf", "evilSet-Cookie: x=1.pdf"),
        ("100%; sicher.pdf", "100__ sicher.pdf"),
        ("平面図.pdf", "dokument.pdf"),
        ("plan.", "plan"),
        ("Baubeschreibung", "Baubeschreibung"),
    ],
)
def test_content_disposition_is_safe(filename: str, ascii_fallback: str) -> None:
    header = content_disposition(filename)
    assert "\r" not in header and "\n" not in header
    assert header.isascii()
    fallback = header.split('filename="', 1)[1].split('";', 1)[0]
    assert fallback == ascii_fallback
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == filename.replace("\r", "").replace("\n", "").replace(
        "/", "_"
    ).replace("\\", "_")


async def test_nasty_uploaded_name_round_trips_safely(
    client: httpx.AsyncClient, auth, new_case, upload, samples
) -> None:
    case = await new_case()
    name = 'Ansicht "Nord" – Grundriß.pdf'
    doc = (await upload(case["id"], samples.pdf(), filename=name)).json()
    response = await client.get(
        f"/api/v1/cases/{case['id']}/documents/{doc['id']}/content", headers=auth("clerk")
    )
    disposition = response.headers["content-disposition"]
    assert 'filename="Ansicht _Nord_ Grundri.pdf"' in disposition
    assert unquote(disposition.split("UTF-8''", 1)[1]) == name
