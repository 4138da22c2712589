"""Aussonderung (xdomea 3.0.0): offer (0501), appraisal (0502), handover (0503), confirmations
(0504–0507) and the deletion or destruction that follows; every step is resumable.

Order of events, and why it is safe to kill the process at any point:
1. `make_offer` writes the 0501 and marks the due cases `angeboten` in one transaction.
2. `import_appraisal` reads the archive's 0502: each case `archivieren` or `vernichten`.
3. `handover` writes the 0503 ZIP (XML + every version's bytes + checksums) to a temporary
   file and renames it into place; only then are the cases marked `uebergeben`. A crash
   before the rename leaves the state unchanged: run it again.
4. `import_confirmation` reads the 0506. Cases the archive imported are marked `loeschung`
   and their versions `destroying` in one transaction *before* any object is deleted.
   `destroy` does the same for cases appraised `vernichten` (an official's action).
5. `resume` deletes the objects of those cases (a missing object counts as deleted), then per
   case, in one transaction, marks the versions `destroyed`, clears extracted text and
   workspace content, writes the permanent destruction record and the audit event.
A legal hold stops steps 3–5 for that case until it is lifted.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import anyio
from lxml import etree
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.audit.models import AuditEvent
from eakte.cases.models import Case
from eakte.collab.models import CollabSnapshot, CollabUpdate, CollabVersion
from eakte.db import Database, utcnow
from eakte.documents.models import (
    VERSION_DESTROYED,
    VERSION_DESTROYING,
    Document,
    DocumentVersion,
)
from eakte.process.service import local_today
from eakte.records import faults, service, transport
from eakte.records.errors import AussonderungConflict, InvalidMessage, OfferNotFound
from eakte.records.models import (
    ArchivalValue,
    CaseRecord,
    DestructionRecord,
    Disposition,
    FilePlanEntry,
    Offer,
    OfferState,
)
from eakte.records.retention import retention_ends
from eakte.records.xdomea import messages as m
from eakte.records.xdomea.schema import parse, serialize
from eakte.search.models import DESTROYED, DocumentText
from eakte.tenants.service import get_tenant
from storage import ObjectNotFound, ObjectStore

ARCHIVAL_CODES = {
    ArchivalValue.anbieten: "B",  # bewerten: the archive decides
    ArchivalValue.archivwuerdig: "A",
    ArchivalValue.nicht_archivwuerdig: "V",
}
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Built:
    """An outgoing message or package: where it was written and its digest."""

    process_id: uuid.UUID
    path: Path
    sha256: str
    cases: int


def export_dir(base: Path, tenant: str) -> Path:
    path = base / tenant
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_atomically(path: Path, write: Callable[[Path], None]) -> str:
    tmp = path.with_name(path.name + ".part")
    write(tmp)
    with tmp.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return digest


async def _parties(session: AsyncSession, tenant: str) -> tuple[m.Party, m.Party]:
    city = (await get_tenant(session, tenant)).name
    return m.Party(f"{city}, Untere Bauaufsichtsbehörde"), m.Party(f"Stadtarchiv ({city})")


def _note(message: str, xml: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "at": utcnow().isoformat(),
        "sha256": hashlib.sha256(xml).hexdigest(),
        "xml": xml.decode("utf-8", errors="replace"),
        **extra,
    }


async def _entry(
    session: AsyncSession,
    case: Case,
    record: CaseRecord,
    plan_entry: FilePlanEntry,
    *,
    with_content: bool,
) -> m.CaseEntry:
    assert record.closed_at is not None
    closed_on = local_today(record.closed_at)
    entry = m.CaseEntry(
        id=case.id,
        file_number=case.file_number,
        title=case.title,
        file_plan_code=plan_entry.code,
        file_plan_title=plan_entry.title,
        retention_years=plan_entry.retention_years,
        retention_until=retention_ends(closed_on, plan_entry.retention_years),
        archival_code=ARCHIVAL_CODES[ArchivalValue(plan_entry.archival_value)],
        opened_on=local_today(case.created_at),
        closed_on=closed_on,
    )
    if not with_content:
        return entry
    documents = (
        await session.scalars(
            select(Document).where(Document.case_id == case.id).order_by(Document.created_at)
        )
    ).all()
    for doc in documents:  # withdrawn ones too: they are part of the record
        versions = (
            await session.scalars(
                select(DocumentVersion)
                .where(DocumentVersion.document_id == doc.id)
                .order_by(DocumentVersion.number)
            )
        ).all()
        entry.documents.append(
            m.DocumentEntry(
                id=doc.id,
                title=doc.title,
                kind=doc.kind,
                withdrawn_reason=doc.withdrawn_reason,
                versions=[
                    m.VersionFile(
                        number=v.number,
                        filename=f"{v.id}_{v.filename}",
                        original_name=v.filename,
                        media_type=v.media_type,
                        created_by=v.created_by_name or v.created_by,
                        created_at=v.created_at,
                    )
                    for v in versions
                ],
            )
        )
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.tenant_id == case.tenant_id, AuditEvent.case_id == case.id)
            .order_by(AuditEvent.seq)
        )
    ).all()
    entry.history = [
        m.HistoryEntry(
            actor=e.actor_name or e.actor,
            at=e.occurred_at,
            action=e.action,
            note=f"seq {e.seq}, sha256 {e.hash}",
        )
        for e in events
    ]
    return entry


async def _offer(session: AsyncSession, tenant: str, process_id: uuid.UUID) -> Offer:
    offer = await session.scalar(
        select(Offer)
        .where(Offer.id == process_id, Offer.tenant_id == tenant)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if offer is None:
        raise OfferNotFound(f"keine Aussonderung {process_id} / no Aussonderung {process_id}")
    return offer


async def _records(
    session: AsyncSession, process_id: uuid.UUID, *dispositions: Disposition
) -> list[tuple[Case, CaseRecord]]:
    rows = await session.execute(
        select(Case, CaseRecord)
        .join(CaseRecord, CaseRecord.case_id == Case.id)
        .where(CaseRecord.offer_id == process_id, CaseRecord.disposition.in_(dispositions))
        .order_by(Case.file_number)
    )
    return [(c, r) for c, r in rows.all()]


async def make_offer(db: Database, base: Path, tenant: str, *, today: date, actor: str) -> Built:
    """Build the 0501 for every closed case whose retention has ended (not on hold)."""
    async with db.session() as session:
        due = await service.due_for_offer(session, tenant, today)
        if not due:
            raise AussonderungConflict(
                f"keine Akte zur Aussonderung fällig am {today:%d.%m.%Y} / no case is due"
            )
        process_id = uuid.uuid4()
        sender, recipient = await _parties(session, tenant)
        entries = [await _entry(session, c, r, e, with_content=False) for c, r, e in due]
        xml = serialize(
            m.anbieteverzeichnis(
                process_id, entries, sender=sender, recipient=recipient, at=utcnow()
            )
        )
        now = utcnow()
        for _, record, _ in due:
            record.disposition, record.offer_id, record.updated_at = (
                Disposition.angeboten.value,
                process_id,
                now,
            )
        session.add(
            Offer(
                id=process_id,
                tenant_id=tenant,
                state=OfferState.angeboten.value,
                created_by=actor,
                created_at=now,
                updated_at=now,
                messages={"0501": _note("0501", xml, by=actor)},
            )
        )
        await session.flush()
        await audit.record(
            session,
            tenant=tenant,
            actor=actor,
            action="records.offered",
            payload={"process_id": str(process_id), "cases": [c.file_number for c, _, _ in due]},
            at=now,
        )
        path = export_dir(base, tenant) / f"{process_id}_{m.ANBIETEVERZEICHNIS}.zip"

        def _zip(tmp: Path) -> None:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(f"{process_id}_{m.ANBIETEVERZEICHNIS}.xml", xml)

        # file first, then the rows that name it (a failed commit leaves an unnamed file only)
        digest = await anyio.to_thread.run_sync(_write_atomically, path, _zip)
        await transport.queue_file(
            session, tenant, code="0501", process_id=str(process_id), path=path, sha256=digest
        )
    return Built(process_id, path, digest, len(due))


async def import_appraisal(
    db: Database, base: Path, tenant: str, data: bytes, *, actor: str
) -> Built:
    """Read the archive's 0502 (every offered case: A archivieren or V vernichten); answer 0505."""
    message = m.read(data, m.BEWERTUNGSVERZEICHNIS)
    decisions = m.appraisals(message)
    async with db.session() as session:
        offer = await _offer(session, tenant, message.process_id)
        if offer.state != OfferState.angeboten:
            raise AussonderungConflict(f"die Bewertung ist schon eingelesen ({offer.state})")
        offered = {
            r.case_id: r for _, r in await _records(session, offer.id, Disposition.angeboten)
        }
        unknown = sorted(str(i) for i in set(decisions) - set(offered))
        missing = sorted(str(i) for i in set(offered) - set(decisions))
        undecided = sorted(str(i) for i, code in decisions.items() if code not in {"A", "V"})
        if unknown or missing or undecided:
            raise InvalidMessage(
                "the appraisal does not match the offer",
                errors=[f"not offered: {i}" for i in unknown]
                + [f"not appraised: {i}" for i in missing]
                + [f"no decision (A or V) for: {i}" for i in undecided],
            )
        now = utcnow()
        for case_id, code in decisions.items():
            record = offered[case_id]
            record.disposition = (
                Disposition.archivieren if code == "A" else Disposition.vernichten
            ).value
            record.updated_at = now
        sender, recipient = await _parties(session, tenant)
        reply = serialize(
            m.confirmation(
                m.BEWERTUNG_EMPFANG, "0505", offer.id, sender=sender, recipient=recipient, at=now
            )
        )
        offer.messages = {
            **offer.messages,
            "0502": _note("0502", data, by=actor),
            "0505": _note("0505", reply),
        }
        offer.state, offer.updated_at = OfferState.bewertet.value, now
        await audit.record(
            session,
            tenant=tenant,
            actor=actor,
            action="records.appraised",
            payload={
                "process_id": str(offer.id),
                "archivieren": sum(1 for c in decisions.values() if c == "A"),
                "vernichten": sum(1 for c in decisions.values() if c == "V"),
            },
            at=now,
        )
        path = export_dir(base, tenant) / f"{offer.id}_{m.BEWERTUNG_EMPFANG}.xml"
        digest = await anyio.to_thread.run_sync(
            _write_atomically, path, lambda tmp: tmp.write_bytes(reply)
        )
        await transport.queue_file(
            session, tenant, code="0505", process_id=str(offer.id), path=path, sha256=digest
        )
    return Built(offer.id, path, digest, len(decisions))


async def receive_receipt(db: Database, tenant: str, data: bytes, *, actor: str) -> str:
    """Record an 0504 (offer received) or 0507 (package received) from the archive."""
    codes = {m.ANBIETUNG_EMPFANG: "0504", m.AUSSONDERUNG_EMPFANG: "0507"}
    name = etree.QName(parse(data)).localname
    if name not in codes:
        raise InvalidMessage("expected an 0504 or 0507 receipt", errors=[f"got {name}"])
    message = m.read(data, name)
    async with db.session() as session:
        offer = await _offer(session, tenant, message.process_id)
        offer.messages = {**offer.messages, codes[name]: _note(codes[name], data, by=actor)}
        offer.updated_at = utcnow()
    return codes[name]


def message_name(data: bytes) -> str:
    """The root element's name of an incoming message (parsed safely, not yet validated)."""
    return str(etree.QName(parse(data)).localname)


async def handover(
    db: Database,
    store: ObjectStore,
    base: Path,
    tenant: str,
    process_id: uuid.UUID,
    *,
    actor: str,
    progress: Progress = _quiet,
) -> Built:
    """Write the 0503 ZIP for the cases appraised `archivieren`; then mark them handed over."""
    async with db.session() as session:
        offer = await _offer(session, tenant, process_id)
        if offer.state not in {OfferState.bewertet, OfferState.uebergeben}:
            raise AussonderungConflict(f"die Aussonderung steht in {offer.state!r}")
        rows = [
            (c, r)
            for c, r in await _records(session, process_id, Disposition.archivieren)
            if r.hold_reason is None
        ]
        if not rows:
            raise AussonderungConflict("keine Akte zur Übergabe (archivieren, ohne Sperre)")
        entries = []
        for case, record in rows:
            plan_entry = await service.entry(session, tenant, record.file_plan_code)
            entries.append(await _entry(session, case, record, plan_entry, with_content=True))
        keys = {
            f"{v.id}_{v.filename}": (v.object_key, v.sha256)
            for v in (
                await session.scalars(
                    select(DocumentVersion)
                    .join(Document, Document.id == DocumentVersion.document_id)
                    .where(Document.case_id.in_([c.id for c, _ in rows]))
                )
            ).all()
        }
        sender, recipient = await _parties(session, tenant)
        xml = serialize(
            m.aussonderung(process_id, entries, sender=sender, recipient=recipient, at=utcnow())
        )
    path = export_dir(base, tenant) / f"{process_id}_{m.AUSSONDERUNG}.zip"

    def _zip(tmp: Path) -> None:
        sums = []
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{process_id}_{m.AUSSONDERUNG}.xml", xml)
            for done, (name, (key, digest)) in enumerate(sorted(keys.items()), start=1):
                hasher = hashlib.sha256()
                with store.open(key) as reader, zf.open(name, "w") as out:
                    for chunk in reader:
                        hasher.update(chunk)
                        out.write(chunk)
                if hasher.hexdigest() != digest:
                    raise AussonderungConflict(f"{name}: bytes do not match the recorded sha256")
                sums.append(f"{digest}  {name}")
                progress(f"packed {done}/{len(keys)}: {name}")
            sums.append(f"{hashlib.sha256(xml).hexdigest()}  {process_id}_{m.AUSSONDERUNG}.xml")
            zf.writestr("SHA256SUMS", "\n".join(sums) + "\n")

    digest = await anyio.to_thread.run_sync(_write_atomically, path, _zip)
    async with db.session() as session:
        offer = await _offer(session, tenant, process_id)
        now = utcnow()
        for _, record in rows:
            await session.execute(
                update(CaseRecord)
                .where(CaseRecord.case_id == record.case_id)
                .values(disposition=Disposition.uebergeben.value, updated_at=now)
            )
        offer.messages = {
            **offer.messages,
            "0503": {"at": now.isoformat(), "sha256": digest, "by": actor, "objects": len(keys)},
        }
        offer.state, offer.package, offer.package_sha256 = (
            OfferState.uebergeben.value,
            str(path),
            digest,
        )
        offer.updated_at = now
        await audit.record(
            session,
            tenant=tenant,
            actor=actor,
            action="records.handed_over",
            payload={
                "process_id": str(process_id),
                "package_sha256": digest,
                "cases": [c.file_number for c, _ in rows],
                "objects": len(keys),
            },
            at=now,
        )
        await transport.queue_file(
            session, tenant, code="0503", process_id=str(process_id), path=path, sha256=digest
        )
    return Built(process_id, path, digest, len(rows))


async def _mark_destroying(
    session: AsyncSession, case_ids: list[uuid.UUID], disposition: Disposition
) -> None:
    if not case_ids:
        return
    await session.execute(
        update(CaseRecord)
        .where(CaseRecord.case_id.in_(case_ids))
        .values(disposition=disposition.value, updated_at=utcnow())
    )
    doc_ids = select(Document.id).where(Document.case_id.in_(case_ids))
    await session.execute(
        update(DocumentVersion)
        .where(DocumentVersion.document_id.in_(doc_ids))
        .values(status=VERSION_DESTROYING)
        .execution_options(synchronize_session=False)
    )


async def import_confirmation(
    db: Database,
    store: ObjectStore,
    tenant: str,
    data: bytes,
    *,
    actor: str,
    progress: Progress = _quiet,
) -> dict[str, int]:
    """Read the archive's 0506; delete what it imported (resumable); failures go back."""
    message = m.read(data, m.IMPORT_BESTAETIGEN)
    results = m.import_results(message)
    async with db.session() as session:
        offer = await _offer(session, tenant, message.process_id)
        if offer.state != OfferState.uebergeben:
            raise AussonderungConflict(f"die Aussonderung steht in {offer.state!r}")
        handed = {r.case_id for _, r in await _records(session, offer.id, Disposition.uebergeben)}
        unknown = sorted(str(i) for i in set(results) - handed)
        if unknown:
            raise InvalidMessage(
                "the confirmation names objects that were not handed over",
                errors=[f"not in the 0503: {i}" for i in unknown],
            )
        imported = [i for i, (ok, _) in results.items() if ok]
        failed = {i: text for i, (ok, text) in results.items() if not ok}
        await _mark_destroying(session, imported, Disposition.loeschung)
        if failed:
            await session.execute(
                update(CaseRecord)
                .where(CaseRecord.case_id.in_(list(failed)))
                .values(disposition=Disposition.archivieren.value, updated_at=utcnow())
            )
        offer.messages = {
            **offer.messages,
            "0506": _note(
                "0506",
                data,
                by=actor,
                archive_ids={str(i): text for i, (ok, text) in results.items() if ok},
            ),
        }
        offer.state, offer.updated_at = OfferState.bestaetigt.value, utcnow()
        await audit.record(
            session,
            tenant=tenant,
            actor=actor,
            action="records.import_confirmed",
            payload={
                "process_id": str(offer.id),
                "imported": len(imported),
                "failed": {str(i): t for i, t in failed.items()},
            },
        )
    deleted = await resume(db, store, tenant, progress=progress)
    return {"imported": len(imported), "failed": len(failed), "cases_completed": deleted}


async def destroy(
    db: Database,
    store: ObjectStore,
    tenant: str,
    process_id: uuid.UUID,
    *,
    actor: str,
    progress: Progress = _quiet,
) -> int:
    """Destroy the cases the archive appraised `vernichten` (an official's action)."""
    async with db.session() as session:
        offer = await _offer(session, tenant, process_id)
        if offer.state == OfferState.angeboten:
            raise AussonderungConflict("die Bewertung des Archivs fehlt noch (0502)")
        rows = [
            r.case_id
            for _, r in await _records(session, process_id, Disposition.vernichten)
            if r.hold_reason is None
        ]
        await _mark_destroying(session, rows, Disposition.vernichtung)
        offer.messages = {
            **offer.messages,
            "vernichtung": {"at": utcnow().isoformat(), "by": actor, "cases": len(rows)},
        }
        await audit.record(
            session,
            tenant=tenant,
            actor=actor,
            action="records.destruction_decided",
            payload={"process_id": str(process_id), "cases": len(rows)},
        )
    return await resume(db, store, tenant, progress=progress)


async def resume(
    db: Database, store: ObjectStore, tenant: str, *, progress: Progress = _quiet
) -> int:
    """Finish every pending deletion or destruction of the tenant; returns the cases done."""
    async with db.session(write=False) as session:
        pending = (
            await session.execute(
                select(Case, CaseRecord)
                .join(CaseRecord, CaseRecord.case_id == Case.id)
                .where(
                    CaseRecord.tenant_id == tenant,
                    CaseRecord.disposition.in_(
                        [Disposition.loeschung.value, Disposition.vernichtung.value]
                    ),
                    CaseRecord.hold_reason.is_(None),
                )
                .order_by(Case.file_number)
            )
        ).all()
    done = 0
    for case, record in pending:
        await _finish_case(db, store, case, record, progress)
        done += 1
    return done


async def _finish_case(
    db: Database, store: ObjectStore, case: Case, record: CaseRecord, progress: Progress
) -> None:
    async with db.session(write=False) as session:
        versions = (
            await session.scalars(
                select(DocumentVersion)
                .join(Document, Document.id == DocumentVersion.document_id)
                .where(Document.case_id == case.id)
                .order_by(DocumentVersion.object_key)
            )
        ).all()
    objects = [
        {"key": v.object_key, "sha256": v.sha256, "size": v.size, "filename": v.filename}
        for v in versions
    ]
    for v in versions:
        if v.status != VERSION_DESTROYING:
            continue
        try:
            await anyio.to_thread.run_sync(store.delete, v.object_key)
        except ObjectNotFound:
            pass  # deleted before an interruption
        progress(f"{case.file_number}: deleted {v.object_key}")
        faults.object_deleted()
    archived = record.disposition == Disposition.loeschung.value
    async with db.session() as session:
        offer = await session.get(Offer, record.offer_id) if record.offer_id else None
        notes = offer.messages if offer is not None else {}
        if archived:
            confirmation = notes.get("0506", {})
            decision = (
                f"Übernahme durch das Archiv bestätigt (0506, ProzessID {record.offer_id}, "
                f"Archivkennung {confirmation.get('archive_ids', {}).get(str(case.id), '')})"
            )
            decided_by = str(confirmation.get("by", "archive"))
        else:
            decision = (
                f"Bewertung des Archivs: vernichten (0502, ProzessID {record.offer_id}); "
                "Vernichtung angeordnet"
            )
            decided_by = str(notes.get("vernichtung", {}).get("by", "unknown"))
        doc_ids = select(Document.id).where(Document.case_id == case.id)
        await session.execute(
            update(DocumentVersion)
            .where(DocumentVersion.document_id.in_(doc_ids))
            .values(status=VERSION_DESTROYED)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(DocumentText)
            .where(DocumentText.case_id == case.id)
            .values(content="", status=DESTROYED, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        await session.execute(delete(CollabUpdate).where(CollabUpdate.case_id == case.id))
        await session.execute(delete(CollabSnapshot).where(CollabSnapshot.case_id == case.id))
        await session.execute(
            update(CollabVersion).where(CollabVersion.case_id == case.id).values(state=b"")
        )
        plan_entry = await service.entry(session, case.tenant_id, record.file_plan_code)
        assert record.closed_at is not None
        until = retention_ends(local_today(record.closed_at), plan_entry.retention_years)
        now = utcnow()
        session.add(
            DestructionRecord(
                tenant_id=case.tenant_id,
                case_id=case.id,
                file_number=case.file_number,
                title=case.title,
                file_plan_code=record.file_plan_code,
                closed_at=record.closed_at,
                retention_until=until.isoformat(),
                grounds="archiviert" if archived else "vernichten",
                decision=decision,
                decided_by=decided_by,
                destroyed_at=now,
                objects=objects,
            )
        )
        final = Disposition.archiviert if archived else Disposition.vernichtet
        await session.execute(
            update(CaseRecord)
            .where(CaseRecord.case_id == case.id)
            .values(disposition=final.value, updated_at=now)
        )
        await audit.record(
            session,
            tenant=case.tenant_id,
            actor="eakte-aussonderung",
            action="records.destroyed",
            case_id=case.id,
            payload={
                "grounds": "archiviert" if archived else "vernichten",
                "decision": decision,
                "decided_by": decided_by,
                "objects": len(objects),
            },
            at=now,
        )
    progress(f"{case.file_number}: {final.value}")


async def destruction_records(db: Database, tenant: str) -> list[DestructionRecord]:
    """The tenant's destruction records, oldest first."""
    async with db.session(write=False) as session:
        return list(
            (
                await session.scalars(
                    select(DestructionRecord)
                    .where(DestructionRecord.tenant_id == tenant)
                    .order_by(DestructionRecord.destroyed_at)
                )
            ).all()
        )
