"""Walks through baybo-58, baybo-60 and baybo-71, and participation deadlines."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from workflows import (
    ApplyResult,
    GuardBlocked,
    Instance,
    Principal,
    SilenceMeans,
    apply,
    available_actions,
    fire_deadline,
    get_calendar,
    load_all,
    participation_deadline,
    start_instance,
    statement_is_late,
)

DEFS = load_all()
CAL = get_calendar("bavaria-muenchen")
APPLICANT = Principal("bauherr-7", ["applicant"])
CLERK = Principal("sb-1", ["clerk"])
APPROVER = Principal("al-1", ["approver"])
DOCS = {"required_document_kinds": ["lageplan"], "present_document_kinds": ["lageplan"]}


class Walk:
    """Applies actions one after another on one instance."""

    def __init__(
        self, def_id: str, received: date, extra: dict[str, Any] | None = None, **context: Any
    ) -> None:
        self.definition = DEFS[def_id]
        self.context = {**DOCS, **context}
        self.last = start_instance(
            self.definition,
            principal=APPLICANT,
            input={"eingang_am": received.isoformat(), **(extra or {})},
            now=datetime(received.year, received.month, received.day, 9),
            context=self.context,
            calendar=CAL,
        )

    @property
    def instance(self) -> Instance:
        return self.last.instance

    def do(
        self,
        action: str,
        who: Principal,
        day: date,
        input: dict[str, Any] | None = None,
        **context: Any,
    ) -> ApplyResult:
        self.last = apply(
            self.definition,
            self.instance,
            action,
            principal=who,
            input=input,
            now=datetime(day.year, day.month, day.day, 9),
            context={**self.context, **context},
            calendar=CAL,
        )
        return self.last

    def fire(self, kind: str, day: date) -> ApplyResult:
        now = datetime(day.year, day.month, day.day, 0, 5)
        result = fire_deadline(
            self.definition, self.instance, kind, now=now, context=self.context, calendar=CAL
        )
        assert result is not None
        self.last = result
        return result


def test_freistellung_month_runs_from_complete_documents_then_construction_may_start() -> None:
    walk = Walk("baybo-58", date(2025, 1, 8))
    assert walk.last.instance.deadlines == {}
    walk.do(
        "unvollstaendigkeit_mitteilen",
        CLERK,
        date(2025, 1, 10),
        {"fehlende_unterlagen": ["Lageplan"]},
    )
    assert walk.instance.deadlines == {}  # the month does not start while incomplete
    walk.do(
        "unterlagen_nachreichen", APPLICANT, date(2025, 1, 31), {"nachgereicht_am": "2025-01-31"}
    )
    running = walk.do(
        "vollstaendigkeit_feststellen", CLERK, date(2025, 2, 3), {"vollstaendig_seit": "2025-01-31"}
    )
    (month,) = running.deadlines_started
    assert (month.kind, month.anchor, month.due) == (
        "freistellungsfrist",
        date(2025, 1, 31),
        date(2025, 2, 28),
    )
    done = walk.fire("freistellungsfrist", date(2025, 3, 1))
    assert done.state == "baubeginn_zulaessig"
    assert done.transition.public
    final = walk.definition.state("baubeginn_zulaessig")
    assert final is not None and final.final


def test_freistellung_municipality_demands_permit_procedure() -> None:
    """Art. 58 Abs. 2 Nr. 4, Abs. 5 BayBO [nv]: converted only if the Bauherr asked for it."""
    walk = Walk("baybo-58", date(2025, 1, 8), {"als_bauantrag_behandeln": True})
    walk.do(
        "vollstaendigkeit_feststellen", CLERK, date(2025, 1, 9), {"vollstaendig_seit": "2025-01-08"}
    )
    with pytest.raises(GuardBlocked, match="nach Ablauf der Monatsfrist|after the month"):
        walk.do(
            "genehmigungsverfahren_verlangen",
            CLERK,
            date(2025, 1, 30),
            {"zugang_beim_bauherrn_am": "2025-02-11"},  # month: Sat 08.02. -> Mon 10.02.
        )
    converted = walk.do(
        "genehmigungsverfahren_verlangen",
        CLERK,
        date(2025, 1, 30),
        {"zugang_beim_bauherrn_am": "2025-02-03"},
    )
    assert converted.state == "genehmigungsverfahren_erforderlich"
    assert converted.deadlines_cancelled == ("freistellungsfrist",)
    convert = next(e for e in converted.effects if e.type == "convert_procedure")
    assert convert.params == {"target": "baybo-59"}
    assert "baybo-59" in DEFS


def test_freistellung_declaration_without_the_wish_returns_the_documents() -> None:
    """Art. 58 Abs. 5 BayBO [nv]: without the Bauherr's wish the case is not converted."""
    walk = Walk("baybo-58", date(2025, 1, 8))
    walk.do(
        "vollstaendigkeit_feststellen", CLERK, date(2025, 1, 9), {"vollstaendig_seit": "2025-01-08"}
    )
    with pytest.raises(GuardBlocked, match="did not ask"):
        walk.do(
            "genehmigungsverfahren_verlangen",
            CLERK,
            date(2025, 1, 30),
            {"zugang_beim_bauherrn_am": "2025-02-03"},
        )
    back = walk.do(
        "genehmigungsverfahren_verlangen_unterlagen_zurueck",
        CLERK,
        date(2025, 1, 30),
        {"zugang_beim_bauherrn_am": "2025-02-03"},
    )
    assert back.state == "genehmigungsverfahren_erforderlich"
    assert not any(e.type == "convert_procedure" for e in back.effects)
    assert back.instance.variables["erklaerung_zugegangen_am"] == "2025-02-03"


def test_freistellung_provisional_prohibition() -> None:
    walk = Walk("baybo-58", date(2025, 1, 8))
    with pytest.raises(GuardBlocked):
        walk.do(
            "vollstaendigkeit_feststellen",
            CLERK,
            date(2025, 1, 9),
            {"vollstaendig_seit": "2025-01-08"},
            present_document_kinds=[],
        )
    walk.do(
        "vollstaendigkeit_feststellen", CLERK, date(2025, 1, 9), {"vollstaendig_seit": "2025-01-08"}
    )
    result = walk.do(
        "vorlaeufige_untersagung_beantragen",
        APPROVER,
        date(2025, 2, 1),
        {"begruendung": "Veränderungssperre in Aufstellung"},
    )
    assert result.state == "vorlaeufige_untersagung_beantragt"


def test_sonderbau_refused_and_no_fiction_even_for_housing() -> None:
    walk = Walk("baybo-60", date(2025, 6, 2), flags=["housing"])
    assert set(walk.instance.deadlines) == {"vollstaendigkeitspruefung"}
    walk.do("vollstaendigkeit_feststellen", CLERK, date(2025, 6, 16))
    walk.do("beteiligung_abschliessen", CLERK, date(2025, 8, 4))
    walk.do("entscheidung_entwerfen", CLERK, date(2025, 9, 1))
    walk.do("ablehnung_zeichnen", APPROVER, date(2025, 9, 2), {"begruendung": "Brandschutz"})
    refused = walk.do(
        "bekanntgabe_ablehnung_erfassen", CLERK, date(2025, 9, 8), {"bekanntgabe_am": "2025-09-05"}
    )
    assert refused.state == "abgelehnt"
    assert refused.effects[0].params["template"] == "ablehnung_bekanntgegeben"


def test_sonderbau_permit_withdrawn_by_applicant() -> None:
    walk = Walk("baybo-60", date(2025, 6, 2))
    walk.do("vollstaendigkeit_feststellen", CLERK, date(2025, 6, 16))
    result = walk.do(
        "ruecknahme_erklaeren", APPLICANT, date(2025, 7, 1), {"erklaert_am": "2025-07-01"}
    )
    assert result.state == "zurueckgenommen"
    assert result.transition.xbau == "1130"


def test_vorbescheid_walk_with_extension() -> None:
    walk = Walk(
        "baybo-71", date(2025, 2, 3), {"fragen": ["Ist eine Bebauung in zweiter Reihe zulässig?"]}
    )
    assert walk.last.transition.xbau == "0210"
    assert walk.instance.variables["fragen"] == ["Ist eine Bebauung in zweiter Reihe zulässig?"]
    walk.do("vollstaendigkeit_feststellen", CLERK, date(2025, 2, 10))
    walk.do("von_nachbarbeteiligung_absehen", CLERK, date(2025, 2, 11))
    assert walk.instance.variables["nachbarbeteiligung_entfaellt"] is True
    walk.do("beteiligung_abschliessen", CLERK, date(2025, 4, 14))
    walk.do("entscheidung_entwerfen", CLERK, date(2025, 4, 20))
    with pytest.raises(GuardBlocked):
        walk.do("vorbescheid_zeichnen", Principal("sb-1", ["approver"]), date(2025, 4, 22))
    signed = walk.do("vorbescheid_zeichnen", APPROVER, date(2025, 4, 22))
    assert signed.transition.xbau == "0215"
    valid = walk.do(
        "bekanntgabe_vorbescheid_erfassen",
        CLERK,
        date(2025, 4, 25),
        {"bekanntgabe_am": "2025-04-24"},
    )
    assert valid.deadlines_started[0].due == date(2029, 4, 24)
    extended = walk.do(
        "geltungsdauer_verlaengern",
        CLERK,
        date(2029, 3, 1),
        {"antrag_am": "2029-02-27", "verlaengerung_monate": 48},
    )
    assert extended.deadlines_started[0].due == date(2033, 4, 25)  # 24 Apr 2033 is a Sunday
    done = walk.do(
        "bauantrag_eingereicht",
        APPLICANT,
        date(2030, 1, 7),
        {"aktenzeichen_bauantrag": "BA-2030-00012"},
    )
    assert done.state == "bauantrag_gestellt"
    assert done.instance.deadlines == {}


def test_vorbescheid_lapses() -> None:
    walk = Walk("baybo-71", date(2025, 2, 3), {"fragen": ["Art der Nutzung?"]})
    walk.do("vollstaendigkeit_feststellen", CLERK, date(2025, 2, 10))
    walk.do("beteiligung_abschliessen", CLERK, date(2025, 4, 14))
    walk.do("entscheidung_entwerfen", CLERK, date(2025, 4, 20))
    walk.do("vorbescheid_zeichnen", APPROVER, date(2025, 4, 22))
    walk.do(
        "bekanntgabe_vorbescheid_erfassen",
        CLERK,
        date(2025, 4, 25),
        {"bekanntgabe_am": "2025-04-24"},
    )
    assert walk.fire("geltungsdauer", date(2029, 4, 25)).state == "vorbescheid_erloschen"


def test_participation_times_out_into_consent() -> None:
    definition = DEFS["baybo-59"]
    agency = participation_deadline(
        definition, "fachstelle_zustimmung", requested_on=date(2025, 3, 18), calendar=CAL
    )
    assert agency.due == date(2025, 4, 22)  # 18 April 2025 is Karfreitag
    assert agency.on_silence is SilenceMeans.CONSENT_DEEMED
    assert not statement_is_late(agency, date(2025, 4, 22))
    assert statement_is_late(agency, date(2025, 4, 23))

    municipality = participation_deadline(
        definition, "gemeinde_einvernehmen", requested_on=date(2025, 3, 18), calendar=CAL
    )
    assert municipality.due == date(2025, 5, 19)  # two months (§ 36 Abs. 2 S. 2 BauGB), 18 May: Sun
    statement = participation_deadline(
        definition, "fachstelle_stellungnahme", requested_on=date(2025, 3, 18), calendar=CAL
    )
    assert statement.on_silence is SilenceMeans.NO_CONCERNS
    assert statement.late_statements == "record_and_flag"

    walk = Walk("baybo-59", date(2025, 3, 10))
    walk.do("vollstaendigkeit_feststellen", CLERK, date(2025, 3, 17))
    # While the agency is silent the participation is open; once its month has run
    # out the service records consent as deemed given and nothing is open any more.
    listed = {
        a.id: a
        for a in available_actions(
            walk.definition, walk.instance, ["clerk"], {**DOCS, "open_participations": 1}
        )
    }
    assert not listed["beteiligung_abschliessen"].enabled
    closed = walk.do("beteiligung_abschliessen", CLERK, date(2025, 4, 23), open_participations=0)
    assert closed.state == "pruefung"


def test_unknown_participation_kind() -> None:
    with pytest.raises(KeyError):
        participation_deadline(
            DEFS["baybo-59"], "orakel", requested_on=date(2025, 1, 1), calendar=CAL
        )
