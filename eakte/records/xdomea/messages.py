"""Build and read the xdomea 3.0.0 Aussonderung messages (0501–0507).

Builders return lxml elements; `schema.serialize` validates before anything is written.
Readers take bytes from outside, parse them safely and validate them before reading a value.
Names and codes: the xdomea 3.0.0 XSD (vendored), message codes from the code list
`urn:xoev-de:xdomea:codeliste:nachrichtentyp`, Aussonderungsart A/B/V from
`urn:xoev-de:xdomea:codeliste:aussonderungsart`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from lxml import etree

from eakte.records.xdomea.schema import NS, parse_valid

ANBIETEVERZEICHNIS = "Aussonderung.Anbieteverzeichnis.0501"
BEWERTUNGSVERZEICHNIS = "Aussonderung.Bewertungsverzeichnis.0502"
AUSSONDERUNG = "Aussonderung.Aussonderung.0503"
ANBIETUNG_EMPFANG = "Aussonderung.AnbietungEmpfangBestaetigen.0504"
BEWERTUNG_EMPFANG = "Aussonderung.BewertungEmpfangBestaetigen.0505"
IMPORT_BESTAETIGEN = "Aussonderung.AussonderungImportBestaetigen.0506"
AUSSONDERUNG_EMPFANG = "Aussonderung.AussonderungEmpfangBestaetigen.0507"

# Dateiformat code list (urn:xoev-de:xdomea:codeliste:dateiformat 1.0)
FORMAT_CODES = {
    "application/pdf": "018",
    "image/png": "019",
    "image/jpeg": "011",
    "image/tiff": "024",
    "text/plain": "045",
    "text/csv": "002",
    "application/xml": "030",
    "text/xml": "030",
}
FORMAT_OTHER = "030"  # fallback with SonstigerName (the media type)


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _q(name))
    if text is not None:
        el.text = text
    return el


def _code(parent: etree._Element, name: str, value: str) -> etree._Element:
    el = _sub(parent, name)
    code = etree.SubElement(el, "code")  # the code child is unqualified (xoev-code)
    code.text = value
    return el


@dataclass(frozen=True)
class Party:
    """Sender or recipient: an institution (the city's authority, the city archive)."""

    institution: str
    unit: str = ""


def _kontakt(parent: etree._Element, name: str, party: Party) -> None:
    el = _sub(parent, name)
    inst = _sub(el, "Institution")
    _sub(inst, "Name", party.institution)


def _kopf(
    root: etree._Element,
    *,
    process_id: uuid.UUID,
    code: str,
    sender: Party,
    recipient: Party,
    at: datetime,
) -> etree._Element:
    kopf = _sub(root, "Kopf")
    _sub(kopf, "ProzessID", str(process_id))
    _code(kopf, "Nachrichtentyp", code)
    _sub(kopf, "Erstellungszeitpunkt", at.isoformat(timespec="seconds"))
    _kontakt(kopf, "Absender", sender)
    _kontakt(kopf, "Empfaenger", recipient)
    system = _sub(kopf, "SendendesSystem")
    _sub(system, "Produktname", "E-Akte Bau")
    return kopf


@dataclass
class VersionFile:
    """One primary document (a stored version) inside the 0503 package."""

    number: int
    filename: str  # name inside the ZIP; the XSD wants it to start with a UUID
    original_name: str
    media_type: str
    created_by: str
    created_at: datetime


@dataclass
class DocumentEntry:
    id: uuid.UUID
    title: str
    kind: str
    withdrawn_reason: str | None
    versions: list[VersionFile] = field(default_factory=list)


@dataclass
class HistoryEntry:
    actor: str
    at: datetime
    action: str
    note: str


@dataclass
class CaseEntry:
    """What the messages say about one case file (an xdomea Akte)."""

    id: uuid.UUID
    file_number: str
    title: str
    file_plan_code: str
    file_plan_title: str
    retention_years: int
    retention_until: date
    archival_code: str  # A | B | V
    opened_on: date
    closed_on: date
    documents: list[DocumentEntry] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)


def _akte(parent: etree._Element, case: CaseEntry, *, with_content: bool) -> None:
    akte = _sub(_sub(parent, "Schriftgutobjekt"), "Akte")
    _sub(_sub(akte, "Identifikation"), "ID", str(case.id))
    meta = _sub(akte, "AllgemeineMetadaten")
    _sub(meta, "Betreff", case.title)
    _sub(meta, "Kennzeichen", case.file_number)
    unit = _sub(meta, "Aktenplaneinheit")
    _sub(unit, "Kennzeichen", case.file_plan_code)
    _sub(unit, "Inhaltsangabe", case.file_plan_title)
    archive = _sub(akte, "ArchivspezifischeMetadaten")
    _sub(_sub(archive, "Aufbewahrungsdauer"), "AnzahlJahre", str(case.retention_years))
    _code(_sub(archive, "Aussonderungsart"), "Aussonderungsart", case.archival_code)
    _sub(archive, "Aufbewahrungsende", case.retention_until.isoformat())
    _sub(akte, "Typ", "Bauakte")
    period = _sub(akte, "Laufzeit")
    _sub(period, "Beginn", case.opened_on.isoformat())
    _sub(period, "Ende", case.closed_on.isoformat())
    if with_content:
        for event in case.history:
            hist = _sub(akte, "HistorienProtokollInformation")
            _sub(hist, "Akteur", event.actor)
            _sub(hist, "DatumUhrzeit", event.at.isoformat(timespec="seconds"))
            _sub(hist, "Bemerkung", event.note)
            _sub(hist, "Aktion", event.action)
        content = _sub(akte, "Akteninhalt")
        for doc in case.documents:
            _dokument(content, doc)
    _sub(akte, "ZdA", "true")
    _sub(akte, "ZdADatum", case.closed_on.isoformat())


def _dokument(parent: etree._Element, doc: DocumentEntry) -> None:
    el = _sub(parent, "Dokument")
    _sub(_sub(el, "Identifikation"), "ID", str(doc.id))
    meta = _sub(el, "AllgemeineMetadaten")
    _sub(meta, "Betreff", doc.title)
    if doc.withdrawn_reason:
        _sub(meta, "Bemerkung", f"zurückgezogen: {doc.withdrawn_reason}")
    _sub(el, "Typ", doc.kind)
    for version in doc.versions:
        v = _sub(el, "Version")
        _sub(v, "Nummer", str(version.number))
        fmt = _sub(v, "Format")
        code = FORMAT_CODES.get(version.media_type, FORMAT_OTHER)
        name = _code(fmt, "Name", code)
        name.set("listURI", "urn:xoev-de:xdomea:codeliste:dateiformat")
        name.set("listVersionID", "1.0")
        if version.media_type not in FORMAT_CODES:
            _sub(fmt, "SonstigerName", version.media_type)
        _sub(fmt, "Version", "unbekannt")
        primary = _sub(fmt, "Primaerdokument")
        _sub(primary, "Dateiname", version.filename)
        _sub(primary, "DateinameOriginal", version.original_name)
        _sub(primary, "Ersteller", version.created_by)
        _sub(primary, "DatumUhrzeit", version.created_at.isoformat(timespec="seconds"))


def anbieteverzeichnis(
    process_id: uuid.UUID, cases: list[CaseEntry], *, sender: Party, recipient: Party, at: datetime
) -> etree._Element:
    """0501: the offer — metadata of every case, no primary documents."""
    root = etree.Element(_q(ANBIETEVERZEICHNIS), nsmap={"xdomea": NS})
    kopf = _kopf(
        root, process_id=process_id, code="0501", sender=sender, recipient=recipient, at=at
    )
    _sub(kopf, "Empfangsbestaetigung", "true")
    for case in cases:
        _akte(root, case, with_content=False)
    return root


def aussonderung(
    process_id: uuid.UUID, cases: list[CaseEntry], *, sender: Party, recipient: Party, at: datetime
) -> etree._Element:
    """0503: the handover — metadata, history and every primary document's file name."""
    root = etree.Element(_q(AUSSONDERUNG), nsmap={"xdomea": NS})
    kopf = _kopf(
        root, process_id=process_id, code="0503", sender=sender, recipient=recipient, at=at
    )
    _sub(kopf, "Importbestaetigung", "1")  # fixed="1" in the XSD
    _sub(kopf, "RueckmeldungArchivkennung", "true")
    _sub(kopf, "Empfangsbestaetigung", "true")
    for case in cases:
        _akte(root, case, with_content=True)
    return root


def confirmation(
    name: str, code: str, process_id: uuid.UUID, *, sender: Party, recipient: Party, at: datetime
) -> etree._Element:
    """A receipt with a header only (0504, 0505, 0507)."""
    root = etree.Element(_q(name), nsmap={"xdomea": NS})
    _kopf(root, process_id=process_id, code=code, sender=sender, recipient=recipient, at=at)
    return root


def bewertungsverzeichnis(
    process_id: uuid.UUID,
    decisions: dict[uuid.UUID, str],
    *,
    sender: Party,
    recipient: Party,
    at: datetime,
) -> etree._Element:
    """0502 as an archive sends it (for tests and the archive side of a demo)."""
    root = etree.Element(_q(BEWERTUNGSVERZEICHNIS), nsmap={"xdomea": NS})
    kopf = _kopf(
        root, process_id=process_id, code="0502", sender=sender, recipient=recipient, at=at
    )
    _sub(kopf, "Empfangsbestaetigung", "true")
    for case_id, code in decisions.items():
        obj = _sub(root, "BewertetesObjekt")
        _sub(obj, "ID", str(case_id))
        _code(_sub(obj, "Aussonderungsart"), "Aussonderungsart", code)
    return root


def import_bestaetigen(
    process_id: uuid.UUID,
    results: dict[uuid.UUID, tuple[bool, str]],
    *,
    sender: Party,
    recipient: Party,
    at: datetime,
) -> etree._Element:
    """0506 as an archive sends it: per object success (with Archivkennung) or failure."""
    root = etree.Element(_q(IMPORT_BESTAETIGEN), nsmap={"xdomea": NS})
    _kopf(root, process_id=process_id, code="0506", sender=sender, recipient=recipient, at=at)
    for case_id, (ok, text) in results.items():
        obj = _sub(root, "AusgesondertesSGO")
        _sub(obj, "IDSGO", str(case_id))
        _sub(obj, "Erfolgreich", "true" if ok else "false")
        if ok:
            _sub(obj, "Archivkennung", text)
        else:
            _sub(obj, "Fehlermeldung", text)
    return root


def _text(el: etree._Element, path: str) -> str:
    found = el.find(path, {"x": NS})
    return (found.text or "").strip() if found is not None else ""


@dataclass(frozen=True)
class Incoming:
    """The header of a validated incoming message."""

    name: str
    process_id: uuid.UUID
    root: etree._Element


def read(data: bytes, expected: str) -> Incoming:
    """Parse and validate an incoming message of type `expected`."""
    root = parse_valid(data, expected)
    return Incoming(expected, uuid.UUID(_text(root, "x:Kopf/x:ProzessID")), root)


def appraisals(message: Incoming) -> dict[uuid.UUID, str]:
    """0502: object id → Aussonderungsart code (A archivieren, V vernichten, B bewerten)."""
    out: dict[uuid.UUID, str] = {}
    for obj in message.root.findall("x:BewertetesObjekt", {"x": NS}):
        code = _text(obj, "x:Aussonderungsart/x:Aussonderungsart/code")
        out[uuid.UUID(_text(obj, "x:ID"))] = code
    return out


def import_results(message: Incoming) -> dict[uuid.UUID, tuple[bool, str]]:
    """0506: object id → (imported, Archivkennung or the archive's error messages)."""
    out: dict[uuid.UUID, tuple[bool, str]] = {}
    for obj in message.root.findall("x:AusgesondertesSGO", {"x": NS}):
        ok = _text(obj, "x:Erfolgreich") in {"true", "1"}
        if ok:
            detail = _text(obj, "x:Archivkennung")
        else:
            detail = "; ".join(
                (e.text or "").strip() for e in obj.findall("x:Fehlermeldung", {"x": NS})
            )
        out[uuid.UUID(_text(obj, "x:IDSGO"))] = (ok, detail)
    return out
