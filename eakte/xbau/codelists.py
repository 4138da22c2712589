"""The code lists the vendored XBau 2.6 package carries, for clear refusals of unknown codes.

XBau has two kinds of code lists. Those the package carries are written into the schema as
enumerations (`xbau-codes.xsd`: 65 `Codelist.*` types, e.g. XBau-Nachrichten, Haustyp
Wohngebäude; `xbau-kernmodul-codes.xsd`: the process message types), so XSD validation already
refuses a code that is not in them; this module names the list, its URI and version and the
allowed codes in the refusal (problem `xbau-unknown-code`, 1100 back to the sender). The others
are only referenced by URI and published in the XRepository (e.g. Verfahrensart, Anlage Art,
MIME types, Erreichbarkeit); the package has no values for them, so they are not checked here
(docs/xbau.md, "Code lists").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

SCHEMA_DIR = Path(__file__).parent / "schemas"
FILES = ("xbau-codes.xsd", "xbau-kernmodul-codes.xsd")
XS = "{http://www.w3.org/2001/XMLSchema}"
ENUMERATION_ERROR = re.compile(
    r"\[facet 'enumeration'\] The value '(?P<value>.*)' is not an element of the set "
    r"\{(?P<set>.*)\}"
)


@dataclass(frozen=True)
class CodeList:
    """One code list carried by the package: name, URI, version and its codes with labels."""

    name: str
    uri: str
    version: str
    codes: tuple[tuple[str, str], ...]  # (code, Beschreibung)
    types: frozenset[str] = frozenset()  # the schema types that carry it (Code.X, Codelist.X)

    def allowed(self, limit: int = 12) -> str:
        shown = [f"{c} ({label})" if label else c for c, label in self.codes[:limit]]
        more = len(self.codes) - limit
        return ", ".join(shown) + (f" ... (+{more})" if more > 0 else "")


def _meta(el: etree._Element | None) -> tuple[str, str, str]:
    if el is None:
        return "", "", ""
    return (
        (el.findtext("./*/*/codeliste/nameLang") or "").strip(),
        (el.findtext("./*/*/codeliste/kennung") or "").strip(),
        (el.findtext("./*/*/versionCodeliste/version") or "").strip(),
    )


def _enclosing_list(el: etree._Element) -> etree._Element | None:
    """The nearest ancestor (or the element itself) that carries `codeliste` metadata."""
    node: etree._Element | None = el
    while node is not None:
        if node.find(f"./{XS}annotation/{XS}appinfo/codeliste") is not None:
            return node
        node = node.getparent()
    return None


def _local(qname: str | None) -> str:
    return (qname or "").split(":")[-1]


def _named_ancestors(el: etree._Element) -> set[str]:
    names = set()
    node: etree._Element | None = el
    while node is not None:
        if node.tag in {f"{XS}simpleType", f"{XS}complexType"} and node.get("name"):
            names.add(str(node.get("name")))
        node = node.getparent()
    return names


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@lru_cache(maxsize=1)
def element_types() -> dict[str, frozenset[str]]:
    """Element name → the Code.* types it is declared with, across the vendored schemas."""
    found: dict[str, set[str]] = {}
    for path in SCHEMA_DIR.glob("*.xsd"):
        root = etree.parse(str(path), _parser()).getroot()
        for el in root.iter(f"{XS}element"):
            name, kind = el.get("name"), _local(el.get("type"))
            if name and kind.startswith("Code"):
                found.setdefault(name, set()).add(kind)
    return {k: frozenset(v) for k, v in found.items()}


@lru_cache(maxsize=1)
def carried() -> dict[frozenset[str], tuple[CodeList, ...]]:
    """Every enumerated code list of the package, by its set of codes."""
    found: dict[frozenset[str], list[CodeList]] = {}
    wrappers: dict[str, str] = {}  # Codelist.X -> the Code.X whose `code` element has it
    roots = [etree.parse(str(SCHEMA_DIR / name), _parser()).getroot() for name in FILES]
    for root in roots:
        for complex_type in root.iter(f"{XS}complexType"):
            for code in complex_type.iter(f"{XS}element"):
                if code.get("name") == "code" and code.get("type"):
                    wrappers[_local(code.get("type"))] = str(complex_type.get("name"))
    for root in roots:
        for restriction in root.iter(f"{XS}restriction"):
            values = restriction.findall(f"{XS}enumeration")
            if not values:
                continue
            codes = tuple(
                (
                    str(v.get("value")),
                    (v.findtext(f"{XS}annotation/{XS}appinfo/beschreibung") or "").strip(),
                )
                for v in values
            )
            list_name, uri, version = _meta(_enclosing_list(restriction.getparent()))
            key = frozenset(c for c, _ in codes)
            types = _named_ancestors(restriction)
            types |= {wrappers[t] for t in types if t in wrappers}
            found.setdefault(key, []).append(
                CodeList(list_name, uri, version, codes, frozenset(types))
            )
    return {k: tuple(v) for k, v in found.items()}


@dataclass(frozen=True)
class UnknownCode:
    value: str
    element: str  # the element whose `code` it is, e.g. "artDesWohngebaeudes"
    lists: tuple[CodeList, ...]

    def reason(self) -> str:
        named = " / ".join(
            f"„{c.name or 'ohne Namen'}“ ({c.uri or 'ohne URI'}, Version {c.version or '?'})"
            for c in self.lists
        )
        allowed = self.lists[0].allowed() if self.lists else ""
        return (
            f"Code {self.value!r} in {self.element} steht nicht in der Codeliste {named}; "
            f"erlaubt: {allowed} / code {self.value!r} in {self.element} is not in the code "
            f"list {named}"
        )


def unknown_code(error: dict[str, object]) -> UnknownCode | None:
    """The unknown code an XSD error reports, if it is one of a carried code list."""
    match = ENUMERATION_ERROR.search(str(error.get("message", "")))
    path = str(error.get("path", ""))
    if match is None or not path.endswith("/code"):
        return None
    values = frozenset(re.findall(r"'([^']*)'", match.group("set")))
    lists = carried().get(values)
    if not lists:
        return None
    element = path.rsplit("/", 2)[-2].split(":")[-1].split("[")[0]
    declared = element_types().get(element, frozenset())
    narrowed = tuple(c for c in lists if c.types & declared)
    return UnknownCode(value=match.group("value"), element=element, lists=narrowed or lists)


@dataclass(frozen=True)
class ReferencedList:
    """A code list the package only references: its URI, name and what its schema type says."""

    name: str
    uri: str
    groups: dict[str, str]  # first letter of a code → meaning, from the type's description


FEHLERKENNZAHL_TYPE = "Code.XBau.Fehlerkennzahl"
_GROUP = re.compile(r"\b([A-Z]) - ([^,.]+)")


@lru_cache(maxsize=1)
def fehlerkennzahlen() -> ReferencedList:
    """The XBau Fehlerkennzahlen as the vendored `xbau-kernmodul-codes.xsd` describes them.

    The package carries no values for this list (it is published in the XRepository as
    `urn:xoev-de:xbau:codeliste:xbau-fehlerkennzahlen`); the type's description names the code
    groups: X formal problem with the XML or code lists, V version, S not as specified,
    A attachments."""
    root = etree.parse(str(SCHEMA_DIR / "xbau-kernmodul-codes.xsd"), _parser()).getroot()
    el = root.find(f"{XS}complexType[@name='{FEHLERKENNZAHL_TYPE}']")
    assert el is not None, FEHLERKENNZAHL_TYPE
    meta = el.find(f"./{XS}annotation/{XS}appinfo/codeliste")
    assert meta is not None
    described = (meta.findtext("beschreibung") or "").split("Gruppen von Codes:", 1)[-1]
    return ReferencedList(
        name=(meta.findtext("nameLang") or "").strip(),
        uri=(meta.findtext("kennung") or "").strip(),
        groups={letter: text.strip() for letter, text in _GROUP.findall(described)},
    )
