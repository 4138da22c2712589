"""Fixtures for the XBau tests: message builders from the realistic fixtures, the inbox."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from copy import deepcopy
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from eakte.db import Database
from eakte.xbau.inbox import register_authority
from support import TENANT_A, TENANT_B, minimal_pdf, png_image

FIXTURES = Path(__file__).parent / "fixtures"
AUGSBURG = "bau:097610000"
MUENCHEN = "bau:091620000"
PORTAL = "bpo:091620000"

Anlage = tuple[str, str, str, str]  # dateiname, mimeType, anlageart, bezeichnung


def _set(root: etree._Element, path: str, value: str) -> None:
    el = root.find(path)
    assert el is not None, path
    el.text = value


def build_message(
    fixture: str = "0200_neubau_efh.xml",
    *,
    message_uuid: str | None = None,
    reader: str = AUGSBURG,
    anlagen: list[Anlage] | None = None,
    verfahrensart: str | None = "59",
    vorgang: str | None = None,
) -> tuple[str, bytes]:
    """A variant of a fixture message: its UUID, reader, Anlagen, Verfahrensart, Bezug."""
    root = etree.parse(str(FIXTURES / fixture)).getroot()
    message_uuid = message_uuid or str(uuid.uuid4())
    _set(root, "nachrichtenkopf.g2g/identifikation.nachricht/nachrichtenUUID", message_uuid)
    _set(root, "nachrichtenkopf.g2g/leser/kennung", reader)
    ns = {"xbau": "http://www.xleitstelle.de/xbau/2/6"}
    code = root.find("xbau:prozessmerkmale/xbau:verfahrensart/code", ns)
    if code is not None:
        if verfahrensart is None:
            merkmale = root.find("xbau:prozessmerkmale", ns)
            assert merkmale is not None
            merkmale.getparent().remove(merkmale)  # type: ignore[union-attr]
        else:
            code.text = verfahrensart
    if vorgang is not None:
        _set(root, f"{{{ns['xbau']}}}bezug/vorgang", vorgang)
    container = root.find("xbau:anlagen", ns)
    if anlagen is not None and container is not None:
        template = container[0]
        for child in list(container):
            container.remove(child)
        for dateiname, mime, art, title in anlagen:
            item = deepcopy(template)
            item.find("bezeichnung").text = title  # type: ignore[union-attr]
            item.find("anlageart/code").text = art  # type: ignore[union-attr]
            item.find("mimeType/code").text = mime  # type: ignore[union-attr]
            item.find("anhangOderVerlinkung/anhang/dokumentid").text = f"urn:uuid:{uuid.uuid4()}"  # type: ignore[union-attr]
            item.find("anhangOderVerlinkung/anhang/dateiname").text = dateiname  # type: ignore[union-attr]
            container.append(item)
        if not anlagen:
            root.remove(container)
    raw = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return message_uuid, raw


@pytest.fixture
def message() -> Callable[..., tuple[str, bytes]]:
    return build_message


@pytest.fixture
async def authorities(db: Database) -> dict[str, str]:
    """Augsburg and München have XBau addresses."""
    async with db.session() as session:
        await register_authority(session, kennung=AUGSBURG, tenant=TENANT_A, name="Stadt Augsburg")
        await register_authority(
            session, kennung=MUENCHEN, tenant=TENANT_B, name="Landeshauptstadt München"
        )
    return {TENANT_A: AUGSBURG, TENANT_B: MUENCHEN}


@pytest.fixture
def pdf() -> bytes:
    return minimal_pdf("Lageplan M 1:1000")


@pytest.fixture
def png() -> bytes:
    return png_image(4, 4)


Deliver = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def deliver(client: httpx.AsyncClient, auth: Any, authorities: dict[str, str]) -> Deliver:
    """POST a message (and its Anlagen) to the inbox as the tenant's XBau principal."""

    async def _deliver(
        raw: bytes,
        files: dict[str, bytes] | None = None,
        *,
        tenant: str = TENANT_A,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        parts = [("nachricht", ("nachricht.xml", raw, "application/xml"))]
        parts += [
            ("anlage", (name, body, "application/octet-stream"))
            for name, body in (files or {}).items()
        ]
        return await client.post(
            "/api/v1/xbau/inbox",
            files=parts,
            headers=headers if headers is not None else auth("xbau", tenant=tenant),
        )

    return _deliver
