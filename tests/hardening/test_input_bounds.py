"""Malformed input that used to reach the database or the parser (issue 18): absurd Range
headers (500), NUL bytes in text (PostgreSQL: 503 "database error"), and world-readable
data files."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from storage import FilesystemStore
from support import TINY_PDF, case_payload

PROBLEM = "urn:eakte:problem:"
EAKTE = [sys.executable, "-m", "eakte.cli"]


async def _upload(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], case_id: str):  # type: ignore[no-untyped-def]
    response = await client.post(
        f"/api/v1/cases/{case_id}/documents",
        files={"file": ("plan.pdf", TINY_PDF, "application/pdf")},
        data={"title": "Plan", "kind": "lageplan"},
        headers=auth("clerk"),
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-" + "9" * 4301,
        "bytes=" + "9" * 4301 + "-",
        "bytes=-" + "9" * 4301,
        "bytes=0-" + "9" * 200,
    ],
)
async def test_absurd_range_numbers_are_416_or_the_whole_body(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    new_case: Callable[..., object],
    header: str,
) -> None:
    case = await new_case()
    assert isinstance(case, dict)
    document = await _upload(client, auth, case["id"])
    url = f"/api/v1/cases/{case['id']}/documents/{document['id']}/versions/1/content"
    response = await client.get(url, headers={**auth("clerk"), "Range": header})
    assert response.status_code in {200, 206, 416}, response.text
    if response.status_code == 416:
        assert response.json()["type"] == PROBLEM + "range-not-satisfiable"
        assert len(response.text) < 2000  # the header is not echoed back in full
    else:
        assert response.content == TINY_PDF


@pytest.mark.parametrize(
    "body",
    [
        case_payload(title="Neubau\x00"),
        case_payload(description="a\x00b"),
        case_payload(applicant={"name": "Jörg\x00", "email": "j@example.org"}),
        case_payload(site={"address": "Hauptstr.\x01 1", "gemarkung": "", "flurstueck": ""}),
    ],
)
async def test_nul_and_control_characters_in_text_are_422(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], body: dict[str, object]
) -> None:
    response = await client.post("/api/v1/cases", json=body, headers=auth("clerk"))
    assert response.status_code == 422, response.text
    assert response.json()["type"] == PROBLEM + "validation-failed"


async def test_nul_in_updates_action_input_and_upload_fields_is_422(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], new_case: Callable[..., object]
) -> None:
    case = await new_case()
    assert isinstance(case, dict)
    patched = await client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"description": "x\x00"},
        headers={**auth("clerk"), "If-Match": '"1"'},
    )
    assert patched.status_code == 422
    action = await client.post(
        f"/api/v1/cases/{case['id']}/process/actions",
        json={
            "action": "nachfordern",
            "expected_state": "eingegangen",
            "input": {"maengel": ["Lageplan\x00"], "frist_bis": "2030-01-31"},
        },
        headers=auth("clerk"),
    )
    assert action.status_code == 422, action.text
    upload = await client.post(
        f"/api/v1/cases/{case['id']}/documents",
        files={"file": ("plan.pdf", TINY_PDF, "application/pdf")},
        data={"title": "Plan\x00", "kind": "lageplan"},
        headers=auth("clerk"),
    )
    assert upload.status_code == 422, upload.text
    # nothing of it was stored
    listing = await client.get(f"/api/v1/cases/{case['id']}/documents", headers=auth("clerk"))
    assert listing.json()["items"] == []


async def test_nul_in_a_query_parameter_is_422(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    response = await client.get("/api/v1/cases?q=a%00b", headers=auth("clerk"))
    assert response.status_code == 422, response.text


def test_objects_are_not_world_readable_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = FilesystemStore(tmp_path / "objects")
        store.put("augsburg/c/d/v", io.BytesIO(b"%PDF-1.4 x"), None, "application/pdf")
    finally:
        os.umask(old)
    for path in (tmp_path / "objects").rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o007 == 0, (path, oct(mode))


def test_cli_creates_the_database_without_world_access(cli_env: dict[str, str]) -> None:
    data_dir = Path(cli_env["EAKTE_DATA_DIR"]) / "fresh"
    env = cli_env | {"EAKTE_DATA_DIR": str(data_dir)}
    env.pop("EAKTE_DATABASE_URL")
    subprocess.run(
        ["sh", "-c", 'umask 000 && exec "$@"', "sh", *EAKTE, "migrate"],
        env=env,
        check=True,
        capture_output=True,
    )
    database = data_dir / "eakte.sqlite3"
    assert database.exists()
    assert stat.S_IMODE(database.stat().st_mode) & 0o007 == 0
