"""The vocabulary of document kinds (Bauvorlagen and what the authority adds)."""

from __future__ import annotations

from enum import StrEnum


class DocumentKind(StrEnum):
    """What a document is; the value is the stable id used in the API."""

    lageplan = "lageplan"
    bauzeichnung = "bauzeichnung"
    baubeschreibung = "baubeschreibung"
    standsicherheitsnachweis = "standsicherheitsnachweis"
    brandschutznachweis = "brandschutznachweis"
    stellungnahme = "stellungnahme"
    nachbarunterschrift = "nachbarunterschrift"
    bescheid = "bescheid"
    sonstiges = "sonstiges"


# German label (the official word) and an English gloss, in presentation order.
KIND_LABELS: dict[DocumentKind, tuple[str, str]] = {
    DocumentKind.lageplan: ("Lageplan", "site plan"),
    DocumentKind.bauzeichnung: ("Bauzeichnung", "construction drawing"),
    DocumentKind.baubeschreibung: ("Baubeschreibung", "building description"),
    DocumentKind.standsicherheitsnachweis: (
        "Standsicherheitsnachweis",
        "structural stability certificate",
    ),
    DocumentKind.brandschutznachweis: ("Brandschutznachweis", "fire protection certificate"),
    DocumentKind.stellungnahme: ("Stellungnahme", "statement of an agency or authority"),
    DocumentKind.nachbarunterschrift: ("Nachbarunterschrift", "neighbour's signature"),
    DocumentKind.bescheid: ("Bescheid", "decision (permit or refusal)"),
    DocumentKind.sonstiges: ("Sonstiges", "other"),
}


def kind_label(kind: str) -> str:
    """The German label of a kind id (the id itself if unknown)."""
    try:
        return KIND_LABELS[DocumentKind(kind)][0]
    except ValueError:
        return kind
