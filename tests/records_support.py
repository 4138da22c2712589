"""Helpers of the records tests: close a case as of a date, the archive's xdomea messages."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

from eakte.auth.principal import Principal, Role
from eakte.db import Database
from eakte.records import service
from support import TENANT_A

ADMIN = Principal(sub="admin@augsburg", tenant=TENANT_A, roles=frozenset({Role.admin}), name="A")


async def close_on(
    db: Database,
    case: dict[str, object],
    when: datetime,
    *,
    code: str = "632.2",
    tenant: str = TENANT_A,
) -> None:
    """Close an ended case as if on `when` (file plan code 632.2: 10 years)."""
    principal = Principal(
        sub=f"admin@{tenant}", tenant=tenant, roles=frozenset({Role.admin}), name="A"
    )
    async with db.session() as session:
        await service.close_case(
            session, principal, uuid.UUID(str(case["id"])), file_plan_code=code, now=when
        )


FIXTURES = Path(__file__).parent / "eakte" / "records" / "fixtures"


def archive_message(code: str, process_id: object, objects: str = "") -> bytes:
    """An archive's message (fixtures/<code>.xml) for a ProzessID, with its object lines."""
    template = (FIXTURES / f"{code}.xml").read_text(encoding="utf-8")
    return template.replace("{process_id}", str(process_id)).replace("{objects}", objects).encode()


def appraised(case_id: object, code: str) -> str:
    """One BewertetesObjekt of an 0502 (A archivieren, V vernichten)."""
    return (
        f"  <xdomea:BewertetesObjekt><xdomea:ID>{case_id}</xdomea:ID><xdomea:Aussonderungsart>"
        f'<xdomea:Aussonderungsart listURI="urn:xoev-de:xdomea:codeliste:aussonderungsart" '
        f'listVersionID="1.0"><code>{code}</code></xdomea:Aussonderungsart>'
        f"</xdomea:Aussonderungsart></xdomea:BewertetesObjekt>\n"
    )


def imported(case_id: object, ok: bool = True, text: str = "StAA Bauakten 2030/17") -> str:
    """One AusgesondertesSGO of an 0506."""
    tail = (
        f"<xdomea:Archivkennung>{text}</xdomea:Archivkennung>"
        if ok
        else f"<xdomea:Fehlermeldung>{text}</xdomea:Fehlermeldung>"
    )
    return (
        f"  <xdomea:AusgesondertesSGO><xdomea:IDSGO>{case_id}</xdomea:IDSGO>"
        f"<xdomea:Erfolgreich>{'true' if ok else 'false'}</xdomea:Erfolgreich>{tail}"
        "</xdomea:AusgesondertesSGO>\n"
    )


def run_cli(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """`eakte …` as an operator runs it, in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "eakte.cli", *args],
        env=env | extra,
        capture_output=True,
        text=True,
        check=False,
    )
