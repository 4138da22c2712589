"""Building outgoing XBau messages (pure: data in, a validated lxml tree out).

Every builder ends in `finish`, which validates against the XSD and the Schematron rules and
raises XBauOutgoingInvalid (an operator error) instead of returning an invalid message.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from eakte.errors import DomainError
from eakte.xbau import parsing
from eakte.xbau.errors import XBauOutgoingInvalid
from eakte.xbau.mapping import Authority

XBAU = parsing.XBAU_NS
XBAUK = parsing.XBAUK_NS
BN_G2G = "http://xoev.de/schemata/basisnachricht/g2g/1_1"
NSMAP = {"xbau": XBAU, "xbauk": XBAUK, "bn-g2g": BN_G2G}
PRODUCT = "E-Akte Bau"
VENDOR = "E-Akte Bau (Open Source)"
XBAU_MESSAGES_LIST = ("urn:xoev-de:xbau:codeliste:xbau-nachrichten", "4.0")
KERNMODUL_MESSAGES_LIST = ("urn:xoev-de:xbau-kernmodul:codeliste:xbau-kernmodul-nachrichten", "3.0")
VERZEICHNISDIENST_VERSION = "2.0"
MIMETYPES_LIST = ("urn:xoev-de:xbau:codeliste:xbau-mimetypes", "1.1")
ANLAGEN_LIST_VERSION = "2.0"
BEFUNDE_LIST = ("urn:xoev-de:xbau:codeliste:formellebefundeart", "1.0")
FEHLER_LIST_VERSION = "1.0"  # [nv]: the package names no version of the list
# The Fehlerkennzahlen we answer with (1100 Rückweisung). The XBau 2.6 package carries no
# values for the list (only its URI and groups, `codelists.fehlerkennzahlen()`); the group
# letters follow it, the numbers are [nv] against the list in the XRepository.
FEHLER_SCHEMA = "X002"  # group X: formal problem with the XML or a code list
FEHLER_SPEC = "S001"  # group S: not as specified (content, reference, procedure)
FEHLER_ANLAGE = "A001"  # group A: problem with an attachment
FEHLERKENNZAHLEN = (FEHLER_SCHEMA, FEHLER_SPEC, FEHLER_ANLAGE)

# Root element name of each outgoing message, by family.
FORMAL_CHECK = {
    "baugenehmigung": "baugenehmigung.formellePruefung.0201",
    "vorbescheid": "vorbescheid.formellePruefung.0211",
}
DECISION = {
    "baugenehmigung": "baugenehmigung.bescheid.0205",
    "vorbescheid": "vorbescheid.bescheid.0215",
}


@dataclass(frozen=True)
class Reference:
    """What an answer refers to: the sender's message and our file number."""

    message_uuid: str
    message_type: str
    message_created: datetime | None
    file_number: str
    portal_reference: str = ""


@dataclass(frozen=True)
class OutAttachment:
    """An Anlage sent with an outgoing message (its bytes are fetched at pickup)."""

    title: str
    filename: str
    media_type: str
    document_id: str  # urn:uuid:<version id>
    xbau_kind: str = "sonstiges"
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Envelope:
    """Head data: our message id and time, who writes (us) and who reads."""

    message_uuid: str
    created_at: datetime
    author: Authority
    reader: Authority


def _sub(
    parent: etree._Element, name: str, text: str | None = None, ns: str | None = XBAU, **attrs: str
) -> etree._Element:
    tag = f"{{{ns}}}{name}" if ns else name
    el = etree.SubElement(parent, tag, {k: v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _code(
    parent: etree._Element,
    name: str,
    code: str,
    *,
    ns: str | None = XBAU,
    list_uri: str | None = None,
    version: str | None = None,
) -> etree._Element:
    attrs: dict[str, str] = {}
    if list_uri:
        attrs["listURI"] = list_uri
    if version:
        attrs["listVersionID"] = version
    el = _sub(parent, name, ns=ns, **attrs)
    _sub(el, "code", code, ns=None)
    return el


def _behoerde(parent: etree._Element, name: str, who: Authority) -> None:
    el = _sub(parent, name, ns=None)
    _code(el, "verzeichnisdienst", "DVDV", ns=None, version=VERZEICHNISDIENST_VERSION)
    _sub(el, "kennung", who.kennung, ns=None)
    _sub(el, "name", who.name or who.kennung, ns=None)


def _root(name: str, env: Envelope, *, kernmodul: bool = False) -> etree._Element:
    ns = XBAUK if kernmodul else XBAU
    root = etree.Element(
        f"{{{ns}}}{name}",
        nsmap=NSMAP,
        produkt=PRODUCT,
        produkthersteller=VENDOR,
        standard="XBau-Kernmodul" if kernmodul else "XBau-Hochbau",
        version="1.3.0" if kernmodul else "2.6",
    )
    head = _sub(root, "nachrichtenkopf.g2g", ns=None)
    ident = _sub(head, "identifikation.nachricht", ns=None)
    _sub(ident, "nachrichtenUUID", env.message_uuid, ns=None)
    uri, version = KERNMODUL_MESSAGES_LIST if kernmodul else XBAU_MESSAGES_LIST
    _code(ident, "nachrichtentyp", name.rsplit(".", 1)[-1], ns=None, list_uri=uri, version=version)
    _sub(ident, "erstellungszeitpunkt", env.created_at.isoformat(timespec="seconds"), ns=None)
    _behoerde(head, "leser", env.reader)
    _behoerde(head, "autor", env.author)
    return root


def _text(parent: etree._Element, name: str, body: str, *, ns: str | None = XBAU) -> None:
    el = _sub(parent, name, ns=ns)
    for line in [p for p in body.splitlines() if p.strip()] or [body]:
        _sub(el, "textabsatz", line, ns=None)


def _bezug(parent: etree._Element, ref: Reference, *, ns: str | None = XBAU) -> None:
    el = _sub(parent, "bezug", ns=ns)
    if ref.portal_reference:
        _sub(el, "referenz", ref.portal_reference, ns=None)
    if ref.file_number:
        _sub(el, "vorgang", ref.file_number, ns=None)
    msg = _sub(el, "bezugNachricht", ns=None)
    _ident(msg, ref.message_uuid, ref.message_type, ref.message_created)


def _ident(
    parent: etree._Element, message_uuid: str, message_type: str, created: datetime | None
) -> None:
    """A bn-g2g:Identifikation.NachrichtType (its children are qualified in that namespace)."""
    _sub(parent, "nachrichtenUUID", message_uuid, ns=BN_G2G)
    _code(
        parent,
        "nachrichtentyp",
        message_type,
        ns=BN_G2G,
        list_uri=XBAU_MESSAGES_LIST[0],
        version=XBAU_MESSAGES_LIST[1],
    )
    when = created or datetime.fromtimestamp(0).astimezone()
    _sub(parent, "erstellungszeitpunkt", when.isoformat(timespec="seconds"), ns=BN_G2G)


def _anlagen(parent: etree._Element, items: list[OutAttachment]) -> None:
    if not items:
        return
    el = _sub(parent, "anlagen")
    for item in items:
        anlage = _sub(el, "anlage", ns=None)
        _sub(anlage, "bezeichnung", item.title, ns=None)
        _code(anlage, "anlageart", item.xbau_kind, ns=None, version=ANLAGEN_LIST_VERSION)
        _code(
            anlage,
            "mimeType",
            item.media_type,
            ns=None,
            list_uri=MIMETYPES_LIST[0],
            version=MIMETYPES_LIST[1],
        )
        wrap = _sub(anlage, "anhangOderVerlinkung", ns=None)
        attrs = {}
        if item.size:
            attrs["filesize"] = str(item.size)
        if item.sha256:
            attrs["hashValue"] = item.sha256
        anhang = _sub(wrap, "anhang", ns=None, **attrs)
        _sub(anhang, "dokumentid", item.document_id, ns=None)
        _sub(anhang, "dateiname", item.filename, ns=None)


def finish(root: etree._Element) -> bytes:
    """Validate a generated message; an invalid one is an operator error and never leaves."""
    try:
        parsing.validate(root)
    except DomainError as exc:
        raise XBauOutgoingInvalid(
            f"{etree.QName(root).localname}: {exc.detail}", errors=exc.extra.get("errors", [])
        ) from exc
    return parsing.serialize(root)


def formal_check(
    env: Envelope,
    ref: Reference,
    *,
    family: str,
    complete: bool,
    findings: list[str] | None = None,
    deadline: date | None = None,
    letter: str = "",
    attachments: list[OutAttachment] | None = None,
) -> bytes:
    """0201/0211 formelle Prüfung: complete, or the Befundliste of a Nachforderung + Frist."""
    root = _root(FORMAL_CHECK[family], env)
    _bezug(root, ref)
    _sub(root, "antragVollstaendig", "true" if complete else "false")
    if not complete:
        befund_frist = _sub(root, "befundFrist")
        liste = _sub(befund_frist, "befundliste")
        for finding in findings or []:
            befund = _sub(liste, "befund")
            _code(
                befund,
                "artDesBefundes",
                "fehlend",
                list_uri=BEFUNDE_LIST[0],
                version=BEFUNDE_LIST[1],
            )
            _text(befund, "beschreibung", finding)
        if deadline:
            _sub(befund_frist, "frist", deadline.isoformat())
    if letter:
        _text(root, "anschreiben", letter)
    _anlagen(root, attachments or [])
    return finish(root)


def decision(
    env: Envelope,
    ref: Reference,
    *,
    family: str,
    granted: bool,
    reasons: str = "",
    sealed_bescheid: OutAttachment | None = None,
) -> bytes:
    """0205/0215 Bescheid; the sealed Bescheid (issuing, issue 13) is attached when given."""
    root = _root(DECISION[family], env)
    _bezug(root, ref)
    bescheid = _sub(root, "bescheid")
    tenor = _sub(bescheid, "tenor")
    _sub(tenor, "istGenehmigung", "true" if granted else "false")
    if reasons:
        begruendung = _sub(bescheid, "begruendung")
        _sub(begruendung, "text", _b64(reasons), ns=None)
    _anlagen(root, [sealed_bescheid] if sealed_bescheid else [])
    return finish(root)


def receipt(env: Envelope, ref: Reference, *, info: str) -> bytes:
    """1120 Eingangsbestätigung to the sender of an application."""
    root = _root("prozessnachrichten.eingangsbestaetigung.1120", env, kernmodul=True)
    _bezug(root, ref, ns=None)
    _text(root, "information", info, ns=None)
    return finish(root)


def rejection(
    env: Envelope,
    *,
    refused: bytes,
    refused_uuid: str | None,
    refused_type: str,
    refused_created: datetime | None,
    reasons: list[tuple[str, str]],
) -> bytes:
    """1100 Rückweisung: the message could not be processed, with Fehlerkennzahl and text."""
    root = _root("prozessnachrichten.rueckweisung.G2G.1100", env, kernmodul=True)
    data = _sub(root, "rueckweisungDaten", ns=None)
    for code, message in reasons or [(FEHLER_SPEC, "Nachricht nicht verarbeitbar")]:
        if code not in FEHLERKENNZAHLEN:
            raise ValueError(f"{code!r} is not one of our Fehlerkennzahlen {FEHLERKENNZAHLEN}")
        grund = _sub(data, "rueckweisungsgrund", ns=None)
        _code(grund, "grund", code, ns=None, version=FEHLER_LIST_VERSION)
        _sub(grund, "fehlertext", _latin(message)[:2000], ns=None)
    if refused_uuid:
        ident = _sub(data, "idNachricht", ns=None)
        _ident(ident, refused_uuid, refused_type, refused_created or env.created_at)
    _sub(data, "nachricht", base64.b64encode(refused).decode(), ns=None)
    return finish(root)


def participation_request(
    env: Envelope,
    ref: Reference,
    *,
    request_uuid: str,
    agency: str,
    reason: str,
    deadline: date | None,
    consequence: str,
    attachments: list[OutAttachment] | None = None,
) -> bytes:
    """0300 Aufforderung zur Stellungnahme (Beteiligung) to an agency or the Gemeinde."""
    root = _root("beteiligung.aufforderung.0300", env)
    _bezug(root, ref)
    auftrag = _sub(root, "referenzAufforderung")
    _sub(auftrag, "referenzAuftrag", request_uuid)
    _sub(root, "zuBeteiligendeStelle", agency)
    anliegen = _sub(root, "anliegenBeteiligung")
    grund = _sub(anliegen, "grundDerBeteiligung")
    _sub(grund, "text", _b64(reason), ns=None)
    _anlagen(root, attachments or [])
    if deadline:
        _sub(root, "frist", deadline.isoformat())
    if consequence:
        _text(root, "rechtsfolgeFristversaeumnis", consequence)
    return finish(root)


def _latin(text: str) -> str:
    """Replace characters outside DIN 91379 that our own texts might carry (dashes, quotes)."""
    return (
        text.replace("\u2013", "-")
        .replace("\u2014", "-")
        .replace("\u2019", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
        .replace("\u201e", '"')
        .replace("\u2026", "...")
    )


def _b64(text: str) -> str:
    """An xbauk:TextFormatiert `text` is base64 of UTF-8 plain text."""
    return base64.b64encode(text.encode("utf-8")).decode()
