"""Safe XML parsing and validation against the vendored xdomea 3.0.0 XSD.

Parsing never resolves a DTD, never expands an entity and never touches the network
(lxml's `resolve_entities=False, no_network=True, load_dtd=False`); a document that declares
a DTD at all is refused. The schema compiles from the files in `schemas/` alone.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

from eakte.records.errors import InvalidMessage

NS = "urn:xoev-de:xdomea:schema:3.0.0"
VERSION = "3.0.0"
SCHEMA_DIR = Path(__file__).parent / "schemas" / VERSION
ENTRY = SCHEMA_DIR / "xdomea-Nachrichten-AussonderungDurchfuehren.xsd"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The compiled Aussonderung schema (from the vendored files, offline)."""
    doc = etree.parse(str(ENTRY), _parser())
    return etree.XMLSchema(doc)


def parse(data: bytes) -> etree._Element:
    """Parse untrusted XML safely; InvalidMessage if it is not well-formed or has a DTD."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise InvalidMessage("the message is larger than 64 MiB", errors=["too large"])
    try:
        tree = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidMessage(f"not well-formed XML: {exc}", errors=[str(exc)]) from exc
    if tree.getroottree().docinfo.doctype:
        raise InvalidMessage("a DOCTYPE is not allowed in xdomea messages", errors=["DOCTYPE"])
    return tree


def validate(root: etree._Element, expected: str | None = None) -> None:
    """Raise InvalidMessage with the schema's reasons unless `root` is a valid message."""
    if expected is not None and root.tag != f"{{{NS}}}{expected}":
        raise InvalidMessage(
            f"expected {expected}, got {etree.QName(root).localname}",
            errors=[f"root element {root.tag}"],
        )
    xsd = schema()
    if not xsd.validate(root):
        reasons = [f"line {e.line}: {e.message}" for e in xsd.error_log][:20]
        raise InvalidMessage("the message does not match the xdomea 3.0.0 XSD", errors=reasons)


def serialize(root: etree._Element) -> bytes:
    """Validate and serialise an outgoing message (UTF-8, with declaration)."""
    validate(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def parse_valid(data: bytes, expected: str) -> etree._Element:
    """Parse and validate an incoming message of type `expected` (e.g. `...0502`)."""
    root = parse(data)
    validate(root, expected)
    return root
