"""Issue 16: a new case nobody is assigned to (online submission, XBau inbox) is announced to
the authority's Sachbearbeiter, so it does not wait unseen until someone opens the case list."""

from __future__ import annotations

import httpx

from support import APPLICATION, TENANT_A, TENANT_B, case_payload


async def _unread(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict]:
    listed = (await client.get("/api/v1/notifications?unread=true", headers=headers)).json()
    return listed["items"]


async def test_an_online_submission_is_announced_to_every_clerk_of_the_authority(
    client: httpx.AsyncClient, auth
) -> None:  # type: ignore[no-untyped-def]
    clara, bert = auth("clerk", sub="clara@augsburg"), auth("clerk", sub="bert@augsburg")
    approver = auth("approver", sub="anna@augsburg")
    foreign = auth("clerk", sub="nora@muenchen", tenant=TENANT_B)
    for official in (clara, bert, approver, foreign):
        assert (await client.put("/api/v1/directory/me", headers=official)).status_code == 200

    maria = auth("applicant", sub="maria@buergerkonto", tenant=TENANT_B)
    receipt = await client.post(
        f"/api/v1/authorities/{TENANT_A}/applications", json=APPLICATION, headers=maria
    )
    assert receipt.status_code == 201, receipt.text
    case_id = receipt.json()["case_id"]

    for clerk in (clara, bert):
        items = await _unread(client, clerk)
        assert [(n["kind"], n["case_id"]) for n in items] == [("new_unassigned", case_id)]
        assert "ohne Zuständigkeit" in items[0]["text_de"]
    assert await _unread(client, approver) == []  # the approver signs, does not take cases
    assert await _unread(client, foreign) == []  # another city hears nothing

    # a case a clerk records is hers at once: nobody else is told
    created = await client.post(
        "/api/v1/cases",
        json=case_payload(),
        headers=clara,
    )
    assert created.status_code == 201, created.text
    assert len(await _unread(client, bert)) == 1
