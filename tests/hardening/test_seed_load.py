"""`eakte seed-load`: synthetic case files that the service, fsck and audit verify accept."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx

EAKTE = [sys.executable, "-m", "eakte.cli"]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EAKTE, *args], env=env, capture_output=True, text=True, timeout=120)


async def test_seed_load_creates_consistent_case_files(
    db: Any, cli_env: dict[str, str], client: httpx.AsyncClient, auth: Any
) -> None:
    loaded = _cli(cli_env, "seed-load", "--cases", "600", "--tenants", "3", "--batch", "250")
    assert loaded.returncode == 0, loaded.stderr
    assert "600 synthetic case files" in loaded.stderr
    verify = _cli(cli_env, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "augsburg: valid (804 events)" in verify.stdout  # 200 * 4 + 2 templates * 2
    fsck = _cli(cli_env, "fsck")
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr

    clerk = auth("clerk")
    page = (await client.get("/api/v1/cases?limit=100", headers=clerk)).json()
    assert len(page["items"]) == 100 and page["next_cursor"]
    numbers = set()
    cursor = None
    while True:
        url = "/api/v1/cases?limit=100" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(url, headers=clerk)).json()
        numbers.update(c["file_number"] for c in body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(numbers) == 202
    case = page["items"][-1]
    process = await client.get(f"/api/v1/cases/{case['id']}/process", headers=clerk)
    assert process.status_code == 200 and process.json()["transitions"]
    documents = (await client.get(f"/api/v1/cases/{case['id']}/documents", headers=clerk)).json()
    content = await client.get(
        documents["items"][0]["latest_version"]["content_url"], headers=clerk
    )
    assert content.status_code == 200 and content.content.startswith(b"%PDF")
    name = case["applicant"]["name"].split()[-1]
    found = (await client.get(f"/api/v1/cases?q={name}", headers=clerk)).json()["items"]
    assert found and all(name.casefold() in c["applicant"]["name"].casefold() for c in found[:5])

    again = _cli(cli_env, "seed-load", "--cases", "30", "--tenants", "3")
    assert again.returncode == 0, again.stderr
    assert _cli(cli_env, "audit", "verify").returncode == 0
    created = await client.post(
        "/api/v1/cases",
        json={
            "title": "Echter Fall nach der Last",
            "procedure": "baybo-59",
            "site": {"address": "Rathausplatz 2", "gemarkung": "Augsburg", "flurstueck": "2"},
            "applicant": {"name": "Echte Person"},
        },
        headers=clerk,
    )
    assert created.status_code == 201, created.text
