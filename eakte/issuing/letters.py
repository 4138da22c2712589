"""Letter types the authority issues, their legal basis and the placeholders they may use."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LetterType(StrEnum):
    """What a letter is; the value is the stable id (also the `issue_document` effect's kind)."""

    eingangsbestaetigung = "eingangsbestaetigung"
    nachforderung = "nachforderung"
    beteiligungsersuchen = "beteiligungsersuchen"
    nachbarbenachrichtigung = "nachbarbenachrichtigung"
    baugenehmigung = "baugenehmigung"
    ablehnungsbescheid = "ablehnungsbescheid"
    fiktionsbescheinigung = "fiktionsbescheinigung"
    vorbescheid = "vorbescheid"
    verlaengerung = "verlaengerung"


# Every letter may use these (filled from the case, the letterhead and the issue record).
COMMON = frozenset(
    {
        "file_number",
        "date",
        "case_title",
        "site_address",
        "site_gemarkung",
        "site_flurstueck",
        "applicant_name",
        "addressee_name",
        "authority_name",
        "contact",
    }
)


@dataclass(frozen=True)
class LetterSpec:
    """Label, legal basis, whether it is a Bescheid (a Verwaltungsakt), extra placeholders."""

    label_de: str
    label_en: str
    legal_basis: str
    decision: bool
    placeholders: frozenset[str]
    remedy: bool  # carries the Rechtsbehelfsbelehrung (Art. 37 Abs. 6 BayVwVfG; § 58 VwGO)


SPECS: dict[LetterType, LetterSpec] = {
    LetterType.eingangsbestaetigung: LetterSpec(
        "Eingangsbestätigung",
        "acknowledgement of receipt",
        "Art. 64 Abs. 1, Art. 65 Abs. 1 BayBO",
        False,
        frozenset({"received_on"}),
        False,
    ),
    LetterType.nachforderung: LetterSpec(
        "Nachforderung",
        "request for missing documents",
        "Art. 65 Abs. 1 S. 2 und 3 BayBO",
        True,
        frozenset({"missing_items", "deadline", "withdrawal_warning"}),
        True,
    ),
    LetterType.beteiligungsersuchen: LetterSpec(
        "Beteiligungsersuchen",
        "request for an opinion",
        "Art. 65 Abs. 1 S. 1, Abs. 2 BayBO; § 36 Abs. 2 S. 2 BauGB",
        False,
        frozenset(
            {"agency_name", "deadline", "period", "period_basis", "consequence", "subject_matter"}
        ),
        False,
    ),
    LetterType.nachbarbenachrichtigung: LetterSpec(
        "Benachrichtigung der Nachbarn",
        "notice to neighbours",
        "Art. 66 Abs. 1 S. 4 BayBO (Zustellung einer Ausfertigung der Entscheidung)",
        False,
        # enclosure_*: the sealed decision served with the letter, filled from its record
        frozenset(
            {"neighbour_name", "project", "enclosure_label", "enclosure_date", "enclosure_ref"}
        ),
        False,
    ),
    LetterType.baugenehmigung: LetterSpec(
        "Baugenehmigung",
        "building permit",
        "Art. 68 Abs. 1 S. 1 BayBO; Art. 36 BayVwVfG (Nebenbestimmungen)",
        True,
        frozenset({"conditions", "reasons", "project"}),
        True,
    ),
    LetterType.ablehnungsbescheid: LetterSpec(
        "Ablehnung des Bauantrags",
        "refusal",
        "Art. 68 Abs. 1 S. 1 BayBO; Art. 39 BayVwVfG (Begründung)",
        True,
        frozenset({"reasons", "project"}),
        True,
    ),
    LetterType.fiktionsbescheinigung: LetterSpec(
        "Bescheinigung über den Eintritt der Genehmigungsfiktion",
        "certificate of deemed approval",
        "Art. 68 Abs. 2 BayBO; Art. 42a Abs. 3 BayVwVfG",
        False,
        frozenset({"fiction_date", "project"}),
        False,
    ),
    LetterType.vorbescheid: LetterSpec(
        "Vorbescheid",
        "preliminary decision",
        "Art. 71 BayBO",
        True,
        frozenset({"questions", "answers", "reasons"}),
        True,
    ),
    LetterType.verlaengerung: LetterSpec(
        "Verlängerung der Geltungsdauer",
        "extension of validity",
        "Art. 69 Abs. 2 BayBO",
        True,
        frozenset({"valid_until", "months"}),
        True,
    ),
}


def allowed_placeholders(letter_type: LetterType) -> frozenset[str]:
    """The names a template of this type may use."""
    spec = SPECS[letter_type]
    return COMMON | spec.placeholders | ({"rechtsbehelfsbelehrung"} if spec.remedy else set())


# Letters that serve a sealed decision on a neighbour (Art. 66 Abs. 1 S. 4 BayBO; for the
# Vorbescheid with Art. 71 S. 4 BayBO), and the decisions they may enclose.
SERVES_DECISION = frozenset({LetterType.nachbarbenachrichtigung})
ENCLOSABLE = (LetterType.baugenehmigung, LetterType.vorbescheid)
