"""Signed download links served by a real nginx with the shipped configuration
(deploy/nginx/eakte-downloads.conf + eakte-downloads.js, njs): same bytes and headers as the
API, the same refusals as the app's fallback route (issue 19)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import nginx_support
import pytest

from eakte.config import Settings
from eakte.documents import links
from support import TENANT_B, free_port, link_grant, tamper_link

LINK_SECRET = "nginx-link-secret-" + "Qw3rTy9Uu1Op5As7Df2Gh4Jk6Lz8Xc0V"

pytestmark = pytest.mark.skipif(
    not nginx_support.available(), reason=f"needs nginx with njs: {nginx_support.INSTALL_HINT}"
)


@pytest.fixture
def store_settings() -> dict[str, Any]:
    """nginx serves the filesystem store (S3 links are presigned by the store itself)."""
    return {"storage": "filesystem"}


@pytest.fixture
def nginx_port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, nginx_port: int) -> Settings:
    """Links point at the nginx under test."""
    return settings.model_copy(
        update={
            "download_link_secret": LINK_SECRET,
            "download_link_base_url": f"http://127.0.0.1:{nginx_port}/dl",
        }
    )


@pytest.fixture
def nginx(settings: Settings, tmp_path: Path, nginx_port: int, app):  # type: ignore[no-untyped-def]
    """nginx with the shipped configuration over the app's objects directory."""
    secret_file = tmp_path / "download-link-secret"
    secret_file.write_text(LINK_SECRET + "\n")
    with nginx_support.running(
        tmp_path / "nginx",
        nginx_port,
        objects=settings.data_dir / "objects",
        secret_file=secret_file,
    ) as base:
        yield base


async def _links(client, auth, new_case, upload, samples) -> tuple[list[dict], list[bytes]]:  # type: ignore[no-untyped-def]
    case = await new_case()
    contents = [samples.pdf(f"Plan {i}", pad=2000 * i) for i in range(3)]
    for i, content in enumerate(contents):
        name = "Lageplan Süd.pdf" if i == 0 else f"plan-{i}.pdf"
        assert (await upload(case["id"], content, filename=name)).status_code == 201
    response = await client.post(
        f"/api/v1/cases/{case['id']}/documents/download-links", headers=auth("clerk")
    )
    assert response.status_code == 200, response.text
    return response.json()["items"], contents


async def test_nginx_serves_linked_versions_as_the_api_does(
    client: httpx.AsyncClient, auth, new_case, upload, samples, nginx: str
) -> None:
    items, contents = await _links(client, auth, new_case, upload, samples)
    async with httpx.AsyncClient() as direct:
        for item, content in zip(items, contents, strict=True):
            assert item["url"].startswith(f"{nginx}/dl/")
            got = await direct.get(item["url"])
            assert got.status_code == 200 and got.content == content
            assert got.headers["server"].startswith("nginx")
            assert got.headers["content-type"] == "application/pdf"
            assert got.headers["x-content-type-options"] == "nosniff"
        api = await client.get(
            items[0]["url"].replace(f"{nginx}/dl/", "/api/v1/dl/"), headers=auth("clerk")
        )
        served = await direct.get(items[0]["url"])
        assert served.headers["content-disposition"] == api.headers["content-disposition"]
        assert "Lageplan%20S%C3%BCd.pdf" in served.headers["content-disposition"]
        part = await direct.get(items[1]["url"], headers={"Range": "bytes=0-3"})
        assert part.status_code == 206 and part.content == b"%PDF"


async def test_nginx_refuses_bad_links_with_problem_json(
    client: httpx.AsyncClient, auth, new_case, upload, samples, nginx: str, app
) -> None:
    items, _ = await _links(client, auth, new_case, upload, samples)
    token = items[0]["url"].rsplit("/", 1)[1]
    secret = LINK_SECRET.encode()
    cases = [
        ("not-a-token", 404, "download-link-invalid"),
        ("a/b", 404, "download-link-invalid"),
        (token + "x", 404, "download-link-invalid"),
        (token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"), 403, "download-link-forged"),
        (tamper_link(token, e=int(time.time()) + 10**6), 403, "download-link-forged"),
        (tamper_link(token, t=TENANT_B), 403, "download-link-forged"),
        (
            links.sign(b"someone else's secret 0123456789abcdef", link_grant(token)),
            403,
            "download-link-forged",
        ),
        (
            links.sign(secret, link_grant(token, expires=int(time.time()) - 1)),
            403,
            "download-link-expired",
        ),
    ]
    async with httpx.AsyncClient() as direct:
        for bad, status, slug in cases:
            for language in ("de", "en"):
                response = await direct.get(
                    f"{nginx}/dl/{bad}", headers={"Accept-Language": language}
                )
                assert response.status_code == status, (bad, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.headers["content-language"] == language
                problem = response.json()
                assert problem["type"] == f"urn:eakte:problem:{slug}"
                assert problem["status"] == status
                german = problem["title"].startswith("Der Download-Link")
                assert german == (language == "de"), problem
                # the app's fallback route answers the same
                if "/" not in bad:
                    fallback = await client.get(
                        f"/api/v1/dl/{bad}", headers={"Accept-Language": language}
                    )
                    assert fallback.status_code == status
                    assert fallback.json()["type"] == problem["type"]
                    assert fallback.json()["title"] == problem["title"]


async def test_nginx_serves_nothing_outside_the_named_object(
    client: httpx.AsyncClient, auth, new_case, upload, samples, nginx: str, settings
) -> None:
    """A correctly signed link naming a path outside the store, or an object that is gone,
    serves nothing."""
    items, _ = await _links(client, auth, new_case, upload, samples)
    token = items[0]["url"].rsplit("/", 1)[1]
    grant = link_grant(token)
    secret = LINK_SECRET.encode()
    escape = links.Grant(**{**grant.__dict__, "key": f"{grant.tenant}/../../../etc/passwd"})
    async with httpx.AsyncClient() as direct:
        response = await direct.get(f"{nginx}/dl/{links.sign(secret, escape)}")
        assert response.status_code == 403 and "root:" not in response.text
        (settings.data_dir / "objects" / grant.key).unlink()  # e.g. destroyed (Aussonderung)
        gone = await direct.get(items[0]["url"])
        assert gone.status_code == 404 and b"%PDF" not in gone.content
