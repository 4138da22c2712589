"""Codes are checked against the code lists the XBau 2.6 package carries (XSD enumerations).

An unknown code of such a list is refused as `xbau-unknown-code` naming the list, its URI and
version and the allowed codes, with a 1100 to the sender; codes of lists the package only
references by URI (Verfahrensart, Anlage Art, …) keep their documented handling.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from eakte.cases.models import Case
from eakte.xbau import parsing
from eakte.xbau.models import XBauOutgoing

LAGEPLAN = ("lageplan.pdf", "application/pdf", "lageplan", "Lageplan M 1:1000")
WOHNGEBAEUDE = b"<xbau:artDesWohngebaeudes><code>1</code>"


async def _cases(db) -> int:  # type: ignore[no-untyped-def]
    async with db.session(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Case)) or 0)


async def _rejection(db) -> XBauOutgoing:  # type: ignore[no-untyped-def]
    async with db.session(write=False) as session:
        row = await session.scalar(
            select(XBauOutgoing).where(
                XBauOutgoing.message_type == "prozessnachrichten.rueckweisung.G2G.1100"
            )
        )
    assert row is not None
    return row


@pytest.mark.parametrize(
    ("old", "new", "element", "list_name", "uri"),
    [
        (
            WOHNGEBAEUDE,
            b"<xbau:artDesWohngebaeudes><code>7</code>",
            "artDesWohngebaeudes",
            "Statistik Wohngebäude Art",
            "urn:xoev-de:xbau:codeliste:wohngebaeudeart",
        ),
        (
            b"<code>0200</code>",
            b"<code>0299</code>",
            "nachrichtentyp",
            "XBau-Nachrichten",
            "urn:xoev-de:xbau:codeliste:xbau-nachrichten",
        ),
    ],
)
async def test_unknown_code_of_a_carried_list_is_refused_naming_the_list_with_a_1100(
    deliver, message, pdf, db, old, new, element, list_name, uri
) -> None:  # type: ignore[no-untyped-def]
    _, raw = message(anlagen=[LAGEPLAN])
    assert old in raw
    response = await deliver(raw.replace(old, new, 1), {"lageplan.pdf": pdf})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:eakte:problem:xbau-unknown-code"
    assert list_name in problem["detail"] and element in problem["detail"]
    assert "steht nicht in der Codeliste" in problem["detail"]
    assert "is not in the code list" in problem["detail"]
    [error] = problem["errors"]
    assert error["code_list"] == uri and "erlaubt: " in error["message"]
    assert await _cases(db) == 0
    rejection = await _rejection(db)
    assert rejection.reader_kennung == "bpo:091620000"
    parsing.load(rejection.body)  # the 1100 itself is valid XBau
    assert list_name.encode() in rejection.body and b"X002" in rejection.body


async def test_unknown_code_beside_another_schema_error_is_schema_invalid_with_both(
    deliver, message, pdf
) -> None:  # type: ignore[no-untyped-def]
    _, raw = message(anlagen=[LAGEPLAN])
    raw = raw.replace(WOHNGEBAEUDE, b"<xbau:artDesWohngebaeudes><code>9</code>", 1)
    raw = raw.replace(b"<versionsnummer>1</versionsnummer>", b"<versionsnummer>x</versionsnummer>")
    response = await deliver(raw, {"lageplan.pdf": pdf})
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:eakte:problem:xbau-schema-invalid"
    messages = [e["message"] for e in problem["errors"]]
    assert any("versionsnummer" in m for m in messages)
    assert any("Statistik Wohngebäude Art" in m for m in messages)


async def test_codes_of_lists_the_package_does_not_carry_keep_their_handling(
    deliver, message, pdf, client, auth
) -> None:  # type: ignore[no-untyped-def]
    """Anlage Art (urn:xoev-de:xbau:codeliste:anlagen) is only referenced by URI: an unknown
    code is kept as Sonstiges; the Verfahrensart (Land list, none for Bavaria) is the BayBO
    article, and any other is refused as before (docs/xbau.md)."""
    _, raw = message(anlagen=[("lageplan.pdf", "application/pdf", "9999", "Sonderplan")])
    response = await deliver(raw, {"lageplan.pdf": pdf})
    assert response.status_code == 201, response.text
    [document_id] = response.json()["documents"]
    document = await client.get(
        f"/api/v1/cases/{response.json()['case_id']}/documents/{document_id}",
        headers=auth("clerk"),
    )
    assert document.json()["kind"] == "sonstiges"
    _, raw = message(anlagen=[], verfahrensart="63")
    refused = await deliver(raw)
    assert refused.status_code == 422
    assert refused.json()["type"] == "urn:eakte:problem:xbau-unsupported-message"


def test_every_fehlerkennzahl_we_emit_belongs_to_a_group_of_the_vendored_list() -> None:
    """The 1100's `grund` is a Code.XBau.Fehlerkennzahl. The vendored XBau 2.6 package names
    its URI and code groups (X, V, S, A) but carries no values (they are published in the
    XRepository only), so the check is: every code our sources emit is one of ours, of a
    group the vendored list names, in its form (group letter + three digits)."""
    import re
    from pathlib import Path

    from eakte.xbau import codelists, inbox, messages

    listed = codelists.fehlerkennzahlen()
    assert listed.uri == "urn:xoev-de:xbau:codeliste:xbau-fehlerkennzahlen"
    assert set(listed.groups) == {"X", "V", "S", "A"}
    assert "Anlagen" in listed.groups["A"]
    sources = Path(inbox.__file__).parent.glob("*.py")
    emitted = {code for path in sources for code in re.findall(r'"([A-Z]\d{3})"', path.read_text())}
    assert emitted == set(messages.FEHLERKENNZAHLEN)
    for code in messages.FEHLERKENNZAHLEN:
        assert re.fullmatch(r"[A-Z]\d{3}", code) and code[0] in listed.groups, code
    assert messages.FEHLER_SCHEMA[0] == "X"  # formal problem with the XML or a code list
    assert messages.FEHLER_SPEC[0] == "S"  # not as specified
    assert messages.FEHLER_ANLAGE[0] == "A"  # attachments


def test_a_rejection_carries_only_our_fehlerkennzahlen_and_validates() -> None:
    from datetime import UTC, datetime

    from lxml import etree

    from eakte.xbau import messages
    from eakte.xbau.mapping import Authority

    author = Authority("bau:091610000", "Stadt Augsburg")
    reader = Authority("bay:000000001", "Portal")
    env = messages.Envelope(
        "5c6d0f3e-2f58-4a84-9a7f-1d0b9d6f6e11", datetime.now(UTC), author, reader
    )
    codes = [(c, "Grund") for c in messages.FEHLERKENNZAHLEN]
    body = messages.rejection(
        env,
        refused=b"<x/>",
        refused_uuid=None,
        refused_type="0200",
        refused_created=None,
        reasons=codes,
    )
    parsed = parsing.load(body)
    root = etree.fromstring(body)
    grund = root.findall(".//rueckweisungsgrund/grund")
    assert [g.findtext("code") for g in grund] == list(messages.FEHLERKENNZAHLEN)
    assert {g.get("listURI") for g in grund} <= {
        None,
        "urn:xoev-de:xbau:codeliste:xbau-fehlerkennzahlen",
    }
    assert parsed.code == "1100"
    with pytest.raises(ValueError):
        messages.rejection(
            env,
            refused=b"<x/>",
            refused_uuid=None,
            refused_type="0200",
            refused_created=None,
            reasons=[("Z999", "unbekannt")],
        )
