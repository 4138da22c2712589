"""Daily print batches for the post room: one PDF per tenant and day, then the posting date.

Letters whose addressee has no electronic channel are queued when they are signed
(`eakte.postroom.queue`, in the signing transaction), as are documents provided for retrieval
and not retrieved within ten days (Art. 41 Abs. 2a S. 4 BayVwVfG, `eakte.process.ticker`).
`build_batch` takes every queued, still unposted letter of the day into one batch (a letter is
in exactly one batch: `print_items.issued_id` is unique and the batch id is set once), renders
a cover list and merges the sealed letters, each starting on an odd page (duplex). Confirming
the batch as posted makes every letter known by post through the one rule
(`eakte.process.bekanntgabe.make_letter_known`, Art. 41 Abs. 2 BayVwVfG).
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import anyio
import pikepdf
import typst
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.auth.principal import Principal, Role
from eakte.cases.models import Case
from eakte.db import utcnow
from eakte.documents.models import DocumentVersion
from eakte.errors import DomainError
from eakte.issuing import service as issuing
from eakte.issuing.letters import SERVES_DECISION, SPECS, LetterType
from eakte.issuing.models import SIGNED, IssuedDocument
from eakte.issuing.render import FONT_DIRS, PDF_STANDARD
from eakte.postroom.errors import PostroomBlocked, PrintBatchNotFound
from eakte.postroom.models import PrintBatch, PrintItem
from eakte.process import bekanntgabe as process_bekanntgabe
from eakte.process.service import BERLIN
from storage import ObjectStore

COVER = Path(__file__).parents[1] / "issuing" / "layout" / "cover.typ"
A4 = (595.28, 841.89)
POSTCODE = re.compile(r"\b(\d{5})\b")
Progress = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True)
class Entry:
    """One letter of a batch, in print order."""

    item: PrintItem
    record: IssuedDocument
    case: Case
    pdf: bytes
    pages: int  # printed pages of the entry: the letter, then its enclosure on a new sheet
    enclosure: bytes | None = None  # the sealed decision served with it (Art. 66 BayBO)
    enclosure_label: str = ""


def postcode(address: str) -> str:
    """The address's (last) German postcode, "" when it has none (sorted last)."""
    found = POSTCODE.findall(address or "")
    return found[-1] if found else ""


def sort_key(entry: Entry) -> tuple[str, str, str]:
    """Stable print order: postcode (none last), then file number, then the letter's id."""
    code = postcode(entry.record.addressee_address) or "99999~"
    return (code, entry.case.file_number, str(entry.record.id))


def _day_end(day: date) -> datetime:
    """The first instant after `day` in Bavaria, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), BERLIN).astimezone(UTC)


def batch_key(tenant: str, day: date, batch_id: uuid.UUID) -> str:
    """The object key of a batch: the tenant's post room, not a case."""
    return f"{tenant}/postroom/{day.isoformat()}/{batch_id}.pdf"


def _cover_pdf(data: dict[str, Any]) -> bytes:
    return bytes(
        typst.compile(  # type: ignore[call-overload]
            str(COVER),
            sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
            pdf_standards=PDF_STANDARD,
            font_paths=[str(p) for p in FONT_DIRS],
            ignore_system_fonts=True,
        )
    )


def _page_count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def _even(n: int) -> int:
    return n + (n % 2)


def compose(
    entries: list[Entry], *, authority: str, day: date
) -> tuple[bytes, list[tuple[int, int]], int]:
    """(batch PDF, (first page, pages) per entry, total pages); CPU-bound, run in a thread.

    The cover list comes first; every letter starts on an odd page of the stack (a blank page
    is added after a part with an odd page count), so duplex printing never puts two letters
    on one sheet."""
    rows: list[dict[str, Any]] = []
    cover_pages = 1
    for _ in range(4):  # the cover's own length decides where the letters start
        first = _even(cover_pages) + 1
        rows, starts = [], []
        for n, e in enumerate(entries, start=1):
            starts.append((first, e.pages))
            rows.append(
                {
                    "position": str(n),
                    "file_number": e.case.file_number,
                    "addressee": ", ".join(
                        [e.record.addressee_name, *e.record.addressee_address.splitlines()]
                    ),
                    "letter_type": SPECS[LetterType(e.record.letter_type)].label_de
                    + (f" + Anlage: {e.enclosure_label}" if e.enclosure else ""),
                    "pages": str(e.pages),
                    "first_page": str(first),
                }
            )
            first += _even(e.pages)
        total = first - 1
        cover = _cover_pdf(
            {
                "title": f"Druckstapel Poststelle {day:%d.%m.%Y}",
                "authority_name": authority,
                "date": f"{day:%d.%m.%Y}",
                "letters": str(len(entries)),
                "pages": str(total),
                "rows": rows,
            }
        )
        if _page_count(cover) == cover_pages:
            break
        cover_pages = _page_count(cover)
    out = pikepdf.new()
    parts = [cover]
    for e in entries:
        parts.append(e.pdf)
        if e.enclosure:
            parts.append(e.enclosure)
    for part in parts:
        with pikepdf.open(io.BytesIO(part)) as src:
            # the print copy needs no signature fields (the sealed letter stays in the file)
            out.add_pages_from(src, forms="strip")
        if len(out.pages) % 2:
            out.add_blank_page(page_size=A4)
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue(), starts, len(out.pages)


async def _enclosure(
    session: AsyncSession, store: ObjectStore, record: IssuedDocument
) -> tuple[bytes | None, str]:
    """(sealed PDF, label) of the decision the letter serves, (None, "") for other letters."""
    enclosure = await issuing.enclosure_of(session, record)
    if enclosure is None:
        return None, ""
    label = SPECS[LetterType(enclosure.letter_type)].label_de
    return await _signed_pdf(session, store, enclosure), f"{label} ({enclosure.verification_ref})"


async def _signed_pdf(session: AsyncSession, store: ObjectStore, record: IssuedDocument) -> bytes:
    version = await session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == record.document_id,
            DocumentVersion.number == record.signed_version,
        )
    )
    if version is None:
        raise PostroomBlocked(
            f"Die gesiegelte Fassung des Schreibens {record.verification_ref} fehlt.",
            f"the sealed version of letter {record.verification_ref} is missing",
        )

    def _read() -> bytes:
        with store.open(version.object_key) as reader:
            return reader.read_all()

    return await anyio.to_thread.run_sync(_read)


async def _queued(session: AsyncSession, tenant: str, day: date) -> list[tuple[Any, ...]]:
    rows = await session.execute(
        select(PrintItem, IssuedDocument, Case)
        .join(IssuedDocument, IssuedDocument.id == PrintItem.issued_id)
        .join(Case, Case.id == PrintItem.case_id)
        .where(
            PrintItem.tenant_id == tenant,
            PrintItem.batch_id.is_(None),
            PrintItem.queued_at < _day_end(day),
            IssuedDocument.state == SIGNED,  # a letter made known otherwise is not printed
        )
        .with_for_update(of=PrintItem)
    )
    return [tuple(r) for r in rows]


async def _existing(session: AsyncSession, tenant: str, day: date) -> PrintBatch | None:
    return await session.scalar(
        select(PrintBatch)
        .where(PrintBatch.tenant_id == tenant, PrintBatch.batch_date == day)
        .execution_options(populate_existing=True)
    )


async def build_batch(
    session: AsyncSession,
    store: ObjectStore,
    *,
    tenant: str,
    day: date,
    actor: str,
    authority: str,
    progress: Progress | None = None,
) -> tuple[PrintBatch, bool]:
    """The tenant's batch of `day` (created, True) or the existing one (False); a re-run never
    puts a letter into a second batch. Raises PostroomBlocked when nothing is queued."""
    existing = await _existing(session, tenant, day)
    if existing is not None:
        return existing, False
    queued = await _queued(session, tenant, day)  # locks the queue: a concurrent run waits
    existing = await _existing(session, tenant, day)  # … and then finds the batch made
    if existing is not None:
        return existing, False
    if not queued:
        raise PostroomBlocked(
            f"Für den {day:%d.%m.%Y} liegen keine Schreiben zum Druck vor.",
            f"no letters are queued for printing on {day.isoformat()}",
        )
    advance = progress("Schreiben laden", len(queued)) if progress else None
    entries = []
    for item, record, case in queued:
        pdf = await _signed_pdf(session, store, record)
        pages = await anyio.to_thread.run_sync(_page_count, pdf)
        enclosure, label = await _enclosure(session, store, record)
        if enclosure is not None:  # the decision starts on a sheet of its own
            pages = _even(pages) + await anyio.to_thread.run_sync(_page_count, enclosure)
        entries.append(Entry(item, record, case, pdf, pages, enclosure, label))
        if advance:
            advance(1)
    entries.sort(key=sort_key)
    composed = progress("Stapel setzen", 1) if progress else None
    pdf, starts, total = await anyio.to_thread.run_sync(
        lambda: compose(entries, authority=authority, day=day)
    )
    if composed:
        composed(1)
    batch = PrintBatch(id=uuid.uuid4(), tenant_id=tenant, batch_date=day)
    batch.object_key = batch_key(tenant, day, batch.id)
    info = await anyio.to_thread.run_sync(
        lambda: store.put(batch.object_key, io.BytesIO(pdf), len(pdf), issuing.PDF)
    )
    now = utcnow()
    batch.sha256 = info.sha256
    batch.size, batch.letters, batch.pages = len(pdf), len(entries), total
    batch.created_by, batch.created_at = actor, now
    try:
        async with session.begin_nested():
            session.add(batch)
            await session.flush()
    except IntegrityError:  # another run made the day's batch meanwhile (unique tenant + day)
        await anyio.to_thread.run_sync(store.delete, batch.object_key)
        existing = await _existing(session, tenant, day)
        if existing is None:
            raise
        return existing, False
    for n, (entry, (first, pages)) in enumerate(zip(entries, starts, strict=True), start=1):
        entry.item.batch_id, entry.item.position = batch.id, n
        entry.item.first_page, entry.item.pages = first, pages
    await session.flush()
    await audit.record(
        session,
        tenant=tenant,
        actor=actor,
        action="postroom.batch_created",
        payload={
            "batch_id": str(batch.id),
            "date": day.isoformat(),
            "letters": len(entries),
            "pages": total,
            "sha256": batch.sha256,
            "issued_ids": [str(e.record.id) for e in entries],
            "enclosures": {
                str(e.record.id): str(e.record.enclosure_id) for e in entries if e.enclosure
            },
        },
        at=now,
    )
    return batch, True


async def list_batches(session: AsyncSession, tenant: str) -> list[PrintBatch]:
    """The tenant's batches, newest day first."""
    return list(
        await session.scalars(
            select(PrintBatch)
            .where(PrintBatch.tenant_id == tenant)
            .order_by(PrintBatch.batch_date.desc(), PrintBatch.id)
        )
    )


async def get_batch(
    session: AsyncSession, tenant: str, batch_id: uuid.UUID, *, lock: bool = False
) -> PrintBatch:
    """One batch of the tenant (404 for other tenants' ids)."""
    stmt = select(PrintBatch).where(PrintBatch.id == batch_id, PrintBatch.tenant_id == tenant)
    if lock:
        stmt = stmt.with_for_update()
    batch = await session.scalar(stmt.execution_options(populate_existing=True))
    if batch is None:
        raise PrintBatchNotFound(f"no print batch {batch_id}")
    return batch


async def batch_items(session: AsyncSession, batch: PrintBatch) -> list[tuple[Any, ...]]:
    """(item, letter, case) of the batch in print order."""
    rows = await session.execute(
        select(PrintItem, IssuedDocument, Case)
        .join(IssuedDocument, IssuedDocument.id == PrintItem.issued_id)
        .join(Case, Case.id == PrintItem.case_id)
        .where(PrintItem.batch_id == batch.id)
        .order_by(PrintItem.position)
    )
    return [tuple(r) for r in rows]


@dataclass(frozen=True)
class Skipped:
    issued_id: uuid.UUID
    file_number: str
    reason_de: str
    reason_en: str


def _case_principal(principal: Principal) -> Principal:
    """The post room confirms the posting; the letters' Bekanntgabe is recorded in its name
    with the rights the issuing step needs (clerk), inside its own tenant only."""
    return Principal(
        sub=principal.sub,
        tenant=principal.tenant,
        roles=principal.roles | {Role.clerk},
        name=principal.name,
    )


async def confirm_posted(
    session: AsyncSession, principal: Principal, batch_id: uuid.UUID, posted_on: date
) -> tuple[PrintBatch, list[Skipped]]:
    """Record the posting day for every letter of the batch (once) and make each known by post
    through the one rule (Art. 41 Abs. 2 BayVwVfG); letters made known otherwise meanwhile,
    or whose procedure refuses the Bekanntgabe, are listed as skipped."""
    batch = await get_batch(session, principal.tenant, batch_id, lock=True)
    if batch.posted_on is not None:
        raise PostroomBlocked(
            f"Der Stapel wurde bereits am {batch.posted_on:%d.%m.%Y} als aufgegeben bestätigt.",
            f"the batch was already confirmed as posted on {batch.posted_on.isoformat()}",
        )
    if posted_on < batch.batch_date:
        raise PostroomBlocked(
            "Der Tag der Aufgabe zur Post liegt vor dem Tag des Druckstapels.",
            "the posting day lies before the batch's day",
        )
    if posted_on > datetime.now(BERLIN).date():
        raise PostroomBlocked(
            "Der Tag der Aufgabe zur Post liegt in der Zukunft.", "the posting day is in the future"
        )
    acting = _case_principal(principal)
    skipped: list[Skipped] = []
    for _item, record, case in await batch_items(session, batch):
        if record.state != SIGNED:
            skipped.append(
                Skipped(
                    record.id,
                    case.file_number,
                    "Das Schreiben wurde inzwischen anders bekanntgegeben.",
                    "the letter was made known otherwise meanwhile",
                )
            )
            continue
        if LetterType(record.letter_type) in SERVES_DECISION:
            # the enclosed permit "ist … zuzustellen" (Art. 66 Abs. 1 S. 4 BayBO): its day comes
            # from the proof of service, not from the posting-day rule of Art. 41 Abs. 2 BayVwVfG
            skipped.append(
                Skipped(
                    record.id,
                    case.file_number,
                    "Zustellung erforderlich (Art. 66 Abs. 1 S. 4 BayBO): den Tag der Zustellung "
                    "laut Rückschein oder Zustellungsurkunde beim Schreiben erfassen.",
                    "must be served (Art. 66 para. 1 s. 4 BayBO): record the day of service from "
                    "the proof of service on the letter",
                )
            )
            continue
        try:
            async with session.begin_nested():
                await process_bekanntgabe.make_letter_known(
                    session, acting, case.id, record.id, channel="postal", posted_on=posted_on
                )
        except DomainError as exc:
            reasons = exc.extra.get("reasons") or [{"de": exc.detail, "en": exc.detail}]
            skipped.append(Skipped(record.id, case.file_number, reasons[0]["de"], reasons[0]["en"]))
    now = utcnow()
    batch.posted_on, batch.posted_by, batch.posted_at = posted_on, principal.sub, now
    await session.flush()
    await audit.record(
        session,
        tenant=principal.tenant,
        actor=principal,
        action="postroom.batch_posted",
        payload={
            "batch_id": str(batch.id),
            "posted_on": posted_on.isoformat(),
            "skipped": [str(s.issued_id) for s in skipped],
        },
        at=now,
    )
    return batch, skipped


async def batch_pdf(store: ObjectStore, batch: PrintBatch) -> bytes:
    """The stored batch PDF."""

    def _read() -> bytes:
        with store.open(batch.object_key) as reader:
            return reader.read_all()

    return await anyio.to_thread.run_sync(_read)
