"""Signed download links served by a real nginx with the shipped configuration
(deploy/nginx/eakte-downloads*.conf + eakte-downloads.js; the check in C, njs for refusals):
same bytes and headers as the API, the same refusals as the app's fallback route (issue 19)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import nginx_support
import pytest

from eakte.config import Settings
from eakte.documents import links
from support import TENANT_B, free_port, link_grant, tamper_link

EAKTE = [sys.executable, "-m", "eakte.cli"]
LINK_SECRET = "nginx-link-secret-" + "Qw3rTy9Uu1Op5As7Df2Gh4Jk6Lz8Xc0V"

pytestmark = pytest.mark.skipif(
    not nginx_support.available(),
    reason=f"needs nginx and its modules: {nginx_support.INSTALL_HINT}",
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
def nginx(settings: Settings, tmp_path: Path, nginx_port: int, app, cli_env):  # type: ignore[no-untyped-def]
    """nginx with the shipped configuration over the app's objects directory, its key file
    written by `eakte download-links nginx-key` from the app's secret file."""
    secret_file = tmp_path / "download-link-secret"
    secret_file.write_text(LINK_SECRET + "\n")
    key_file = tmp_path / "download-link-key.conf"
    env = cli_env | {"EAKTE_DOWNLOAD_LINK_SECRET_FILE": str(secret_file)}
    written = subprocess.run(
        [*EAKTE, "download-links", "nginx-key", "--output", str(key_file)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert written.returncode == 0, written.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o640
    assert LINK_SECRET not in key_file.read_text()  # nginx gets a derived key, not the secret
    with nginx_support.running(
        tmp_path / "nginx", nginx_port, objects=settings.data_dir / "objects", key_file=key_file
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
    token = items[0]["url"].split("/dl/", 1)[1]
    secret = LINK_SECRET.encode()
    cases = [
        ("not-a-token", 404, "download-link-invalid"),
        ("a/b", 404, "download-link-invalid"),
        (token.split("/", 1)[0], 404, "download-link-invalid"),  # the MAC alone
        (token + "/", 404, "download-link-invalid"),  # an empty key segment
        (("B" if token[0] != "B" else "C") + token[1:], 403, "download-link-forged"),
        (token + "x", 403, "download-link-forged"),  # another version's key
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
    token = items[0]["url"].split("/dl/", 1)[1]
    grant = link_grant(token)
    secret = LINK_SECRET.encode()
    async with httpx.AsyncClient() as direct:
        for key in (f"{grant.tenant}/../../../etc/passwd", f"{grant.tenant}/./x", "../x"):
            escape = links.encode(secret, links.Grant(**{**grant.__dict__, "key": key}))
            response = await direct.get(f"{nginx}/dl/{escape}")
            assert 400 <= response.status_code < 500, (key, response.text)
            assert "root:" not in response.text and b"%PDF" not in response.content
        (settings.data_dir / "objects" / grant.key).unlink()  # e.g. destroyed (Aussonderung)
        gone = await direct.get(items[0]["url"], headers={"Accept-Language": "de"})
        assert gone.status_code == 404 and b"%PDF" not in gone.content
        assert gone.json()["type"] == "urn:eakte:problem:version-not-found"
        assert gone.json()["title"] == "Dokumentversion nicht gefunden"


async def test_nginx_expiry_check_compares_every_digit(
    client: httpx.AsyncClient, auth, new_case, upload, samples, nginx: str
) -> None:
    """nginx has no arithmetic: the expiry is compared as ten digits (a map in
    eakte-downloads-http.conf). Links expiring at differences in every digit position."""
    items, contents = await _links(client, auth, new_case, upload, samples)
    first = items[0]["url"].split("/dl/", 1)[1]
    now = int(time.time())
    future = [now + 120, now + 10**3, now + 10**5, now + 10**7, now + 10**8, 9_999_999_999]
    past = [now - 1, now - 61, now - 10**4, now - 10**6, now - 10**8, 1_000_000_000]
    async with httpx.AsyncClient() as direct:
        for expires in future + past:
            token = links.sign(LINK_SECRET.encode(), link_grant(first, expires=expires))
            response = await direct.get(f"{nginx}/dl/{token}")
            if expires in future:
                assert response.status_code == 200, (expires, response.text)
                assert response.content == contents[0]
            else:
                assert response.status_code == 403, (expires, response.text)
                assert response.json()["type"] == "urn:eakte:problem:download-link-expired"


def test_nginx_key_needs_a_secret(tmp_path: Path) -> None:
    """Production without EAKTE_DOWNLOAD_LINK_SECRET: no key file, one clear line, exit 2."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env |= {"EAKTE_ENV": "production", "EAKTE_DATA_DIR": str(tmp_path)}
    env |= {"EAKTE_JWT_SECRET": "cli-test-jwt-secret-" + "Hk4Lw8Qz2Xv6Nb9Tm3Rc5Yp7"}
    result = subprocess.run(
        [*EAKTE, "download-links", "nginx-key", "--output", str(tmp_path / "key.conf")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert "EAKTE_DOWNLOAD_LINK_SECRET" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "key.conf").exists()
