"""Constants and plain helpers shared by tests (`from support import ...`)."""

from __future__ import annotations

import re

TEST_SECRET = "test-secret-" + "x7Gq2LmP9vR4tY8wZ1cK5nB3hJ6dF0sA"
TENANT_A = "augsburg"
TENANT_B = "muenchen"


def case_payload(**overrides: object) -> dict[str, object]:
    """A valid case creation body."""
    body: dict[str, object] = {
        "title": "Neubau Einfamilienhaus",
        "procedure": "baybo-59",
        "site": {
            "address": "Maximilianstraße 12, 86150 Augsburg",
            "gemarkung": "Augsburg",
            "flurstueck": "1234/5",
        },
        "applicant": {"name": "Jörg Müller", "email": "joerg@example.org"},
        "description": "Zweigeschossiges Wohnhaus",
    }
    body.update(overrides)
    return body


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, *, attempts: int = 150) -> None:
    """Poll `{base}/readyz` until the server answers 200 (or fail the test)."""
    import time

    import httpx

    for _ in range(attempts):
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server at {base} did not become ready")


def raw_request(base: str, data: bytes) -> bytes:
    """Send `data` over a fresh TCP connection to `base` and return the answer until close."""
    import socket

    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


# A tiny stub that libmagic reads as a PDF (for tests that only need an accepted upload).
TINY_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def minimal_pdf(text: str = "Lageplan", *, pad: int = 0) -> bytes:
    """A minimal valid one-page PDF (with optional padding in a comment)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    if pad:
        out += b"%" + b"x" * pad + b"\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png_image(width: int = 2, height: int = 2, *, comment: bytes | None = None) -> bytes:
    """A valid RGB PNG, optionally with a tEXt `Comment` chunk after the header."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    text = [chunk(b"tEXt", b"Comment\x00" + comment)] if comment is not None else []
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            *text,
            chunk(b"IDAT", zlib.compress(raw)),
            chunk(b"IEND", b""),
        ]
    )


def text_pdf(*lines: str) -> bytes:
    """A one-page PDF with a real text layer (Helvetica), one line per argument."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# Data a clerk fills in per letter type (issue 13), enough for the shipped default templates.
LETTER_DATA: dict[str, dict[str, object]] = {
    "baugenehmigung": {
        "reasons": "Das Vorhaben entspricht dem Bebauungsplan Nr. 123.",
        "conditions": ["Die Abstandsflächen sind einzuhalten."],
    },
    "ablehnungsbescheid": {"reasons": "Die Abstandsflächen nach Art. 6 BayBO sind unterschritten."},
    "vorbescheid": {
        "questions": ["Ist ein Dachgeschoss zulässig?"],
        "answers": ["Ja."],
        "reasons": "§ 34 BauGB.",
    },
    "fiktionsbescheinigung": {"fiction_date": "01.04.2026"},
}


async def issue_letter(  # type: ignore[no-untyped-def]
    client,
    auth,
    case_id: str,
    letter_type: str = "baugenehmigung",
    *,
    tenant: str = TENANT_A,
    data: dict[str, object] | None = None,
    make_known: bool = True,
) -> dict[str, object]:
    """Draft (clerk), sign (another person, approver) and optionally make known a letter."""
    clerk = auth("clerk", tenant=tenant, sub=f"clara@{tenant}")
    approver = auth("approver", tenant=tenant, sub=f"anton@{tenant}")
    drafted = await client.post(
        f"/api/v1/cases/{case_id}/issued",
        json={"letter_type": letter_type, "data": LETTER_DATA.get(letter_type, {}) | (data or {})},
        headers=clerk,
    )
    assert drafted.status_code == 201, drafted.text
    issued = drafted.json()
    signed = await client.post(
        f"/api/v1/cases/{case_id}/issued/{issued['id']}/sign", headers=approver
    )
    assert signed.status_code == 200, signed.text
    if not make_known:
        return signed.json()  # type: ignore[no-any-return]
    known = await client.post(
        f"/api/v1/cases/{case_id}/issued/{issued['id']}/bekanntgabe", json={}, headers=clerk
    )
    assert known.status_code == 200, known.text
    return known.json()  # type: ignore[no-any-return]


async def sign_postal_letter(  # type: ignore[no-untyped-def]
    client,
    auth,
    case_id: str,
    *,
    name: str,
    address: str,
    letter_type: str = "nachbarbenachrichtigung",
    tenant: str = TENANT_A,
    data: dict[str, object] | None = None,
) -> dict[str, object]:
    """Draft (clerk) and sign (approver) a letter to be posted: it goes into the print queue.
    A neighbour letter serves the case's sealed permit (Art. 66 Abs. 1 S. 4 BayBO): one is
    issued first (to the applicant, electronic, so it is not queued itself)."""
    clerk = auth("clerk", tenant=tenant, sub=f"clara@{tenant}")
    approver = auth("approver", tenant=tenant, sub=f"anton@{tenant}")
    if letter_type == "nachbarbenachrichtigung":
        await issue_letter(client, auth, case_id, tenant=tenant, make_known=False)
    drafted = await client.post(
        f"/api/v1/cases/{case_id}/issued",
        json={
            "letter_type": letter_type,
            "channel": "postal",
            "addressee": {"kind": "neighbour", "name": name, "address": address},
            "data": LETTER_DATA.get(letter_type, {}) | (data or {}),
        },
        headers=clerk,
    )
    assert drafted.status_code == 201, drafted.text
    signed = await client.post(
        f"/api/v1/cases/{case_id}/issued/{drafted.json()['id']}/sign", headers=approver
    )
    assert signed.status_code == 200, signed.text
    return signed.json()  # type: ignore[no-any-return]


# An online application (applicant API) as a citizen's portal sends it
APPLICATION = {
    "procedure": "baybo-59",
    "site": {
        "address": "Hauptstraße 5, 86150 Augsburg",
        "gemarkung": "Augsburg",
        "flurstueck": "12",
    },
    "description": "Neubau eines Einfamilienhauses",
    "applicant": {"name": "Maria Muster", "email": "maria@example.org"},
    "designer": {
        "name": "Architekturbüro Beispiel",
        "email": "buero@example.org",
        "chamber_number": "ByAK-12345",
    },
    "housing": False,
}


BAUVORLAGEN = ("lageplan", "bauzeichnung", "baubeschreibung")


async def act(client, headers, case_id: str, action: str, expected: str, **input):  # type: ignore[no-untyped-def]
    """Take a procedure action through the API (the response, not checked)."""
    return await client.post(
        f"/api/v1/cases/{case_id}/process/actions",
        json={"action": action, "expected_state": expected, "input": input},
        headers=headers,
    )


async def to_zur_zeichnung(client, clerk, case_id: str) -> None:  # type: ignore[no-untyped-def]
    """Upload the Bauvorlagen and take a baybo-59 case from `eingegangen` to `zur_zeichnung`."""
    for kind in BAUVORLAGEN:
        response = await client.post(
            f"/api/v1/cases/{case_id}/documents",
            data={"title": kind.title(), "kind": kind},
            files={"file": (f"{kind}.pdf", TINY_PDF, "application/pdf")},
            headers=clerk,
        )
        assert response.status_code == 201, response.text
    for action, state, data in (
        ("vollstaendigkeit_feststellen", "eingegangen", {}),
        ("beteiligung_abschliessen", "beteiligung", {}),
        ("entscheidung_entwerfen", "pruefung", {"vermerk": "zulässig"}),
    ):
        done = await act(client, clerk, case_id, action, state, **data)
        assert done.status_code == 200, done.text


def metric_value(body: str, sample: str) -> float:
    """The value of one Prometheus sample line (`name{labels}`) in `body`, 0 when absent."""
    match = re.search(rf"^{re.escape(sample)} (\S+)$", body, re.M)
    return float(match.group(1)) if match else 0.0


def add_effect(monkeypatch, action_id: str, effect_type: str, **params: object) -> None:  # type: ignore[no-untyped-def]
    """Install every procedure definition with one more effect on the action `action_id`
    (e.g. a letter effect on a transition nobody requests: ticker, XBau inbox)."""
    from dataclasses import replace

    from eakte.process import definitions
    from workflows.model import EffectSpec

    extra = EffectSpec(effect_type, dict(params))
    installed = definitions.installed()

    def patched(definition):  # type: ignore[no-untyped-def]
        actions = tuple(
            replace(a, effects=(*a.effects, extra)) if a.id == action_id else a
            for a in definition.actions
        )
        return replace(definition, actions=actions)

    versions = {k: tuple(patched(d) for d in v) for k, v in installed.items()}
    monkeypatch.setattr(definitions, "installed", lambda: versions)


def link_payload(token: str) -> dict[str, object]:
    """The fields of a signed download link (issue 19, format 2), signature not checked."""
    import base64

    def text(part: str) -> str:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()

    _mac, e, m, d, key = token.split("/", 4)
    return {"t": key.split("/", 1)[0], "k": key, "e": int(e), "m": text(m), "d": text(d)}


def tamper_link(token: str, **changes: object) -> str:
    """The token with its fields changed and the old signature kept (`t` renames the key's
    tenant segment)."""
    from eakte.documents import links

    grant = link_grant(token, **changes)
    if "t" in changes:
        grant = link_grant(token, key=f"{changes['t']}/{grant.key.split('/', 1)[1]}")
    return token.split("/", 1)[0] + "/" + links.encode(b"unused", grant).split("/", 1)[1]


def link_grant(token: str, **changes: object):  # type: ignore[no-untyped-def]
    """The grant of a link's fields with `changes` (to sign it anew)."""
    from eakte.documents.links import Grant

    body = link_payload(token)
    fields = {"tenant": body["t"], "key": body["k"], "expires": body["e"]}
    fields |= {"media_type": body["m"], "disposition": body["d"]}
    renamed = {"e": "expires", "t": "tenant", "k": "key", "m": "media_type", "d": "disposition"}
    changes = {renamed.get(name, name): value for name, value in changes.items()}
    return Grant(**(fields | changes))  # type: ignore[arg-type]
