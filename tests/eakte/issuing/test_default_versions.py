"""Shipped default templates are versioned: a changed default never rewrites a city's own
template nor the text of a draft made from the earlier default (issue 13)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pypdf
from sqlalchemy import update

from eakte.issuing.models import IssuedDocument, LetterTemplate
from support import issue_letter

OLD_NEIGHBOUR_TEXT = "Sie können den Lageplan und die Bauzeichnungen bei uns einsehen"


def _text(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pages)


async def _neighbour_draft(client, clerk, case_id: str) -> dict:  # type: ignore[no-untyped-def]
    drafted = await client.post(
        f"/api/v1/cases/{case_id}/issued",
        json={
            "letter_type": "nachbarbenachrichtigung",
            "channel": "postal",
            "addressee": {
                "kind": "neighbour",
                "name": "Nora Nachbar",
                "address": "Königstr. 1\n90402 Nürnberg",
            },
        },
        headers=clerk,
    )
    assert drafted.status_code == 201, drafted.text
    return drafted.json()  # type: ignore[no-any-return]


async def test_a_draft_keeps_the_default_version_it_was_made_from(
    client, auth, new_case, db
) -> None:  # type: ignore[no-untyped-def]
    clerk = auth("clerk", sub="clara@augsburg")
    approver = auth("approver", sub="anton@augsburg")
    case = await new_case()
    await issue_letter(client, auth, case["id"], make_known=False)
    new = await _neighbour_draft(client, clerk, case["id"])
    old = await _neighbour_draft(client, clerk, case["id"])
    assert (new["template_version"], new["default_version"]) == (0, 2)
    # a draft made before the default changed carries no default version: it is version 1
    async with db.session() as session:
        await session.execute(
            update(IssuedDocument)
            .where(IssuedDocument.id == uuid.UUID(old["id"]))
            .values(default_version=None)
        )
    old_text = _text((await client.get(old["preview_url"], headers=approver)).content)
    new_text = _text((await client.get(new["preview_url"], headers=approver)).content)
    assert OLD_NEIGHBOUR_TEXT in old_text  # signed as drafted, not silently rewritten
    assert OLD_NEIGHBOUR_TEXT not in new_text
    assert "Art. 66 Abs. 1 S. 4 BayBO" in new_text
    sealed = await client.post(
        f"/api/v1/cases/{case['id']}/issued/{old['id']}/sign", headers=approver
    )
    assert sealed.status_code == 200, sealed.text


async def test_a_citys_own_template_stays_and_is_marked_older_than_the_default(
    client, auth, new_case, db
) -> None:  # type: ignore[no-untyped-def]
    admin = auth("admin", "clerk", sub="adam@augsburg")
    own_body = "Sehr geehrte Damen und Herren,\n\nunser eigener Text zu {{ enclosure_label }}.\n"
    saved = await client.put(
        "/api/v1/issuing/templates/nachbarbenachrichtigung",
        json={"subject": "Eigene Vorlage {{ file_number }}", "body": own_body},
        headers=admin,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    listed = {
        t["letter_type"]: t
        for t in (await client.get("/api/v1/issuing/templates", headers=admin)).json()
    }
    assert listed["nachbarbenachrichtigung"]["newer_default"] is False  # saved after release
    async with db.session() as session:  # as if saved before the default changed
        await session.execute(
            update(LetterTemplate).values(created_at=datetime(2026, 11, 2, tzinfo=UTC))
        )
    listed = {
        t["letter_type"]: t
        for t in (await client.get("/api/v1/issuing/templates", headers=admin)).json()
    }
    own = listed["nachbarbenachrichtigung"]
    assert (own["version"], own["default_version"], own["newer_default"]) == (1, 2, True)
    assert own["body"] == own_body  # the city's text is never replaced
    assert "enclosure_ref" in own["placeholders"]
    assert listed["eingangsbestaetigung"]["newer_default"] is False
    case = await new_case()
    await issue_letter(client, auth, case["id"], make_known=False)
    draft = await _neighbour_draft(client, admin, case["id"])
    assert draft["template_version"] == 1 and draft["default_version"] is None
    approver = auth("approver", sub="anton@augsburg")
    text = _text((await client.get(draft["preview_url"], headers=approver)).content)
    assert "unser eigener Text zu Baugenehmigung." in text
