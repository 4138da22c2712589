"""Who may open the workspace, and who may change it (close codes 4401/4403/4404)."""

from __future__ import annotations

import uuid

import httpx
import pytest
import websockets
from collab_support import until
from pycrdt import Text

from support import TENANT_B


async def _close_code(url: str) -> tuple[int | None, str]:
    async with websockets.connect(url) as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        return ws.close_code, ws.close_reason


@pytest.mark.parametrize(
    ("token_kind", "code"),
    [("none", 4401), ("garbage", 4401), ("expired", 4401), ("applicant", 4403)],
)
async def test_refused_before_any_message(live, ycase, token, token_kind, code) -> None:
    case_id = await ycase()
    tokens = {
        "none": "",
        "garbage": "not-a-jwt",
        "expired": token("clerk", ttl=-120),
        "applicant": token("applicant"),
    }
    query = f"?token={tokens[token_kind]}" if tokens[token_kind] else ""
    got, _ = await _close_code(f"{live.ws}/api/v1/collab/{case_id}{query}")
    assert got == code


async def test_other_tenants_and_unknown_cases_are_4404(live, ycase, token) -> None:
    foreign = await ycase(tenant=TENANT_B)
    for case_id in (foreign, str(uuid.uuid4()), "not-a-uuid"):
        got, reason = await _close_code(f"{live.ws}/api/v1/collab/{case_id}?token={token('clerk')}")
        assert (got, reason) == (4404, "case not found")


async def test_an_agency_never_opens_the_workspace(
    live, client, ycase, yclient, token, auth
) -> None:
    """Issue 16: an agency (Fachstelle) asked in a Beteiligung reads the Bauvorlagen and its
    request, never the internal Vermerk or decision draft: the socket refuses it (4403)
    before sending a single byte of the Y.Doc, asked or not, and the workspace JSON is 403."""
    case_id = await ycase()
    clerk = await yclient(live, case_id, "clerk")
    await clerk.edit(lambda d: d.get("notes", type=Text).insert(0, "Vermerk: intern"))
    agency = "wwa@augsburg"
    url = f"{live.ws}/api/v1/collab/{case_id}?token={token('agency', sub=agency)}"
    assert (await _close_code(url))[0] == 4403
    response = await client.post(
        f"/api/v1/cases/{case_id}/participations",
        json={"kind": "fachstelle_stellungnahme", "party": "WWA", "agency_sub": agency},
        headers=auth("clerk"),
    )
    assert response.status_code == 201, response.text
    async with websockets.connect(url) as ws:
        received = []
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                received.append(await ws.recv())
        assert received == []  # no sync step, no update, no awareness
        assert ws.close_code == 4403 and "agencies" in ws.close_reason
    headers = auth("agency", sub=agency)
    assert (await client.get(f"/api/v1/cases/{case_id}", headers=headers)).status_code == 200
    for path in ("workspace", "workspace/versions", "workspace/history", "history"):
        denied = await client.get(f"/api/v1/cases/{case_id}/{path}", headers=headers)
        assert denied.status_code == 403, (path, denied.text)
        assert "intern" not in denied.text


@pytest.mark.parametrize("role", ["auditor"])
async def test_read_only_roles_receive_but_a_write_closes_4403(
    live, client, ycase, yclient, token, auth, role
) -> None:
    case_id = await ycase()
    sub = f"ro-{role}@augsburg"
    if role == "agency":
        await client.post(
            f"/api/v1/cases/{case_id}/participations",
            json={"kind": "fachstelle_stellungnahme", "party": "X", "agency_sub": sub},
            headers=auth("clerk"),
        )
    writer = await yclient(live, case_id, "clerk")
    reader = await yclient(live, case_id, role, sub=sub)
    await writer.edit(lambda d: d.get("notes", type=Text).insert(0, "ok"))
    await until(lambda: reader.text() == "ok")
    await reader.edit(lambda d: d.get("notes", type=Text).insert(0, "hijack "))
    assert await reader.wait_closed() == 4403
    assert "read-only" in reader.close_reason
    # nothing of it reached the room, the log or the writer
    await writer.edit(lambda d: d.get("notes", type=Text).insert(2, "!"))
    fresh = await yclient(live, case_id, "auditor")
    await until(lambda: fresh.text() == "ok!" and writer.text() == "ok!")


async def test_a_closed_case_is_read_only_for_every_role(
    live, client, new_case, yclient, token, auth
) -> None:
    """A closed case (abgeschlossen) is the record (Art. 33 BayDiG): a clerk may read, not write."""
    case = await new_case()
    case_id = str(case["id"])
    writer = await yclient(live, case_id, "clerk")
    await writer.edit(lambda d: d.get("notes", type=Text).insert(0, "final"))
    fresh = await yclient(live, case_id, "auditor")
    await until(lambda: fresh.text() == "final")
    await writer.close()
    withdrawn = await client.post(
        f"/api/v1/cases/{case_id}/process/actions",
        json={
            "action": "ruecknahme_erklaeren",
            "expected_state": "eingegangen",
            "input": {"erklaert_am": "2026-11-02"},
        },
        headers=auth("clerk"),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    still_open = await yclient(live, case_id, "clerk")  # an official editing while it is closed
    await until(lambda: still_open.text() == "final")
    # the server holding the room
    async with httpx.AsyncClient(base_url=live.http, timeout=60) as on_live:
        closed = await on_live.post(
            f"/api/v1/cases/{case_id}/record/closing", json={}, headers=auth("clerk")
        )
    assert closed.status_code == 200, closed.text
    await still_open.edit(lambda d: d.get("notes", type=Text).insert(0, "late "))
    assert await still_open.wait_closed() == 4403
    assert "case closed" in still_open.close_reason
    for role in ("clerk", "admin"):
        member = await yclient(live, case_id, role)
        assert member.text() == "final"  # reading still works
        await member.edit(lambda d: d.get("notes", type=Text).insert(0, "changed "))
        assert await member.wait_closed() == 4403
        assert "case closed" in member.close_reason
    reader = await yclient(live, case_id, "auditor")
    assert reader.text() == "final"
    workspace = await client.get(f"/api/v1/cases/{case_id}/workspace", headers=auth("clerk"))
    assert "changed" not in str(workspace.json())
