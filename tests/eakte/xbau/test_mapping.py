"""Pure mapping XBau -> domain commands (no database): every field the case takes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from eakte.documents.kinds import DocumentKind
from eakte.xbau import mapping, parsing
from eakte.xbau.errors import XBauIncomplete, XBauUnsupportedMessage

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 12, 1)


def load(name: str) -> parsing.Message:
    return parsing.load((FIXTURES / name).read_bytes())


def test_bauantrag_maps_parties_plot_project_procedure_and_receipt() -> None:
    app = mapping.application(load("0200_neubau_efh.xml").root, today=TODAY)
    assert app.header.message_uuid == "5b0f4c1e-8d7a-4a53-9d6e-2f1a7c3e9b10"
    assert app.header.reader == mapping.Authority("bau:097610000", "Stadt Augsburg, Bauordnungsamt")
    assert app.header.author.kennung == "bpo:091620000"
    assert app.procedure == "baybo-59" and not app.procedure_assumed
    assert app.received_on == date(2026, 11, 23)  # erstellungszeitpunkt (Art. 64 Abs. 1 BayBO)
    assert app.applicant == mapping.Person(
        "Maria Huber", "Hochfeldstraße 12, 86159 Augsburg", "maria.huber@example.org"
    )
    assert app.builder is not None and app.builder.name == "Maria Huber"
    assert app.designer is not None and app.designer.name == "Architekturbüro Lechner & Partner"
    assert (app.site_address, app.gemarkung, app.flur, app.flurstueck) == (
        "Am Eiskanal 7, 86161 Augsburg",
        "Hochzoll",
        "3",
        "1234/5",
    )
    assert app.title == "Neubau eines Einfamilienhauses mit Doppelgarage"
    assert "148 m² Wohnfläche" in app.description
    assert app.housing is True  # artDesWohngebaeudes given (Art. 68 Abs. 2 BayBO Fiktion)
    assert app.portal_reference == "3f2c9d4a-6b1e-4f8a-9c2d-7e5a1b0c4d92"
    [anlage] = app.attachments
    assert (anlage.kind, anlage.filename, anlage.declared_media_type) == (
        DocumentKind.lageplan,
        "lageplan.pdf",
        "application/pdf",
    )


def test_receipt_date_never_lies_in_the_future() -> None:
    app = mapping.application(load("0200_neubau_efh.xml").root, today=date(2026, 11, 20))
    assert app.received_on == date(2026, 11, 20)


def test_vorbescheid_carries_its_questions_into_baybo_71() -> None:
    app = mapping.application(load("0210_vorbescheid.xml").root, today=TODAY)
    assert app.procedure == "baybo-71" and app.family == "vorbescheid"
    assert len(app.questions) == 2 and "§ 34 BauGB" in app.questions[0]


def test_genehmigungsfreistellung_is_baybo_58_with_the_anzeigender_as_applicant() -> None:
    app = mapping.application(load("0600_genehmigungsfreistellung.xml").root, today=TODAY)
    assert app.procedure == "baybo-58" and app.applicant.name == "Maria Huber"


def test_change_refers_to_our_file_number() -> None:
    change = mapping.change(load("0202_nachreichung.xml").root, today=TODAY)
    assert change.reference == "BA-2026-00001"
    assert [a.kind for a in change.attachments] == [DocumentKind.bauzeichnung]


def test_statement_answer_and_text() -> None:
    statement = mapping.statement(load("0303_stellungnahme_gemeinde.xml").root)
    assert statement.answer == "consent" and "versickern" in statement.text
    assert statement.reference == "00000000-0000-4000-8000-000000000300"


@pytest.mark.parametrize(
    ("family", "code", "expected"),
    [
        ("baugenehmigung", "59", ("baybo-59", False)),
        ("baugenehmigung", "Art. 60", ("baybo-60", False)),
        ("baugenehmigung", "baybo-60", ("baybo-60", False)),
        ("baugenehmigung", "", ("baybo-59", True)),
        ("vorbescheid", "59", ("baybo-71", False)),
        ("genehmigungsfreistellung", "", ("baybo-58", False)),
    ],
)
def test_procedure_for(family: str, code: str, expected: tuple[str, bool]) -> None:
    assert mapping.procedure_for(family, code) == expected


def test_unknown_verfahrensart_is_refused() -> None:
    with pytest.raises(XBauUnsupportedMessage):
        mapping.procedure_for("baugenehmigung", "42")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("lageplan", DocumentKind.lageplan),
        ("Lageplan_amtlich", DocumentKind.lageplan),
        ("bauzeichnungGrundriss", DocumentKind.bauzeichnung),
        ("schnitt", DocumentKind.bauzeichnung),
        ("baubeschreibung", DocumentKind.baubeschreibung),
        ("standsicherheitsnachweis", DocumentKind.standsicherheitsnachweis),
        ("brandschutzkonzept", DocumentKind.brandschutznachweis),
        ("foto", DocumentKind.sonstiges),
    ],
)
def test_kind_for(code: str, kind: DocumentKind) -> None:
    assert mapping.kind_for(code) == kind


def test_application_without_applicant_or_plot_is_incomplete() -> None:
    raw = (FIXTURES / "0200_neubau_efh.xml").read_bytes()
    start, end = (
        raw.index(b"<xbau:verortung>"),
        raw.index(b"</xbau:verortung>") + len(b"</xbau:verortung>"),
    )
    with pytest.raises(XBauIncomplete):
        mapping.application(parsing.load(raw[:start] + raw[end:]).root, today=TODAY)


def test_a_decision_message_does_not_open_a_case() -> None:
    with pytest.raises(XBauUnsupportedMessage):
        mapping.application(load("0303_stellungnahme_gemeinde.xml").root, today=TODAY)
