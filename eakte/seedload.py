"""Synthetic load: a city's volume of realistic case files, inserted in bulk.

`eakte seed-load --cases N --tenants 3` creates per tenant one case through the ordinary
service (so the procedure, its first transition and the audit events are exactly what the
service writes) and then clones its shape N times with SQLAlchemy core inserts in batches:
cases with varied titles, addresses and applicants spread over several years, a process
instance and its first transition each, one document with one small version whose bytes
are put into the object store, and four audit events per case whose hash chain is
computed here, in order, continuing from the tenant's chain head. File-number counters
and chain heads are advanced in the same transaction as each batch, so an interrupted
run leaves a consistent database (`eakte audit verify` passes after every batch).
Deadlines are not cloned (the synthetic cases have none running).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import random
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, create_engine, insert, select, update
from sqlalchemy.engine import Engine

from eakte.audit.models import AuditChainHead, AuditEvent
from eakte.audit.service import canonical_json, compute_hash, event_body
from eakte.auth.principal import Principal, Role
from eakte.cases.models import Case
from eakte.cases.schemas import CaseCreate
from eakte.cases.service import SEARCHED, search_text
from eakte.db import Database, database_urls
from eakte.documents.models import VERSION_OK, Document, DocumentVersion
from eakte.documents.service import object_key
from eakte.process.models import ProcessInstance, ProcessTransition
from eakte.process.service import open_case
from eakte.tenants.models import FileNumberCounter, Tenant
from eakte.tenants.service import DEMO_TENANTS, ensure_tenant
from storage import ObjectStore

ACTOR = "seed-load"
ACTOR_NAME = "Synthetische Last"
PROCEDURES = ("baybo-59", "baybo-60")
YEARS = 6

STREETS = (
    "Maximilianstraße",
    "Hauptstraße",
    "Bahnhofstraße",
    "Schillerstraße",
    "Goethestraße",
    "Lindenweg",
    "Kirchplatz",
    "Am Mühlbach",
    "Rosenauweg",
    "Friedhofstraße",
    "Gartenstraße",
    "Ludwigstraße",
    "Bgm.-Fischer-Straße",
    "Wertachstraße",
    "Haunstetter Straße",
    "Lechhauser Straße",
    "Leopoldstraße",
    "Sonnenstraße",
    "Dachauer Straße",
    "Fürther Straße",
    "Äußere Laufer Gasse",
    "Pillenreuther Straße",
    "Prinzregentenstraße",
    "Kaulbachstraße",
    "Zugspitzstraße",
)
FIRST_NAMES = (
    "Jörg",
    "Maria",
    "Anna",
    "Thomas",
    "Stefan",
    "Sabine",
    "Michael",
    "Claudia",
    "Andreas",
    "Petra",
    "Markus",
    "Julia",
    "Florian",
    "Katharina",
    "Sebastian",
    "Lena",
    "Matthias",
    "Sophie",
    "Alexander",
    "Monika",
    "Tobias",
    "Ursula",
    "Benedikt",
    "Theresa",
    "Xaver",
    "Zenzi",
)
LAST_NAMES = (
    "Müller",
    "Schmid",
    "Huber",
    "Wagner",
    "Bauer",
    "Maier",
    "Fischer",
    "Weber",
    "Hofmann",
    "Schneider",
    "Becker",
    "Gruber",
    "Brunner",
    "Pichler",
    "Koch",
    "Richter",
    "Wolf",
    "Schäfer",
    "Zimmermann",
    "Krüger",
    "Hartmann",
    "Lang",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Kellner",
    "Obermaier",
    "Straßer",
    "Rößle",
)
PROJECTS = (
    "Neubau Einfamilienhaus",
    "Neubau Doppelhaushälfte",
    "Anbau Wintergarten",
    "Aufstockung",
    "Neubau Mehrfamilienhaus mit Tiefgarage",
    "Nutzungsänderung Laden in Gaststätte",
    "Errichtung Carport",
    "Dachgeschossausbau",
    "Neubau Lagerhalle",
    "Abbruch und Neubau",
    "Errichtung Photovoltaikanlage",
    "Umbau Bürogebäude",
    "Neubau Reihenhaus",
    "Errichtung Garage",
)


@dataclass(frozen=True)
class Template:
    """The rows the service writes for a new case of one procedure, to clone."""

    procedure: str
    state: str
    definition_version: int
    variables: dict[str, Any]
    flags: list[str]
    transition: dict[str, Any]


@dataclass
class TenantCursor:
    """Where a tenant's chain and file numbers stand while a run inserts."""

    slug: str
    city: str
    pattern: str
    last_seq: int
    last_hash: str
    counters: dict[int, int]


def _tiny_pdf(text: str) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% "
        + text.encode()
        + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


async def _templates(db: Database, tenants: list[str]) -> dict[str, list[Template]]:
    """Create one real case per tenant and procedure; read back its process rows."""
    result: dict[str, list[Template]] = {}
    for slug in tenants:
        principal = Principal(
            sub=ACTOR, tenant=slug, roles=frozenset({Role.clerk}), name=ACTOR_NAME
        )
        result[slug] = []
        for procedure in PROCEDURES:
            data = CaseCreate.model_validate(
                {
                    "title": f"Vorlage {procedure}",
                    "procedure": procedure,
                    "site": {"address": "Rathausplatz 1", "gemarkung": slug, "flurstueck": "1"},
                    "applicant": {"name": "Vorlage", "email": None},
                    "housing": True,
                }
            )
            async with db.session() as session:
                case = await open_case(session, principal, data)
                instance = await session.get(ProcessInstance, case.id)
                transition = await session.scalar(
                    select(ProcessTransition).where(ProcessTransition.case_id == case.id)
                )
                assert instance is not None and transition is not None
                columns = ProcessTransition.__table__.columns.keys()
                result[slug].append(
                    Template(
                        procedure=procedure,
                        state=instance.state,
                        definition_version=instance.definition_version,
                        variables=dict(instance.variables or {}),
                        flags=list(instance.flags or []),
                        transition={c: getattr(transition, c) for c in columns},
                    )
                )
    return result


async def _ensure_tenants(db: Database, count: int) -> list[str]:
    slugs = list(DEMO_TENANTS)[:count]
    extra = [f"stadt-{i:02d}" for i in range(count - len(slugs))]
    async with db.session() as session:
        for slug in slugs:
            name, calendar = DEMO_TENANTS[slug]
            await ensure_tenant(session, slug=slug, name=name, holiday_calendar=calendar)
        for slug in extra:
            await ensure_tenant(session, slug=slug, name=f"Stadt {slug}")
    return slugs + extra


def _cursor(conn: Connection, slug: str) -> TenantCursor:
    tenant = conn.execute(
        select(Tenant.name, Tenant.file_number_pattern).where(Tenant.slug == slug)
    ).one()
    head = conn.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(
            AuditChainHead.tenant_id == slug
        )
    ).one()
    counters = dict(
        conn.execute(
            select(FileNumberCounter.year, FileNumberCounter.last_seq).where(
                FileNumberCounter.tenant_id == slug
            )
        ).all()
    )
    city = tenant.name.split()[-1]
    return TenantCursor(slug, city, tenant.file_number_pattern, head[0], head[1], counters)


class Batch:
    """The rows of one batch, table by table, and the objects to put."""

    def __init__(self) -> None:
        self.cases: list[dict[str, Any]] = []
        self.instances: list[dict[str, Any]] = []
        self.transitions: list[dict[str, Any]] = []
        self.documents: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.objects: list[tuple[str, bytes]] = []


def _event(
    cursor: TenantCursor,
    batch: Batch,
    *,
    action: str,
    case_id: uuid.UUID,
    at: datetime,
    payload: dict[str, Any],
) -> None:
    digest = hashlib.sha256(canonical_json(payload)).hexdigest()
    row = AuditEvent(
        tenant_id=cursor.slug,
        seq=cursor.last_seq + 1,
        occurred_at=at,
        actor=ACTOR,
        actor_name=ACTOR_NAME,
        action=action,
        case_id=case_id,
        payload=json.loads(canonical_json(payload)),
        payload_digest=digest,
        prev_hash=cursor.last_hash,
        hash="",
    )
    row.hash = compute_hash(row.prev_hash, event_body(row))
    cursor.last_seq, cursor.last_hash = row.seq, row.hash
    batch.events.append({c: getattr(row, c) for c in AuditEvent.__table__.columns.keys()})


def _add_case(
    batch: Batch,
    cursor: TenantCursor,
    template: Template,
    rng: random.Random,
    at: datetime,
    documents: int,
) -> None:
    year = at.year
    seq = cursor.counters.get(year, 0) + 1
    cursor.counters[year] = seq
    file_number = cursor.pattern.format(year=year, seq=seq)
    case_id = uuid.uuid4()
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    street = rng.choice(STREETS)
    values: dict[str, Any] = {
        "id": case_id,
        "tenant_id": cursor.slug,
        "file_number": file_number,
        "year": year,
        "seq": seq,
        "title": f"{rng.choice(PROJECTS)}, {street} {rng.randint(1, 180)}",
        "procedure": template.procedure,
        "state": template.state,
        "description": "Synthetischer Bauantrag (Lasttest)",
        "site_address": f"{street} {rng.randint(1, 180)}, {cursor.city}",
        "site_gemarkung": cursor.city,
        "site_flurstueck": f"{rng.randint(1, 9999)}/{rng.randint(1, 40)}",
        "applicant_name": f"{first} {last}",
        "applicant_email": f"{first}.{last}@example.org".lower(),
        "applicant_sub": None,
        "attributes": {"housing": True},
        "revision": 1,
        "created_by": ACTOR,
        "created_at": at,
        "updated_at": at,
    }
    values["search_text"] = search_text({k: values[k] for k in SEARCHED})
    batch.cases.append(values)
    batch.instances.append(
        {
            "case_id": case_id,
            "tenant_id": cursor.slug,
            "definition_id": template.procedure,
            "definition_version": template.definition_version,
            "state": template.state,
            "variables": template.variables,
            "flags": template.flags,
            "revision": 1,
            "state_since": at,
            "updated_at": at,
        }
    )
    transition = dict(template.transition)
    transition.update(id=uuid.uuid4(), tenant_id=cursor.slug, case_id=case_id, seq=1, at=at)
    transition.update(actor=ACTOR, actor_name=ACTOR_NAME)
    batch.transitions.append(transition)
    _event(
        cursor,
        batch,
        action="case.created",
        case_id=case_id,
        at=at,
        payload={"file_number": file_number, "title": values["title"]},
    )
    _event(
        cursor,
        batch,
        action="process.transition",
        case_id=case_id,
        at=at,
        payload={
            "procedure": f"{template.procedure}@{template.definition_version}",
            "action": transition["action"],
            "from": None,
            "to": template.state,
        },
    )
    for number in range(documents):
        document_id, version_id = uuid.uuid4(), uuid.uuid4()
        content = _tiny_pdf(f"{file_number} Lageplan {number + 1}")
        key = object_key(cursor.slug, case_id, document_id, version_id)
        digest = hashlib.sha256(content).hexdigest()
        batch.objects.append((key, content))
        batch.documents.append(
            {
                "id": document_id,
                "tenant_id": cursor.slug,
                "case_id": case_id,
                "title": "Lageplan M 1:1000",
                "kind": "lageplan",
                "version_count": 1,
                "created_by": ACTOR,
                "created_at": at,
                "updated_at": at,
                "deleted_at": None,
                "deleted_by": None,
            }
        )
        batch.versions.append(
            {
                "id": version_id,
                "document_id": document_id,
                "tenant_id": cursor.slug,
                "number": 1,
                "object_key": key,
                "sha256": digest,
                "size": len(content),
                "media_type": "application/pdf",
                "filename": "lageplan.pdf",
                "comment": "",
                "created_by": ACTOR,
                "created_by_name": ACTOR_NAME,
                "created_at": at,
                "status": VERSION_OK,
                "broken_at": None,
                "broken_reason": None,
            }
        )
        _event(
            cursor,
            batch,
            action="document.created",
            case_id=case_id,
            at=at,
            payload={
                "document_id": str(document_id),
                "title": "Lageplan M 1:1000",
                "kind": "lageplan",
            },
        )
        _event(
            cursor,
            batch,
            action="document.version_added",
            case_id=case_id,
            at=at,
            payload={
                "document_id": str(document_id),
                "number": 1,
                "version_id": str(version_id),
                "object_key": key,
                "sha256": digest,
                "size": len(content),
                "media_type": "application/pdf",
                "filename": "lageplan.pdf",
                "comment": "",
            },
        )


def _timeline(count: int, rng: random.Random, end: datetime) -> Iterator[datetime]:
    """`count` increasing times over the last YEARS years (older cases first)."""
    start = end - timedelta(days=365 * YEARS)
    step = (end - start) / max(count, 1)
    for i in range(count):
        yield start + step * i + timedelta(seconds=rng.random() * step.total_seconds() * 0.9)


def _write(conn: Connection, batch: Batch, cursors: list[TenantCursor]) -> None:
    for table, rows in (
        (Case.__table__, batch.cases),
        (ProcessInstance.__table__, batch.instances),
        (ProcessTransition.__table__, batch.transitions),
        (Document.__table__, batch.documents),
        (DocumentVersion.__table__, batch.versions),
        (AuditEvent.__table__, batch.events),
    ):
        if rows:
            conn.execute(insert(table), rows)
    for cursor in cursors:
        conn.execute(
            update(AuditChainHead)
            .where(AuditChainHead.tenant_id == cursor.slug)
            .values(last_seq=cursor.last_seq, last_hash=cursor.last_hash)
        )
        existing = set(
            conn.scalars(
                select(FileNumberCounter.year).where(FileNumberCounter.tenant_id == cursor.slug)
            ).all()
        )
        for year, seq in cursor.counters.items():
            if year in existing:
                conn.execute(
                    update(FileNumberCounter)
                    .where(
                        FileNumberCounter.tenant_id == cursor.slug, FileNumberCounter.year == year
                    )
                    .values(last_seq=seq)
                )
            else:
                conn.execute(
                    insert(FileNumberCounter).values(tenant_id=cursor.slug, year=year, last_seq=seq)
                )


def seed_load(
    *,
    database_url: str,
    store: ObjectStore,
    cases: int,
    tenants: int,
    documents_per_case: int = 1,
    batch_size: int = 2000,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert `cases` synthetic case files spread over `tenants`; returns the number inserted.

    The cases of a tenant are dated before the template cases (created now), oldest first,
    so file numbers of earlier years may already be taken: counters are continued, never
    reset, which keeps file numbers unique.
    """
    db = Database(database_url)

    async def _prepare() -> tuple[list[str], dict[str, list[Template]]]:
        try:
            slugs = await _ensure_tenants(db, tenants)
            return slugs, await _templates(db, slugs)
        finally:
            await db.dispose()

    slugs, templates = asyncio.run(_prepare())
    engine: Engine = create_engine(database_urls(database_url).sync_url)
    rng = random.Random(seed)
    end = datetime.now(UTC) - timedelta(days=1)
    per_tenant = [cases // tenants + (1 if i < cases % tenants else 0) for i in range(tenants)]
    timelines = [_timeline(n, random.Random(seed + i), end) for i, n in enumerate(per_tenant)]
    remaining = list(per_tenant)
    done = 0
    try:
        with engine.connect() as conn, ThreadPoolExecutor(max_workers=16) as pool:
            cursors = [_cursor(conn, slug) for slug in slugs]
            conn.rollback()
            while done < cases:
                batch = Batch()
                take = min(batch_size, cases - done)
                for _ in range(take):
                    # interleave the tenants in proportion to what each still needs
                    index = max(range(tenants), key=lambda i: remaining[i])
                    remaining[index] -= 1
                    at = next(timelines[index])
                    template = rng.choice(templates[slugs[index]])
                    _add_case(batch, cursors[index], template, rng, at, documents_per_case)
                # objects first: a crash leaves orphans (fsck's business), never rows
                list(
                    pool.map(
                        lambda item: store.put(
                            item[0], io.BytesIO(item[1]), len(item[1]), "application/pdf"
                        ),
                        batch.objects,
                    )
                )
                with conn.begin():
                    _write(conn, batch, cursors)
                done += take
                if progress is not None:
                    progress(take)
    finally:
        engine.dispose()
    return done
