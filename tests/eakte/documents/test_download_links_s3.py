"""Download links presigned by the S3 store (EAKTE_DOWNLOAD_LINKS=presigned, issue 19): the
object store sends the bytes with the API's headers and refuses expired or forged URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from storage import S3Store
from support import TENANT_B


@pytest.fixture
def store_settings(s3_store_settings: dict[str, Any]) -> dict[str, Any]:
    """A fresh bucket on the test S3 endpoint, links presigned by it."""
    return {**s3_store_settings, "download_links": "presigned"}


async def _links(client, auth, new_case, upload, samples):  # type: ignore[no-untyped-def]
    case = await new_case()
    contents = [samples.pdf(f"Plan {i}", pad=1500 * i) for i in range(2)]
    for i, content in enumerate(contents):
        name = "Lageplan Süd.pdf" if i == 0 else "ansicht.pdf"
        assert (await upload(case["id"], content, filename=name)).status_code == 201
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents/download-links", headers=auth("clerk")
    )
    assert response.status_code == 200, response.text
    return case, response.json()["items"], contents


async def test_presigned_links_fetch_from_the_store(
    client: httpx.AsyncClient, auth, new_case, upload, samples, store
) -> None:
    case, items, contents = await _links(client, auth, new_case, upload, samples)
    api = await client.get(
        f"/api/v1/cases/{case['id']}/documents/{items[0]['document_id']}/content",
        headers=auth("clerk"),
    )
    async with httpx.AsyncClient() as direct:
        for item, content in zip(items, contents, strict=True):
            assert "X-Amz-Signature=" in item["url"] and "/api/v1/" not in item["url"]
            got = await direct.get(item["url"])
            assert got.status_code == 200 and got.content == content
            assert got.headers["content-type"] == "application/pdf"
        first = await direct.get(items[0]["url"])
        assert first.headers["content-disposition"] == api.headers["content-disposition"]
    other = await client.post(
        f"/api/v1/cases/{case['id']}/documents/download-links",
        headers=auth("clerk", tenant=TENANT_B),
    )
    assert other.status_code == 404


def _checks_signatures(store: S3Store, key: str) -> bool:
    """False on servers that accept any signature (moto); Ceph RGW and S3 check them."""
    url = store.client.presigned_get_object(store.bucket, key, expires=timedelta(seconds=60))
    return httpx.get(_with(url, **{"X-Amz-Signature": "0" * 64})).status_code == 403


def _with(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | params
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_the_store_refuses_expired_and_forged_presigned_links(
    client: httpx.AsyncClient, auth, new_case, upload, samples, store
) -> None:
    _, items, _ = await _links(client, auth, new_case, upload, samples)
    key = urlsplit(items[0]["url"]).path.split("/", 2)[2]
    if not _checks_signatures(store, key):
        pytest.skip("this S3 server (moto) accepts any signature; .ci/ceph-rgw.sh runs this")
    forged = _with(items[0]["url"], **{"X-Amz-Signature": "f" * 64})
    assert httpx.get(forged).status_code == 403
    # the signature of one key on another (the last character changed: it may be a "0")
    swapped = key[:-1] + ("1" if key.endswith("0") else "0")
    other_key = _with(items[0]["url"].replace(key, swapped))
    assert httpx.get(other_key).status_code == 403
    expired = store.client.presigned_get_object(
        store.bucket,
        key,
        expires=timedelta(seconds=1),
        request_date=datetime.now(UTC) - timedelta(hours=1),
    )
    response = httpx.get(expired)
    assert response.status_code == 403 and b"%PDF" not in response.content
