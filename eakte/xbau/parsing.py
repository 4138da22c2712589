"""Safe parsing and validation of XBau messages: lxml without DTDs, entities or network.

Every message in or out passes `validate`: well-formed, no DOCTYPE, within the size limit,
valid against the vendored XBau 2.6 schemas, and free of violations of the Schematron rules
that can run under XSLT 1 (`schemas/eakte-xbau-rules.sch`, see the README there).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree, isoschematron

from eakte.xbau import codelists
from eakte.xbau.errors import (
    XBauForbiddenMarkup,
    XBauMalformed,
    XBauRuleViolated,
    XBauSchemaInvalid,
    XBauTooLarge,
    XBauUnknownCode,
)

SCHEMA_DIR = Path(__file__).parent / "schemas"
XBAU_NS = "http://www.xleitstelle.de/xbau/2/6"
XBAUK_NS = "http://www.xleitstelle.de/xbau/kernmodul/1/3/0"
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
MAX_REASONS = 20
DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(codec)
    for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


def safe_parser() -> etree.XMLParser:
    """A parser that never loads a DTD, expands an entity or opens a network connection.

    `huge_tree=False` keeps libxml2's own limits (10 MB per text node, nesting depth 256).
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


@dataclass(frozen=True)
class Message:
    """A parsed, validated message: its root element, type code and raw bytes."""

    root: etree._Element
    name: str  # local name of the root, e.g. "baugenehmigung.antrag.0200"
    code: str  # the four digits, e.g. "0200"
    raw: bytes


def parse(raw: bytes, *, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> etree._Element:
    """Parse untrusted bytes; refuse oversized input, any DOCTYPE and any entity reference."""
    if len(raw) > max_bytes:
        raise XBauTooLarge(
            f"Die Nachricht hat {len(raw)} Bytes, erlaubt sind {max_bytes} / "
            f"the message has {len(raw)} bytes, the limit is {max_bytes}"
        )
    if not raw.strip():
        raise XBauMalformed("Die Nachricht ist leer / the message is empty")
    if any(marker in raw for marker in DOCTYPE_MARKERS):
        # refused before libxml2 sees it: no DTD is read, no entity declared, nothing fetched
        raise XBauForbiddenMarkup(
            "Die Nachricht enthält eine DOCTYPE-Deklaration; XBau-Nachrichten dürfen keine DTD "
            "enthalten / the message has a DOCTYPE declaration; XBau messages must not carry a DTD"
        )
    try:
        tree = etree.fromstring(raw, safe_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        if "DOCTYPE" in str(exc) or "Entity" in str(exc):
            raise XBauForbiddenMarkup(
                f"DTD/Entität abgelehnt / DTD or entity refused: {exc}"
            ) from exc
        raise XBauMalformed(f"Kein wohlgeformtes XML / not well-formed XML: {exc}") from exc
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise XBauForbiddenMarkup(
            "Die Nachricht enthält eine DOCTYPE-Deklaration; XBau-Nachrichten dürfen keine DTD "
            "enthalten / the message has a DOCTYPE declaration; XBau messages must not carry a DTD"
        )
    root = tree.getroot()
    for node in root.iter(etree.Entity):
        raise XBauForbiddenMarkup(
            f"Entitätsreferenz &{node.name}; abgelehnt / entity reference &{node.name}; refused"
        )
    return root


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The compiled XBau 2.6 schema set (every message the product reads or writes)."""
    doc = etree.parse(str(SCHEMA_DIR / "eakte-xbau.xsd"), safe_parser())
    return etree.XMLSchema(doc)


@lru_cache(maxsize=1)
def rules() -> isoschematron.Schematron:
    """The XBau Schematron rules that lxml's XSLT 1 ISO Schematron can run."""
    doc = etree.parse(str(SCHEMA_DIR / "eakte-xbau-rules.sch"), safe_parser())
    return isoschematron.Schematron(doc, store_report=True)


def schema_errors(root: etree._Element) -> list[dict[str, object]]:
    """The XSD violations of `root` (empty if valid)."""
    xsd = schema()
    if xsd.validate(root):
        return []
    return [
        {"line": e.line, "path": e.path, "message": e.message}
        for e in list(xsd.error_log)[:MAX_REASONS]
    ]


SVRL = "{http://purl.oclc.org/dsdl/svrl}"


def rule_errors(root: etree._Element) -> list[dict[str, object]]:
    """The Schematron violations of `root` (empty if none)."""
    checker = rules()
    if checker.validate(root):
        return []
    report = checker.validation_report
    found: list[dict[str, object]] = []
    for failed in report.iter(SVRL + "failed-assert"):
        text = failed.find(SVRL + "text")
        found.append(
            {
                "rule": failed.get("id") or "",
                "path": failed.get("location") or "",
                "message": (text.text or "").strip() if text is not None else "",
            }
        )
    return found[:MAX_REASONS]


def _summary(errors: list[dict[str, object]]) -> str:
    return "; ".join(str(e["message"]) for e in errors[:3])


def validate(root: etree._Element) -> None:
    """Raise XBauSchemaInvalid / XBauRuleViolated with the reasons, or return."""
    errors = schema_errors(root)
    unknown = [codelists.unknown_code(e) for e in errors]
    for error, code in zip(errors, unknown, strict=True):
        if code is not None:
            error["code_list"] = code.lists[0].uri
            error["message"] = code.reason()
    if errors and all(unknown):
        raise XBauUnknownCode(
            f"Unbekannter Code / unknown code: {_summary(errors)}",
            errors=errors,
        )
    if errors:
        raise XBauSchemaInvalid(
            f"XSD-Prüfung fehlgeschlagen / schema validation failed: {_summary(errors)}",
            errors=errors,
        )
    violations = rule_errors(root)
    if violations:
        raise XBauRuleViolated(
            f"Geschäftsregel verletzt / business rule violated: {_summary(violations)}",
            errors=violations,
        )


def message_of(root: etree._Element, raw: bytes) -> Message:
    """Name and code of a validated message root."""
    name = etree.QName(root).localname
    code = name.rsplit(".", 1)[-1]
    return Message(root=root, name=name, code=code, raw=raw)


def load(raw: bytes, *, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> Message:
    """Parse and validate an incoming message."""
    root = parse(raw, max_bytes=max_bytes)
    validate(root)
    return message_of(root, raw)


def serialize(root: etree._Element) -> bytes:
    """UTF-8 bytes with an XML declaration."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
