"""Document search: extract + index throughput (pages/s) and search p50/p95 over N documents.

    python bench/search.py [--documents 100000] [--queries 400] [--pdfs 60] [--pg URL]

1. Extraction: builds `--pdfs` text PDFs of 1–8 pages and runs each through the production
   extractor (a limited child process per document, as the worker does), then writes the
   texts into `document_texts` (the index follows: tsvector/GIN on PostgreSQL); prints pages/s.
2. Search: bulk-loads `--documents` synthetic German texts (~120 words each from a
   vocabulary of ~4,900 building terms with Zipf-like frequencies, spread over 3 tenants and
   100 documents per case) into a private PostgreSQL database and runs `--queries` searches of one
   or two words (drawn with the same frequencies, so common terms are queried often)
   through `search.service.search_documents` (tenant + role visibility, ranking, snippets,
   as GET /api/v1/search runs them, without HTTP); prints p50/p95. Target p95 < 50 ms.
Needs PostgreSQL: --pg or EAKTE_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import create_engine, insert, make_url, text

from eakte.auth.principal import Principal, Role
from eakte.cases.models import Case
from eakte.db import Database, database_urls
from eakte.documents.models import Document, DocumentVersion
from eakte.migrations import upgrade
from eakte.search import extractor
from eakte.search.models import DONE, DocumentText
from eakte.search.service import search_documents
from eakte.tenants.service import ensure_tenant

ROOT = Path(__file__).resolve().parents[1]
console = Console(stderr=True)
TENANTS = ["augsburg", "muenchen", "nuernberg"]
WORDS = (
    "Bauantrag Baugenehmigung Brandschutz Brandschutzkonzept Tiefgarage Stellplatz Abstandsfläche "
    "Bebauungsplan Flurstück Gemarkung Grundstück Nachbar Nachbarzustimmung Statik Standsicherheit "
    "Entwässerung Kanalanschluss Regenwasser Versickerung Dachgeschoss Gaube Carport Garage "
    "Wohnhaus Mehrfamilienhaus Einfamilienhaus Anbau Umbau Nutzungsänderung Denkmalschutz "
    "Baudenkmal Ensemble Lageplan Bauzeichnung Grundriss Schnitt Ansicht Baubeschreibung "
    "Wärmeschutz Schallschutz Rettungsweg Treppenhaus Feuerwehrzufahrt Aufzug Barrierefreiheit "
    "Spielplatz Fahrradabstellplatz Baumschutz Ersatzpflanzung Immissionsschutz Lärm Gewerbe "
    "Werkstatt Lagerhalle Photovoltaik Wärmepumpe Solaranlage Einfriedung Stützmauer Abbruch "
    "Beseitigung Vorbescheid Befreiung Abweichung Ausnahme Auflage Bedingung Stellungnahme "
    "Fachstelle Wasserwirtschaftsamt Bauherr Entwurfsverfasser Prüfsachverständiger"
).split()
FILLER = (
    "der die das und mit für von auf im am zum zur nach über unter sowie gemäß wird ist".split()
)


def _pdf(pages: list[str]) -> bytes:
    """A PDF with one text page per entry (Helvetica, WinAnsi)."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    font = 3
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    for body in pages:
        lines = [body[i : i + 90] for i in range(0, len(body), 90)]
        ops = (
            "BT /F1 10 Tf 12 TL 50 800 Td "
            + " ".join(
                "(" + ln.replace("\\", "").replace("(", "").replace(")", "") + ") Tj T*"
                for ln in lines
            )
            + " ET"
        )
        stream = ops.encode("cp1252", errors="replace")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content, font)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n")
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


PREFIXES = (
    "Brand Bau Dach Wand Keller Garten Nachbar Wasser Wärme Schall Lärm Stell Fahr "
    "Rettungs Tief Hoch Neu Um An Ab Grund Boden Fenster Tür Treppen Aufzug Licht Luft "
    "Lüftungs Heiz Solar Strom Gas Kanal Regen Straßen Wege Platz Spiel Baum Denkmal"
).split()
STEMS = (
    "schutz anlage fläche plan konzept nachweis gutachten bescheid antrag zeichnung "
    "ansicht schnitt grundriss mauer decke stütze träger fundament leitung anschluss weg "
    "zufahrt raum haus halle garage zimmer geschoss treppe rampe stellplatz grenze abstand "
    "höhe breite tiefe nutzung änderung ausnahme befreiung auflage prüfung"
).split()
SUFFIXES = ["", "sbericht", "serklärung"]
VOCABULARY = WORDS + [p + s + x for p in PREFIXES for s in STEMS for x in SUFFIXES]
# Zipf-like frequencies: a few terms are very common, most are rare (as in real case files)
ZIPF = [1.0 / (rank + 1) for rank in range(len(VOCABULARY))]


def _text(rng: random.Random, words: int) -> str:
    picked = rng.choices(VOCABULARY, weights=ZIPF, k=words)
    return " ".join(w if rng.random() < 0.7 else rng.choice(FILLER) for w in picked)


def _private_db(url: str) -> tuple[str, str]:
    sync = make_url(database_urls(url).sync_url)
    name = f"eakte_bench_search_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sync, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def _drop_db(url: str, name: str) -> None:
    admin = create_engine(make_url(database_urls(url).sync_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed(url: str, documents: int, rng: random.Random) -> list[tuple[str, uuid.UUID]]:
    """Bulk rows: cases (100 documents each), documents, versions, texts (status done)."""
    engine = create_engine(database_urls(url).sync_url)
    now = datetime.now(UTC)
    cases: list[tuple[str, uuid.UUID]] = []
    per_case = 100
    with Progress(console=console) as progress, engine.begin() as conn:
        task = progress.add_task("loading documents", total=documents)
        for start in range(0, documents, 5000):
            batch = range(start, min(documents, start + 5000))
            case_rows, doc_rows, version_rows, text_rows = [], [], [], []
            for i in batch:
                if i % per_case == 0:
                    tenant = TENANTS[(i // per_case) % len(TENANTS)]
                    case_id = uuid.uuid4()
                    cases.append((tenant, case_id))
                    n = len(cases)
                    case_rows.append(
                        dict(
                            id=case_id,
                            tenant_id=tenant,
                            file_number=f"BA-2026-{n:06d}",
                            year=2026,
                            seq=n,
                            title=f"Bauakte {n}",
                            procedure="baybo-59",
                            state="eingegangen",
                            description="",
                            site_address=f"Hauptstraße {n}",
                            site_gemarkung="Mitte",
                            site_flurstueck=f"{n}/1",
                            applicant_name="Bench",
                            search_text="",
                            attributes={},
                            revision=1,
                            created_by="bench",
                            created_at=now,
                            updated_at=now,
                        )
                    )
                tenant, case_id = cases[-1]
                doc_id, version_id = uuid.uuid4(), uuid.uuid4()
                doc_rows.append(
                    dict(
                        id=doc_id,
                        tenant_id=tenant,
                        case_id=case_id,
                        title=f"Dokument {i}",
                        kind="sonstiges",
                        version_count=1,
                        created_by="bench",
                        created_at=now,
                        updated_at=now,
                    )
                )
                version_rows.append(
                    dict(
                        id=version_id,
                        document_id=doc_id,
                        tenant_id=tenant,
                        number=1,
                        object_key=f"{tenant}/{case_id}/{doc_id}/{version_id}",
                        sha256="0" * 64,
                        size=1,
                        media_type="application/pdf",
                        filename="d.pdf",
                        comment="",
                        created_by="bench",
                        created_at=now,
                        status="ok",
                    )
                )
                text_rows.append(
                    dict(
                        version_id=version_id,
                        document_id=doc_id,
                        case_id=case_id,
                        tenant_id=tenant,
                        number=1,
                        status=DONE,
                        attempts=1,
                        content=_text(rng, 120),
                        pages=1,
                        updated_at=now,
                    )
                )
            if case_rows:
                conn.execute(insert(Case), case_rows)
            conn.execute(insert(Document), doc_rows)
            conn.execute(insert(DocumentVersion), version_rows)
            conn.execute(insert(DocumentText), text_rows)
            progress.advance(task, len(batch))
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return cases


async def _extraction(pdfs: int, rng: random.Random) -> tuple[int, float]:
    limits = extractor.Limits(
        max_bytes=64 << 20, max_seconds=60, max_memory_mib=768, max_chars=2_000_000
    )
    documents = [_pdf([_text(rng, 250) for _ in range(rng.randint(1, 8))]) for _ in range(pdfs)]
    pages = 0
    started = time.perf_counter()
    with Progress(console=console) as progress:
        task = progress.add_task("extracting", total=pdfs)
        for data in documents:
            outcome = await extractor.run(data, "application/pdf", limits)
            assert outcome.error is None, outcome.error
            pages += outcome.pages
            progress.advance(task)
    return pages, time.perf_counter() - started


async def _queries(
    url: str, cases: list[tuple[str, uuid.UUID]], n: int, rng: random.Random
) -> list[float]:
    db = Database(url)
    latencies = []
    try:
        with Progress(console=console) as progress:
            task = progress.add_task("searching", total=n)
            for _ in range(n):
                tenant = rng.choice(TENANTS)
                principal = Principal(
                    sub="bench", tenant=tenant, roles=frozenset({Role.clerk}), name="B"
                )
                q = " ".join(rng.choices(VOCABULARY, weights=ZIPF, k=rng.choice([1, 2])))
                started = time.perf_counter()
                async with db.session(write=False) as session:
                    await search_documents(session, principal, q=q, limit=20)
                latencies.append(time.perf_counter() - started)
                progress.advance(task)
    finally:
        await db.dispose()
    return latencies


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def _seed_tenants(url: str) -> None:
    db = Database(url)
    try:
        async with db.session() as session:
            for slug in TENANTS:
                await ensure_tenant(session, slug=slug, name=slug.title())
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--pdfs", type=int, default=60)
    parser.add_argument("--pg", default=os.environ.get("EAKTE_TEST_DATABASE_URL"))
    args = parser.parse_args()
    rng = random.Random(15)
    table = Table(title="document search (issue 15)")
    for column in ("measure", "value"):
        table.add_column(column)
    pages, seconds = asyncio.run(_extraction(args.pdfs, rng))
    table.add_row(
        f"extract {args.pdfs} PDFs ({pages} pages), child process each",
        f"{pages / seconds:.1f} pages/s",
    )
    if not args.pg:
        console.print(
            "[yellow]no PostgreSQL (--pg / EAKTE_TEST_DATABASE_URL): search part skipped[/yellow]"
        )
        console.print(table)
        return 0
    url, name = _private_db(args.pg)
    try:
        upgrade(url)
        asyncio.run(_seed_tenants(url))
        started = time.perf_counter()
        cases = _seed(url, args.documents, rng)
        load = time.perf_counter() - started
        table.add_row(
            f"bulk index {args.documents} texts (tsvector + GIN)",
            f"{args.documents / load:.0f} docs/s",
        )
        latencies = asyncio.run(_queries(url, cases, args.queries, rng))
        table.add_row(
            f"search p50 over {args.documents} documents", f"{_pct(latencies, 0.50):.1f} ms"
        )
        table.add_row(
            f"search p95 over {args.documents} documents",
            f"{_pct(latencies, 0.95):.1f} ms (target < 50)",
        )
    finally:
        _drop_db(args.pg, name)
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
