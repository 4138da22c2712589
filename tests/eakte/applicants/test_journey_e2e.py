"""The applicant's journey end to end against a real `eakte serve`, officials via their API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support import LETTER_DATA, TEST_SECRET, TINY_PDF, free_port, wait_ready

EAKTE = [sys.executable, "-m", "eakte.cli"]
PDF = TINY_PDF


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    port = free_port()
    env.update(
        EAKTE_ENV="dev",
        EAKTE_DATA_DIR=str(tmp_path / "var"),
        EAKTE_PORT=str(port),
        EAKTE_JWT_SECRET=TEST_SECRET,
        EAKTE_TICK_INTERVAL_SECONDS="0",
    )
    subprocess.run([*EAKTE, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([*EAKTE, "seed-demo"], env=env, check=True, capture_output=True)
    subprocess.run([*EAKTE, "seal", "dev-ca"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [*EAKTE, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        yield base, env
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _token(env: dict[str, str], tenant: str, user: str, roles: str) -> dict[str, str]:
    token = subprocess.run(
        [*EAKTE, "token", "--tenant", tenant, "--user", user, "--roles", roles],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {"Authorization": f"Bearer {token}"}


def test_submit_nachforderung_answer_decision_download(server: tuple[str, dict[str, str]]) -> None:
    base, env = server
    api = f"{base}/api/v1"
    applicant = _token(env, "buergerkonto", "maria", "applicant")
    clerk = _token(env, "nuernberg", "clara", "clerk")
    approver = _token(env, "nuernberg", "anton", "approver")
    with httpx.Client(base_url=api, timeout=30) as http:
        assert "nuernberg" in {a["slug"] for a in http.get("/authorities").json()["items"]}
        receipt = http.post(
            "/authorities/nuernberg/applications",
            headers=applicant,
            json={
                "procedure": "baybo-59",
                "housing": True,
                "site": {
                    "address": "Königstraße 1, 90402 Nürnberg",
                    "gemarkung": "Nürnberg",
                    "flurstueck": "77/1",
                },
                "description": "Aufstockung eines Wohnhauses",
                "applicant": {"name": "Maria Muster", "email": "maria@example.org"},
                "designer": {"name": "Büro Plan", "email": "plan@example.org"},
            },
        )
        assert receipt.status_code == 201, receipt.text
        r = receipt.json()
        status_url = r["status_url"].removeprefix("/api/v1")
        code = {"X-Access-Code": r["access_code"]}

        def upload(kind: str) -> str:
            response = http.post(
                status_url + "/documents",
                headers=applicant,
                data={"title": kind, "kind": kind},
                files={"file": (f"{kind}.pdf", PDF, "application/pdf")},
            )
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        def act(headers: dict[str, str], action: str, expected: str, **input: object) -> dict:
            response = http.post(
                f"/cases/{r['case_id']}/process/actions",
                headers=headers,
                json={"action": action, "expected_state": expected, "input": input},
            )
            assert response.status_code == 200, (action, response.text)
            return response.json()  # type: ignore[no-any-return]

        upload("lageplan")
        act(
            clerk,
            "nachfordern",
            "eingegangen",
            maengel=["Bauzeichnungen", "Baubeschreibung"],
            frist_bis="2030-06-28",
            hinweis_ruecknahmefiktion=True,
        )
        missing = http.get(status_url, headers=code).json()["missing"]
        assert (
            missing["items"] == ["Bauzeichnungen", "Baubeschreibung"]
            and missing["withdrawal_warning"]
        )
        answered = http.post(
            status_url + "/responses",
            headers=applicant,
            json={"documents": [upload("bauzeichnung"), upload("baubeschreibung")]},
        )
        assert answered.status_code == 200, answered.text
        act(clerk, "vollstaendigkeit_feststellen", "eingegangen")
        act(clerk, "beteiligung_abschliessen", "beteiligung")
        act(
            clerk,
            "entscheidung_entwerfen",
            "pruefung",
            vermerk="interner Vermerk: genehmigungsfähig",
        )
        drafted = http.post(  # issue 13: draft, seal (four eyes), make known
            f"/cases/{r['case_id']}/issued",
            headers=clerk,
            json={"letter_type": "baugenehmigung", "data": LETTER_DATA["baugenehmigung"]},
        )
        assert drafted.status_code == 201, drafted.text
        issued_url = f"/cases/{r['case_id']}/issued/{drafted.json()['id']}"
        assert http.post(issued_url + "/sign", headers=approver).status_code == 200
        act(approver, "genehmigung_zeichnen", "zur_zeichnung")
        known = http.post(issued_url + "/bekanntgabe", headers=clerk, json={})
        assert known.status_code == 200, known.text
        act(clerk, "bekanntgabe_genehmigung_erfassen", "genehmigt", bekanntgabe_am="2026-12-01")

        first = http.get(status_url, headers=applicant)
        body = first.json()
        assert body["status"]["state"] == "genehmigung_wirksam"
        assert (
            "genehmigungsfähig" not in first.text
            and "clara" not in first.text
            and "anton" not in first.text
        )
        assert [t["state"] for t in body["timeline"]][-1] == "genehmigung_wirksam"
        assert (
            http.get(
                status_url, headers=applicant | {"If-None-Match": first.headers["etag"]}
            ).status_code
            == 304
        )
        download = http.get(
            body["documents"][0]["download_url"].removeprefix("/api/v1"), headers=code
        )
        assert download.status_code == 200 and download.content.startswith(b"%PDF")
        mine = http.get("/applications", headers=applicant).json()["items"]
        assert [(a["authority"], a["state"]) for a in mine] == [
            ("nuernberg", "genehmigung_wirksam")
        ]
        assert http.get(f"/cases/{r['case_id']}", headers=applicant).status_code == 403
