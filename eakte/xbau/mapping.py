"""Pure mapping between XBau messages and the domain: XML in, commands out (no DB, no I/O).

Input is a message that `parsing.load` has already checked against the XSD, so the paths
below exist in the shape the schema gives them; every value may still be absent (XBau 2.6
makes nearly every element optional), and absence is handled here.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from lxml import etree

from eakte.documents.kinds import DocumentKind
from eakte.xbau.errors import XBauIncomplete, XBauUnsupportedMessage

BERLIN = ZoneInfo("Europe/Berlin")

# Messages that open a case, by root element name -> procedure family.
APPLICATIONS = {
    "baugenehmigung.antrag.0200": "baugenehmigung",
    "vorbescheid.antrag.0210": "vorbescheid",
    "genehmigungsfreistellung.anzeige.0600": "genehmigungsfreistellung",
}
# Messages that change a running application (new data and/or Anlagen).
CHANGES = {
    "baugenehmigung.antragGeaendert.0202": "baugenehmigung",
    "vorbescheid.antragGeaendert.0212": "vorbescheid",
    "genehmigungsfreistellung.anzeigeBAB.0601": "genehmigungsfreistellung",
}
# An agency's answer in a Beteiligung.
STATEMENTS = {"beteiligung.stellungnahme.0303"}

# Verfahrensart (Code.Verfahrensart; XBau leaves the code list to the Land, Bavaria publishes
# none in the 2.6 package): we accept the article of the BayBO as the code ("59", "60", also
# "Art. 59", "baybo-59"), whatever the listURI. Without a Verfahrensart a Bauantrag is taken as
# vereinfachtes Verfahren (Art. 59 BayBO, the procedure for every building that is not a
# Sonderbau); the case records that the procedure was assumed.
BAUGENEHMIGUNG_PROCEDURES = {"59": "baybo-59", "60": "baybo-60"}
FAMILY_PROCEDURE = {"vorbescheid": "baybo-71", "genehmigungsfreistellung": "baybo-58"}
DEFAULT_BAUGENEHMIGUNG = "baybo-59"

# XBau Anlage Art (urn:xoev-de:xbau:codeliste:anlagen) -> our document kinds. The codes are
# matched case-insensitively on their leading word, so "lageplan", "Lageplan_amtlich" and
# "lageplanQualifiziert" all map to Lageplan; anything else is Sonstiges (kept, never refused).
KIND_PREFIXES: tuple[tuple[str, DocumentKind], ...] = (
    ("lageplan", DocumentKind.lageplan),
    ("bauzeichnung", DocumentKind.bauzeichnung),
    ("grundriss", DocumentKind.bauzeichnung),
    ("schnitt", DocumentKind.bauzeichnung),
    ("ansicht", DocumentKind.bauzeichnung),
    ("baubeschreibung", DocumentKind.baubeschreibung),
    ("betriebsbeschreibung", DocumentKind.baubeschreibung),
    ("standsicherheit", DocumentKind.standsicherheitsnachweis),
    ("statik", DocumentKind.standsicherheitsnachweis),
    ("brandschutz", DocumentKind.brandschutznachweis),
    ("nachbar", DocumentKind.nachbarunterschrift),
    ("stellungnahme", DocumentKind.stellungnahme),
    ("bescheid", DocumentKind.bescheid),
)


def local(el: etree._Element) -> str:
    return etree.QName(el).localname


def children(el: etree._Element | None, name: str) -> Iterator[etree._Element]:
    """Child elements called `name` (namespace-blind: XBau mixes qualified and unqualified)."""
    if el is None:
        return
    for child in el:
        if isinstance(child.tag, str) and local(child) == name:
            yield child


def find(el: etree._Element | None, path: str) -> etree._Element | None:
    """The first element along a `/`-separated path of local names."""
    for name in path.split("/"):
        el = next(children(el, name), None)
        if el is None:
            return None
    return el


def find_all(el: etree._Element | None, path: str) -> list[etree._Element]:
    """Every element at the end of `path` (each step may repeat)."""
    current = [el] if el is not None else []
    for name in path.split("/"):
        current = [c for parent in current for c in children(parent, name)]
    return current


def text(el: etree._Element | None, path: str | None = None) -> str:
    target = find(el, path) if path else el
    if target is None or target.text is None:
        return ""
    return " ".join(target.text.split())


def paragraphs(el: etree._Element | None) -> str:
    """An xbauk:Text (textabsatz*) as plain text."""
    return "\n".join(text(p) for p in children(el, "textabsatz") if text(p))


def formatted(el: etree._Element | None) -> str:
    """An xbauk:TextFormatiert: `text` is base64 of plain text (textOffice is not read)."""
    raw = text(el, "text")
    if not raw:
        return ""
    try:
        return base64.b64decode(raw, validate=False).decode("utf-8", errors="replace").strip()
    except ValueError:
        return ""


@dataclass(frozen=True)
class Authority:
    """A Behörde in the message head (DVDV-Kennung and name)."""

    kennung: str
    name: str


@dataclass(frozen=True)
class Header:
    """`nachrichtenkopf.g2g`: who wrote the message to whom, when, under which UUID."""

    message_uuid: str
    message_type: str
    created_at: datetime | None
    reader: Authority
    author: Authority


@dataclass(frozen=True)
class Attachment:
    """One Anlage: its metadata and the name under which the bytes were delivered."""

    title: str
    kind: DocumentKind
    xbau_kind: str
    declared_media_type: str
    document_id: str
    filename: str
    size: int | None
    hash_value: str | None
    to_follow: bool = False


@dataclass(frozen=True)
class Person:
    name: str
    address: str = ""
    email: str | None = None


@dataclass(frozen=True)
class Application:
    """The domain command of an application message (0200, 0210, 0600)."""

    header: Header
    family: str
    procedure: str
    procedure_assumed: bool
    received_on: date
    title: str
    description: str
    applicant: Person
    designer: Person | None
    builder: Person | None
    site_address: str
    gemarkung: str
    flur: str
    flurstueck: str
    housing: bool
    questions: list[str]
    portal_reference: str
    attachments: list[Attachment] = field(default_factory=list)


@dataclass(frozen=True)
class SiteChange:
    """The Baugrundstück as a change message carries it (all of it: XBau sends the element)."""

    address: str
    gemarkung: str
    flurstueck: str
    flur: str


@dataclass(frozen=True)
class Change:
    """A change of a running application (0202, 0212, 0601): a reference, changed data, Anlagen.

    A field is None when the message does not carry it (then the case keeps its value).
    """

    header: Header
    family: str
    reference: str  # our file number (bezug/vorgang) or the first message's UUID
    received_on: date
    # weitereAngaben: "ausschließlich ergänzende textliche Erläuterungen zum Bauvorhaben" (XBau
    # 2.6 Bauvorhaben): a note to the change, kept beside the description, never replacing it
    weitere_angaben: str | None
    attachments: list[Attachment] = field(default_factory=list)
    title: str | None = None
    applicant: Person | None = None
    designer: Person | None = None
    site: SiteChange | None = None

    @property
    def changes_data(self) -> bool:
        return any(
            v is not None
            for v in (self.title, self.weitere_angaben, self.applicant, self.designer, self.site)
        )


@dataclass(frozen=True)
class Statement:
    """An agency's Stellungnahme (0303) in answer to our 0300."""

    header: Header
    reference: str  # the UUID of our 0300 (bezug/bezugNachricht/nachrichtenUUID)
    file_number: str
    text: str
    answer: str = "statement"  # consent / refusal (tenor istZustimmung) / statement
    attachments: list[Attachment] = field(default_factory=list)


def authority(el: etree._Element | None) -> Authority:
    return Authority(kennung=text(el, "kennung"), name=text(el, "name"))


def header(root: etree._Element) -> Header:
    """The message head; a message without UUID or reader cannot be processed."""
    head = find(root, "nachrichtenkopf.g2g")
    ident = find(head, "identifikation.nachricht")
    message_uuid = text(ident, "nachrichtenUUID").lower()
    reader = authority(find(head, "leser"))
    if not message_uuid or not reader.kennung:
        raise XBauIncomplete(
            "Nachrichtenkopf ohne nachrichtenUUID oder leser/kennung / message head lacks "
            "nachrichtenUUID or leser/kennung"
        )
    created_raw = text(ident, "erstellungszeitpunkt")
    created = datetime.fromisoformat(created_raw.replace("Z", "+00:00")) if created_raw else None
    return Header(
        message_uuid=message_uuid,
        message_type=text(ident, "nachrichtentyp/code") or local(root).rsplit(".", 1)[-1],
        created_at=created,
        reader=reader,
        author=authority(find(head, "autor")),
    )


def _person_name(akteur: etree._Element | None) -> str:
    person = find(akteur, "natuerlichePerson")
    if person is not None:
        parts = [
            text(person, "name/titel"),
            text(person, "name/vorname/name"),
            text(person, "name/familienname/name"),
        ]
        return " ".join(p for p in parts if p)
    return text(akteur, "organisation/name/name")


def _address(el: etree._Element | None) -> str:
    if el is None:
        return ""
    street = text(el, "strasseHausnummer") or " ".join(
        p for p in (text(el, "strasse"), text(el, "hausnummer")) if p
    )
    town = " ".join(p for p in (text(el, "postleitzahl"), text(el, "ort")) if p)
    return ", ".join(p for p in (street, town) if p)


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def person(akteur: etree._Element | None) -> Person | None:
    """A Bauherr/Antragsteller/Entwurfsverfasser (xbauk:Akteur) as name, address, e-mail."""
    if akteur is None:
        return None
    name = _person_name(akteur)
    if not name:
        return None
    inner = find(akteur, "natuerlichePerson")
    if inner is None:
        inner = find(akteur, "organisation")
    email = next(
        (
            text(k, "kennung")
            for k in children(inner, "kommunikation")
            if EMAIL.match(text(k, "kennung"))
        ),
        None,
    )
    return Person(name=name[:200], address=_address(find(inner, "anschrift"))[:300], email=email)


def procedure_for(family: str, verfahrensart: str) -> tuple[str, bool]:
    """Our procedure for a message family and Verfahrensart code; (procedure, assumed)."""
    if family in FAMILY_PROCEDURE:
        return FAMILY_PROCEDURE[family], False
    if not verfahrensart:
        return DEFAULT_BAUGENEHMIGUNG, True
    digits = re.sub(r"^(?:art\.?\s*|baybo-)", "", verfahrensart.strip().lower())
    procedure = BAUGENEHMIGUNG_PROCEDURES.get(digits)
    if procedure is None:
        raise XBauUnsupportedMessage(
            f"Verfahrensart {verfahrensart!r} ist unbekannt (erwartet: 59 oder 60, Art. der BayBO) "
            f"/ unknown Verfahrensart {verfahrensart!r} (expected 59 or 60, the BayBO article)"
        )
    return procedure, False


def kind_for(xbau_kind: str) -> DocumentKind:
    """Our document kind for an XBau Anlage Art code (Sonstiges when unknown)."""
    code = xbau_kind.strip().lower()
    for prefix, kind in KIND_PREFIXES:
        if code.startswith(prefix):
            return kind
    return DocumentKind.sonstiges


def attachments(root: etree._Element) -> list[Attachment]:
    """The Anlagen delivered with the message (links and "wird nachgereicht" are listed too)."""
    found: list[Attachment] = []
    for anlage in find_all(root, "anlagen/anlage"):
        anhang = find(anlage, "anhangOderVerlinkung/anhang")
        xbau_kind = text(anlage, "anlageart/code")
        size = anhang.get("filesize") if anhang is not None else None
        found.append(
            Attachment(
                title=(text(anlage, "bezeichnung") or text(anhang, "dateiname") or "Anlage")[:300],
                kind=kind_for(xbau_kind),
                xbau_kind=xbau_kind,
                declared_media_type=text(anlage, "mimeType/code").lower(),
                document_id=text(anhang, "dokumentid"),
                filename=text(anhang, "dateiname"),
                size=int(size) if size else None,
                hash_value=(anhang.get("hashValue") if anhang is not None else None),
                to_follow=text(anlage, "wirdNachgereicht") == "true" or anhang is None,
            )
        )
    return found


def _received_on(head: Header, fallback: date) -> date:
    """The receipt date (Art. 64 Abs. 1 BayBO): the day the portal created the message.

    The portal hands the message to the authority's intermediary when it creates it, so its
    `erstellungszeitpunkt` (as a Bavarian calendar day) is the day of receipt; a time in the
    future (clock skew) counts as today.
    """
    if head.created_at is None:
        return fallback
    moment = head.created_at
    if moment.tzinfo is not None:
        moment = moment.astimezone(BERLIN)
    return min(moment.date(), fallback)


def _site(vorhaben: etree._Element | None) -> SiteChange | None:
    """The first Grundstück of the Baugrundstück (None without address and parcel)."""
    grundstueck = find(vorhaben, "verortung/baugrundstueck/grundstueck")
    if grundstueck is None:
        return None
    flurstueck = find(grundstueck, "flurstueck/kodierungFlurstueck")
    zaehler, nenner = text(flurstueck, "zaehler"), text(flurstueck, "nenner")
    address = _address(find(grundstueck, "anschrift"))
    if not address:
        gemarkung_name = text(flurstueck, "gemarkung/bezeichnung")
        address = f"Gemarkung {gemarkung_name}, Flurstück {zaehler}" if zaehler else ""
    if not address:
        return None
    return SiteChange(
        address=address[:300],
        gemarkung=(
            text(flurstueck, "gemarkung/bezeichnung") or text(flurstueck, "gemarkung/nummer")
        )[:120],
        flurstueck=(f"{zaehler}/{nenner}" if zaehler and nenner else zaehler)[:60],
        flur=text(flurstueck, "flur"),
    )


def application(root: etree._Element, *, today: date) -> Application:
    """Map an application message (0200, 0210, 0600) to the command that opens a case."""
    name = local(root)
    family = APPLICATIONS.get(name)
    if family is None:
        raise XBauUnsupportedMessage(f"{name} eröffnet keinen Vorgang / does not open a case")
    head = header(root)
    vorhaben = find(root, "bauvorhaben")
    procedure, assumed = procedure_for(family, text(root, "prozessmerkmale/verfahrensart/code"))
    applicants = list(children(root, "antragsteller")) or list(children(root, "anzeigender"))
    bauherr = find(vorhaben, "beteiligte/bauherr/bauherr")
    applicant = person(applicants[0] if applicants else None) or person(bauherr)
    if applicant is None:
        raise XBauIncomplete(
            "Weder Antragsteller noch Bauherr angegeben / neither applicant nor Bauherr given"
        )
    site = _site(vorhaben)
    if site is None:
        raise XBauIncomplete(
            "Baugrundstück ohne Anschrift und Flurstück / building plot without address or parcel"
        )
    title = text(vorhaben, "bezeichnungDesBauvorhabens") or f"{name} {head.message_uuid}"
    description = "\n".join(text(w) for w in children(vorhaben, "weitereAngaben") if text(w))
    questions = [
        paragraphs(find(q, "vorbescheidfrage")) or text(q, "artDerFrage/code")
        for q in children(root, "beantragterVorbescheid")
    ]
    if family == "vorbescheid" and not any(questions):
        raise XBauIncomplete(
            "Vorbescheidsantrag ohne Frage (Art. 71 BayBO) / Vorbescheid without a question"
        )
    designer = person(find(vorhaben, "beteiligte/entwurfsverfasser/personendaten"))
    return Application(
        header=head,
        family=family,
        procedure=procedure,
        procedure_assumed=assumed,
        received_on=_received_on(head, today),
        title=title[:300],
        description=description[:20_000],
        applicant=applicant,
        designer=designer,
        builder=person(bauherr),
        site_address=site.address,
        gemarkung=site.gemarkung,
        flur=site.flur,
        flurstueck=site.flurstueck,
        housing=find(vorhaben, "gegenstand/artDerBaulichenAnlage/artDesWohngebaeudes") is not None,
        questions=[q for q in questions if q],
        portal_reference=text(root, "referenzAntragsservice/referenzAntragsservice")
        or text(root, "referenzAnzeigeservice/referenzAntragsservice"),
        attachments=attachments(root),
    )


def change(root: etree._Element, *, today: date) -> Change:
    """Map a change message (0202, 0212, 0601) to the command that adds to a running case."""
    name = local(root)
    family = CHANGES.get(name)
    if family is None:
        raise XBauUnsupportedMessage(f"{name} ändert keinen Antrag / does not change a case")
    head = header(root)
    bezug = find(root, "bezug")
    reference = text(bezug, "vorgang") or text(bezug, "referenz").lower()
    if not reference:
        raise XBauIncomplete(
            "Änderung ohne Bezug (bezug/vorgang oder bezug/referenz) / change without reference"
        )
    vorhaben = find(root, "bauvorhabenAenderungsdaten")
    if vorhaben is None:
        vorhaben = find(root, "bauvorhaben")
    weitere = "\n".join(text(w) for w in children(vorhaben, "weitereAngaben") if text(w))
    grundstueck = find(vorhaben, "verortung/baugrundstueck/grundstueck")
    site = _site(vorhaben)
    if grundstueck is not None and site is None:
        raise XBauIncomplete(
            "Geändertes Baugrundstück ohne Anschrift und Flurstück / changed building plot "
            "without address or parcel"
        )
    bauherr = find(vorhaben, "beteiligte/bauherr/bauherr")
    applicant = person(bauherr)
    if bauherr is not None and applicant is None:
        raise XBauIncomplete("Geänderter Bauherr ohne Namen / changed Bauherr without a name")
    designer_el = find(vorhaben, "beteiligte/entwurfsverfasser/personendaten")
    designer = person(designer_el)
    if designer_el is not None and designer is None:
        raise XBauIncomplete(
            "Geänderter Entwurfsverfasser ohne Namen / changed Entwurfsverfasser without a name"
        )
    title = text(vorhaben, "bezeichnungDesBauvorhabens")
    return Change(
        header=head,
        family=family,
        reference=reference,
        received_on=_received_on(head, today),
        weitere_angaben=weitere[:20_000] or None,
        attachments=attachments(root),
        title=title[:300] or None,
        applicant=applicant,
        designer=designer,
        site=site,
    )


def statement(root: etree._Element) -> Statement:
    """Map an agency's Stellungnahme (0303)."""
    head = header(root)
    bezug = find(root, "bezug")
    reference = text(bezug, "bezugNachricht/nachrichtenUUID").lower() or text(bezug, "referenz")
    if not reference:
        raise XBauIncomplete("Stellungnahme ohne Bezug / statement without reference")
    parts: list[str] = []
    verdicts: list[str] = []
    for item in find_all(root, "stellungnahme/stellungnahmeStrukturiert"):
        verdicts.append(text(item, "tenor/istZustimmung"))
        parts.append(formatted(find(item, "begruendung")))
    parts.append(formatted(find(root, "stellungnahme/hinweise")))
    answer = "statement"
    if verdicts and all(v == "true" for v in verdicts):
        answer = "consent"
    elif "false" in verdicts:
        answer = "refusal"
    return Statement(
        header=head,
        reference=reference.lower(),
        file_number=text(bezug, "vorgang"),
        text="\n".join(p for p in parts if p)[:20_000],
        answer=answer,
        attachments=attachments(root),
    )


def new_uuid() -> str:
    return str(uuid.uuid4())
