"""Issue 16: an applicant's upload notifies the case's Sachbearbeiter (in its transaction)."""

from __future__ import annotations

import httpx

from support import APPLICATION, TENANT_A, TENANT_B, TINY_PDF

CLARA = "clara@augsburg"


async def test_applicant_upload_notifies_the_sachbearbeiter(
    client: httpx.AsyncClient, auth
) -> None:  # type: ignore[no-untyped-def]
    maria = auth("applicant", sub="maria@buergerkonto", tenant=TENANT_B)
    receipt = await client.post(
        f"/api/v1/authorities/{TENANT_A}/applications", json=APPLICATION, headers=maria
    )
    assert receipt.status_code == 201, receipt.text
    body = receipt.json()
    clara = auth("clerk", sub=CLARA)
    case = (await client.get(f"/api/v1/cases/{body['case_id']}", headers=clara)).json()
    assert case["assignee"] is None  # submitted online: nobody yet
    upload = lambda: client.post(  # noqa: E731
        body["status_url"] + "/documents",
        data={"title": "Lageplan", "kind": "lageplan"},
        files={"file": ("lageplan.pdf", TINY_PDF, "application/pdf")},
        headers=maria,
    )
    assert (await upload()).status_code == 201
    assert (await client.get("/api/v1/notifications", headers=clara)).json()["unread"] == 0
    await client.put("/api/v1/directory/me", headers=clara)
    assigned = await client.put(
        f"/api/v1/cases/{body['case_id']}/assignment", json={"assignee": CLARA}, headers=clara
    )
    assert assigned.status_code == 200, assigned.text
    assert (await upload()).status_code == 201
    listed = (await client.get("/api/v1/notifications", headers=clara)).json()
    assert listed["unread"] == 1
    assert listed["items"][0]["kind"] == "applicant_uploaded"
    assert "Lageplan" in listed["items"][0]["text_de"]
    # a clerk's own upload notifies nobody
    await client.post(
        f"/api/v1/cases/{body['case_id']}/documents",
        data={"title": "Vermerk", "kind": "sonstiges"},
        files={"file": ("v.pdf", TINY_PDF, "application/pdf")},
        headers=clara,
    )
    assert (await client.get("/api/v1/notifications", headers=clara)).json()["unread"] == 1
