"""The legal rules of issue 12, one table row each; every row names its legal source.

Each row is a scenario on the pure engine: a receipt, then actions and deadline expiries on
given days, then what the law says must hold (state, deadlines, recorded facts) or which
refusal the engine must give. The ids carry the statute so a failing row names its rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest

from workflows import (
    ApplyResult,
    GuardBlocked,
    Instance,
    InvalidInput,
    Principal,
    apply,
    fire_deadline,
    get_calendar,
    load_versions,
    start_instance,
    version_for,
)

VERSIONS = load_versions()
CAL = get_calendar("bavaria-muenchen")
APPLICANT = Principal("bauherrin-1", ["applicant"])
CLERK = Principal("sb-1", ["clerk"])
APPROVER = Principal("al-1", ["approver"])
DOCS = ["lageplan", "bauzeichnung", "baubeschreibung"]
WHO = {"applicant": APPLICANT, "clerk": CLERK, "approver": APPROVER}


def d(text: str) -> date:
    return date.fromisoformat(text)


@dataclass(frozen=True)
class Do:
    """Take `action` as `who` on `day`; with `refused`, expect that reason/field code."""

    action: str
    who: str
    day: str
    input: dict[str, Any] = field(default_factory=dict)
    refused: str | None = None


@dataclass(frozen=True)
class Fire:
    """The ticker on `day` (the day after the last day) expires deadline `kind`."""

    kind: str
    day: str


Step = Do | Fire


class Walk:
    def __init__(self, procedure: str, received: str, housing: bool) -> None:
        self.definition = version_for(VERSIONS[procedure], d(received))
        flags = ["housing"] if housing else []
        self.context = {
            "required_document_kinds": DOCS,
            "present_document_kinds": DOCS,
            "flags": flags,
        }
        self.results: list[ApplyResult] = [
            start_instance(
                self.definition,
                principal=APPLICANT,
                input={"eingang_am": received},
                now=datetime.fromisoformat(received + "T09:00"),
                context=self.context,
                calendar=CAL,
            )
        ]

    @property
    def instance(self) -> Instance:
        return self.results[-1].instance

    def run(self, step: Step) -> None:
        if isinstance(step, Fire):
            result = fire_deadline(
                self.definition,
                self.instance,
                step.kind,
                now=datetime.fromisoformat(step.day + "T00:05"),
                context=self.context,
                calendar=CAL,
            )
            assert result is not None, f"{step.kind} fired no action"
            self.results.append(result)
            return
        call = {
            "principal": WHO[step.who],
            "input": step.input,
            "now": datetime.fromisoformat(step.day + "T10:00"),
            "context": self.context,
            "calendar": CAL,
        }
        if step.refused is None:
            self.results.append(apply(self.definition, self.instance, step.action, **call))
            return
        with pytest.raises((GuardBlocked, InvalidInput)) as refused:
            apply(self.definition, self.instance, step.action, **call)
        error = refused.value
        codes = (
            {r.code for r in error.reasons}
            if isinstance(error, GuardBlocked)
            else {r.code for r in error.errors.values()}
        )
        assert step.refused in codes, codes


# Ways to a state, reused by several rows.
ITEMS = ["Standsicherheitsnachweis", "Entwässerungsplan"]


def nachfordern(
    day: str, frist: str, *, notice: bool = False, items: list[str] | None = None
) -> Do:
    return Do(
        "nachfordern",
        "clerk",
        day,
        {"maengel": items or ITEMS, "frist_bis": frist, "hinweis_ruecknahmefiktion": notice},
    )


def housing_found(day: str, housing: bool) -> Do:
    """Art. 68 Abs. 2 S. 1 BayBO: the authority's finding whether the Fiktion applies."""
    return Do(
        "wohnnutzung_feststellen",
        "clerk",
        day,
        {"wohnnutzung": housing, "begruendung": "Anteil Wohnfläche an der Hauptnutzfläche"},
    )


def all_items_arrived(arrived: str, *, recorded: str) -> list[Step]:
    """Every requested item arrived on `arrived`; the answer is recorded on `recorded`."""
    return [
        Do(
            "nachgeforderte_unterlagen_erfassen",
            "clerk",
            recorded,
            {"unterlagen": ITEMS, "eingegangen_am": arrived},
        ),
        Do("unterlagen_nachreichen", "clerk", recorded),
    ]


def to_signing(day: str) -> list[Step]:
    """Complete, participation closed, decision drafted by the clerk (awaits signature)."""
    return [
        Do("vollstaendigkeit_feststellen", "clerk", day),
        Do("beteiligung_abschliessen", "clerk", day),
        Do("entscheidung_entwerfen", "clerk", day),
    ]


def permit_notified(day: str) -> list[Step]:
    return [
        *to_signing(day),
        Do("genehmigung_zeichnen", "approver", day),
        Do("bekanntgabe_genehmigung_erfassen", "clerk", day, {"bekanntgabe_am": day}),
    ]


@dataclass(frozen=True)
class Rule:
    """One row: the scenario and what must hold afterwards."""

    source: str
    received: str
    steps: list[Step]
    state: str | None = None
    deadlines: dict[str, str | None] = field(default_factory=dict)
    check: Callable[[Walk], None] | None = None
    housing: bool = True
    procedure: str = "baybo-59"


def _fiction_recorded(walk: Walk) -> None:
    last = walk.results[-1]
    kinds = {e.type for e in last.effects}
    assert {"record_fiction", "set_flag"} <= kinds
    assert walk.instance.variables["fiktion_festgestellt"]["regel"] == "genehmigungsfiktion"
    assert not last.transition.public  # the applicant is told only once an official confirmed


def _rolled(walk: Walk) -> None:
    (started,) = walk.results[-1].deadlines_started
    assert started.rolled and started.unrolled == d("2026-05-02")  # a Saturday


def _not_rolled(walk: Walk) -> None:
    (started,) = walk.results[-1].deadlines_started
    assert started.fixed_end and not started.rolled


def challenge(lodged: str, day: str | None = None, **refused: str) -> Do:
    """Art. 69 Abs. 1 Hs. 2 BayBO: an official records a Widerspruch lodged on `lodged`."""
    return Do(
        "rechtsbehelf_erfassen",
        "clerk",
        day or lodged,
        {"art": "Widerspruch Nachbar Fl.Nr. 7/3", "eingelegt_am": lodged, "begruendung": "Eingang"},
        refused=refused.get("refused"),
    )


def challenge_ended(ended: str, day: str | None = None, refused: str | None = None) -> Do:
    return Do(
        "rechtsbehelf_erledigt",
        "clerk",
        day or ended,
        {"erledigt_am": ended, "begruendung": "Widerspruch zurückgenommen"},
        refused=refused,
    )


def _suspension_recorded(walk: Walk) -> None:
    variables = walk.instance.variables
    assert variables["hemmungen"]["2026-04-01"] == {
        "art": "Widerspruch Nachbar Fl.Nr. 7/3",
        "seit": "2026-04-01",
        "bis": "2026-09-30",
        "geltungsdauer_vorher": "2030-03-04",
    }
    assert variables["hemmungstage"] == 183
    (started,) = walk.results[-1].deadlines_started
    assert started.unrolled == d("2030-09-01") and started.rolled  # Sun, rolls to Monday
    assert walk.results[-1].transition.public


def _served_on_neighbours(walk: Walk) -> None:
    serve = next(e for e in walk.results[-1].effects if e.type == "serve_fiktionsbescheinigung")
    assert serve.params == {"neighbours": ["Fl.Nr. 7/3"]}


RULES: dict[str, Rule] = {
    # Rule 1 — the example: receipt 15.01.2026, Nachforderung 20.02.2026 (after the
    # clock began on 05.02.2026), answer 10.03.2026: the Fiktion still takes effect after
    # 05.05.2026, not 30.06.2026.
    "Art. 68 Abs. 2 S. 1 BayBO: late Nachforderung keeps the Fiktion clock running": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO",
        received="2026-01-15",
        steps=[
            nachfordern("2026-02-20", "2026-03-31"),
            Do(
                "nachgeforderte_unterlagen_erfassen",
                "clerk",
                "2026-03-10",
                {"unterlagen": ITEMS, "eingegangen_am": "2026-03-10"},
            ),
            Do("unterlagen_nachreichen", "clerk", "2026-03-10"),
            Fire("genehmigungsfiktion", "2026-05-06"),
        ],
        state="genehmigt_fiktion",
        check=lambda w: _fiction_recorded(w),
    ),
    "Art. 68 Abs. 2 S. 1 BayBO: timely Nachforderung restarts the clock after the answer": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO",
        received="2026-01-15",
        steps=[
            nachfordern("2026-01-30", "2026-03-31"),
            Do(
                "nachgeforderte_unterlagen_erfassen",
                "clerk",
                "2026-03-10",
                {"unterlagen": ITEMS, "eingegangen_am": "2026-03-10"},
            ),
            Do("unterlagen_nachreichen", "clerk", "2026-03-10"),
        ],
        state="eingegangen",
        deadlines={"genehmigungsfiktion": "2026-06-30"},
    ),
    "Art. 68 Abs. 2 S. 1 BayBO: timely Nachforderung stops the clock while it is open": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO",
        received="2026-01-15",
        steps=[nachfordern("2026-02-05", "2026-03-31")],
        state="nachforderung",
        deadlines={"genehmigungsfiktion": None, "nachforderungsfrist": "2026-03-31"},
    ),
    # Rule 2 — only the requested items, and the last of them, restart the clock.
    "Art. 68 Abs. 2 S. 1, Art. 65 Abs. 1 S. 2 BayBO: a partial answer does not restart": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO; Art. 65 Abs. 1 S. 2 BayBO",
        received="2026-01-15",
        steps=[
            nachfordern("2026-01-30", "2026-03-31"),
            Do(
                "nachgeforderte_unterlagen_erfassen",
                "applicant",
                "2026-03-10",
                {"unterlagen": ["Standsicherheitsnachweis"], "eingegangen_am": "2026-03-10"},
            ),
            Do(
                "unterlagen_nachreichen",
                "applicant",
                "2026-03-10",
                refused="requested_items_missing",
            ),
            Do(
                "nachgeforderte_unterlagen_erfassen",
                "applicant",
                "2026-03-10",
                {"unterlagen": ["Bauzeichnung"], "eingegangen_am": "2026-03-10"},
                refused="item_not_requested",
            ),
        ],
        state="nachforderung",
        deadlines={"genehmigungsfiktion": None},
    ),
    "Art. 68 Abs. 2 S. 1 BayBO: the clock restarts from the last requested item's arrival": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO; Art. 65 Abs. 1 S. 2 BayBO",
        received="2026-01-15",
        steps=[
            nachfordern("2026-01-30", "2026-03-31"),
            Do(
                "nachgeforderte_unterlagen_erfassen",
                "clerk",
                "2026-03-25",
                {"unterlagen": ["Entwässerungsplan"], "eingegangen_am": "2026-03-20"},
            ),
            # recorded later, arrived earlier by post: arrival counts, the latest arrival wins
            Do(
                "nachgeforderte_unterlagen_erfassen",
                "clerk",
                "2026-03-26",
                {"unterlagen": ["Standsicherheitsnachweis"], "eingegangen_am": "2026-03-12"},
            ),
            Do("unterlagen_nachreichen", "clerk", "2026-03-26"),
        ],
        state="eingegangen",
        deadlines={"genehmigungsfiktion": "2026-07-10"},  # 20.03. + 3 Wochen + 3 Monate
        check=lambda w: (
            w.instance.variables["nachforderung_eingaenge"]["Standsicherheitsnachweis"]
            == {"am": "2026-03-12", "von": "sb-1"}
        ),
    ),
    # Rule 3 — fictions stay correctable by an approver, with the arrival/Bekanntgabe date.
    "Art. 42a Abs. 1, Art. 41 BayVwVfG: refusal notified in time but recorded late": Rule(
        source="Art. 42a Abs. 1 BayVwVfG; Art. 41 BayVwVfG; Art. 68 Abs. 2 BayBO",
        received="2026-01-15",
        steps=[
            *to_signing("2026-02-02"),
            Do("ablehnung_zeichnen", "approver", "2026-04-28", {"begruendung": "§ 34 BauGB"}),
            Fire("genehmigungsfiktion", "2026-05-06"),
            Do(
                "fiktion_aufheben_ablehnung",
                "approver",
                "2026-05-08",
                {"bekanntgabe_am": "2026-05-06", "begruendung": "PZU"},
                refused="fiction_occurred",
            ),
            Do(
                "fiktion_aufheben_ablehnung",
                "approver",
                "2026-05-08",
                {"bekanntgabe_am": "2026-05-04", "begruendung": "Zustellurkunde vom 04.05."},
            ),
        ],
        state="abgelehnt",
        check=lambda w: (
            w.instance.variables["fiktion_festgestellt"] is None
            and any(e.params.get("flag") == "fiktion_pruefen" for e in w.results[-1].effects)
        ),
    ),
    "Art. 65 Abs. 1 S. 3 BayBO: documents arrived by post in time, recorded too late": Rule(
        source="Art. 65 Abs. 1 S. 3 BayBO; Art. 41 BayVwVfG",
        received="2026-01-15",
        steps=[
            nachfordern("2026-01-20", "2026-02-27", notice=True),
            Fire("nachforderungsfrist", "2026-02-28"),
            Do(
                "ruecknahmefiktion_aufheben",
                "approver",
                "2026-03-04",
                {"eingegangen_am": "2026-03-02", "begruendung": "zu spät"},
                refused="documents_late",
            ),
            Do(
                "ruecknahmefiktion_aufheben",
                "approver",
                "2026-03-04",
                {"eingegangen_am": "2026-02-26", "begruendung": "Eingangsstempel 26.02."},
            ),
        ],
        state="eingegangen",
        deadlines={"vollstaendigkeitspruefung": "2026-03-19", "genehmigungsfiktion": "2026-06-19"},
    ),
    "Art. 65 Abs. 1 S. 3 BayBO: the ticker only detects the Rücknahmefiktion": Rule(
        source="Art. 65 Abs. 1 S. 3 BayBO",
        received="2026-01-15",
        steps=[
            nachfordern("2026-01-20", "2026-02-27", notice=True),
            Fire("nachforderungsfrist", "2026-02-28"),
        ],
        state="ruecknahmefiktion_festgestellt",  # not final; an approver confirms or reverses
        check=lambda w: {"set_flag", "record_fiction"} <= {e.type for e in w.results[-1].effects},
    ),
    # Rule 4 — only the Bekanntgabe stops the clock.
    "Art. 42a Abs. 1 BayVwVfG: signing without Bekanntgabe does not stop the clock": Rule(
        source="Art. 42a Abs. 1 BayVwVfG; Art. 68 Abs. 2 BayBO",
        received="2026-01-15",
        steps=[
            *to_signing("2026-02-02"),
            Do("genehmigung_zeichnen", "approver", "2026-04-30"),
            Fire("genehmigungsfiktion", "2026-05-06"),
        ],
        state="genehmigt_fiktion",
    ),
    # Rule 5 — the housing finding is the authority's.
    "Art. 68 Abs. 2 S. 1 BayBO: an official corrects the housing finding (clock starts)": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO",
        received="2026-01-15",
        housing=False,
        steps=[
            Do(
                "wohnnutzung_feststellen",
                "clerk",
                "2026-01-20",
                {"wohnnutzung": True, "begruendung": "Wohnfläche 80 % der Hauptnutzfläche"},
            ),
        ],
        deadlines={"genehmigungsfiktion": "2026-05-05"},
    ),
    "Art. 68 Abs. 2 S. 1 BayBO: an official corrects the housing finding (clock stops)": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO",
        received="2026-01-15",
        steps=[
            Do(
                "wohnnutzung_feststellen",
                "approver",
                "2026-01-20",
                {"wohnnutzung": False, "begruendung": "überwiegend Gewerbe"},
            ),
        ],
        deadlines={"genehmigungsfiktion": None},
        check=lambda w: w.instance.variables["wohnnutzung"] is False,
    ),
    # Rule 5 edge — a finding made while a Nachforderung sent before the clock began
    # (05.02.2026) is open starts nothing; the clock starts three weeks after the last
    # requested item arrived (10.02.2026): 03.03.2026 + 3 months = 03.06.2026.
    "Art. 68 Abs. 2 S. 1 BayBO: housing found during a timely Nachforderung (clock waits)": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO",
        received="2026-01-15",
        housing=False,
        steps=[
            nachfordern("2026-01-20", "2026-03-31"),
            housing_found("2026-01-25", True),
        ],
        state="nachforderung",
        deadlines={"genehmigungsfiktion": None},
    ),
    "Art. 68 Abs. 2 S. 1 BayBO: housing found during a timely Nachforderung, then answered": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO",
        received="2026-01-15",
        housing=False,
        steps=[
            nachfordern("2026-01-20", "2026-03-31"),
            housing_found("2026-01-25", True),
            *all_items_arrived("2026-02-10", recorded="2026-02-12"),
        ],
        state="eingegangen",
        deadlines={"genehmigungsfiktion": "2026-06-03"},
        check=lambda w: w.instance.variables["fristbeginn"]["genehmigungsfiktion"] == "2026-03-03",
    ),
    "Art. 68 Abs. 2 S. 1 BayBO: housing confirmed during a timely Nachforderung, answered": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO",
        received="2026-01-15",
        steps=[
            nachfordern("2026-01-20", "2026-03-31"),  # stops the running clock
            housing_found("2026-01-25", True),  # not restarted from the receipt (05.05.2026)
            *all_items_arrived("2026-02-10", recorded="2026-02-12"),
        ],
        deadlines={"genehmigungsfiktion": "2026-06-03"},
    ),
    "Art. 68 Abs. 2 S. 1 BayBO: housing denied during a timely Nachforderung, answered": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO",
        received="2026-01-15",
        steps=[
            nachfordern("2026-01-20", "2026-03-31"),
            housing_found("2026-01-25", False),
            *all_items_arrived("2026-02-10", recorded="2026-02-12"),
        ],
        deadlines={"genehmigungsfiktion": None},
    ),
    "Art. 68 Abs. 2 S. 1 BayBO: housing found during a late Nachforderung (from receipt)": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO",
        received="2026-01-15",
        housing=False,
        steps=[
            nachfordern("2026-02-20", "2026-03-31"),  # after 05.02.2026: does not hold it back
            housing_found("2026-02-25", True),
        ],
        state="nachforderung",
        deadlines={"genehmigungsfiktion": "2026-05-05"},
    ),
    "Art. 68 Abs. 2 S. 1 BayBO: a new deadline keeps the Nachforderung timely": Rule(
        source="Art. 68 Abs. 2 S. 1 BayBO; Art. 65 Abs. 1 S. 2 BayBO",
        received="2026-01-15",
        housing=False,
        steps=[
            nachfordern("2026-01-20", "2026-02-27"),
            Do(
                "nachfrist_setzen",
                "clerk",
                "2026-02-20",
                {"maengel": ITEMS, "frist_bis": "2026-03-31", "hinweis_ruecknahmefiktion": False},
            ),
            housing_found("2026-02-25", True),
        ],
        deadlines={"genehmigungsfiktion": None},
    ),
    # Rule 6 — waiver in Textform.
    "Art. 68 Abs. 2 S. 2 BayBO: the applicant waives the Fiktion": Rule(
        source="Art. 68 Abs. 2 S. 2 BayBO",
        received="2026-01-15",
        steps=[
            Do(
                "fiktion_verzichten",
                "applicant",
                "2026-02-10",
                {"erklaert_am": "2026-02-10", "erklaerung": "Ich verzichte auf die Fiktion."},
            ),
            Do(
                "wohnnutzung_feststellen",
                "clerk",
                "2026-02-11",
                {"wohnnutzung": True, "begruendung": "Wohnhaus"},
            ),
        ],
        state="eingegangen",
        deadlines={"genehmigungsfiktion": None},
    ),
    # Rule 7 — the Fiktionsbescheinigung is served on neighbours who did not consent.
    "Art. 66 Abs. 1 S. 4 BayBO, Art. 42a Abs. 3 BayVwVfG: Fiktionsbescheinigung served": Rule(
        source="Art. 66 Abs. 1 S. 4 BayBO; Art. 42a Abs. 3 BayVwVfG",
        received="2026-01-15",
        steps=[
            Do("vollstaendigkeit_feststellen", "clerk", "2026-01-20"),
            Do(
                "nachbarbeteiligung_erfassen",
                "clerk",
                "2026-01-21",
                {"nicht_zustimmende_nachbarn": ["Fl.Nr. 7/3"]},
            ),
            Fire("genehmigungsfiktion", "2026-05-06"),
            Do("fiktionsbescheinigung_ausstellen", "approver", "2026-05-07"),
        ],
        state="genehmigung_wirksam",
        check=_served_on_neighbours,
    ),
    # Rule 8 — validity (Art. 69 BayBO).
    "Art. 69 Abs. 2 BayBO: a 48-month extension is accepted": Rule(
        source="Art. 69 Abs. 2 BayBO (bis zu vier Jahre seit 01.01.2025)",
        received="2026-01-15",
        steps=[
            *permit_notified("2026-03-02"),
            Do(
                "geltungsdauer_verlaengern",
                "clerk",
                "2029-12-01",
                {"antrag_am": "2029-11-30", "verlaengerung_monate": 49},
                refused="too_large",
            ),
            Do(
                "geltungsdauer_verlaengern",
                "clerk",
                "2029-12-01",
                {"antrag_am": "2029-11-30", "verlaengerung_monate": 48},
            ),
        ],
        deadlines={"geltungsdauer": "2034-03-02"},
    ),
    "§ 190 BGB: the extension counts from the unrolled end (Sun 28.02.2027)": Rule(
        source="§ 190 BGB; Art. 69 Abs. 2 BayBO; Art. 31 Abs. 3 BayVwVfG",
        received="2022-11-02",
        steps=[
            *permit_notified("2023-02-28"),
            Do(
                "geltungsdauer_verlaengern",
                "clerk",
                "2027-01-10",
                {"antrag_am": "2027-01-08", "verlaengerung_monate": 24},
            ),
        ],
        deadlines={"geltungsdauer": "2029-02-28"},  # not 01.03.2029
    ),
    "Art. 69 Abs. 2 BayBO: a timely extension application prevents the lapse": Rule(
        source="Art. 69 Abs. 2 BayBO",
        received="2026-01-15",
        steps=[
            *permit_notified("2026-03-02"),
            Do("verlaengerung_beantragt", "clerk", "2030-02-20", {"antrag_am": "2030-02-18"}),
            Fire("geltungsdauer", "2030-03-05"),
            Do(
                "geltungsdauer_rueckwirkend_verlaengern",
                "approver",
                "2030-04-10",
                {"verlaengerung_monate": 24},
            ),
        ],
        state="genehmigung_wirksam",
        deadlines={"geltungsdauer": "2032-03-02"},
    ),
    # Rule 8e — a legal challenge suspends the validity (Art. 69 Abs. 1 Hs. 2 BayBO). Permit
    # notified 02.03.2026: validity to Sat 02.03.2030, rolled to Mon 04.03.2030. A Widerspruch
    # from 01.04. to 30.09.2026 (183 days, both counted, § 209 BGB) moves the unrolled end to
    # Sun 01.09.2030, due Mon 02.09.2030.
    "Art. 69 Abs. 1 Hs. 2 BayBO: the validity does not run while a challenge runs": Rule(
        source="Art. 69 Abs. 1 Hs. 2 BayBO",
        received="2026-01-15",
        steps=[*permit_notified("2026-03-02"), challenge("2026-04-01", "2026-04-03")],
        state="rechtsbehelf_anhaengig",
        deadlines={"geltungsdauer": None},  # nothing for the ticker to let lapse
        check=lambda w: (
            w.instance.variables["geltungsdauer_frist_vor_hemmung"] == "2030-03-04"
            and w.instance.variables["geltungsdauer_ende_vor_hemmung"] == "2030-03-02"
            and "geltungsdauer" in w.results[-1].deadlines_cancelled
        ),
    ),
    "Art. 69 Abs. 1 Hs. 2 BayBO: the end of a challenge extends the validity by its time": Rule(
        source="Art. 69 Abs. 1 Hs. 2 BayBO; § 209 BGB",
        received="2026-01-15",
        steps=[
            *permit_notified("2026-03-02"),
            challenge("2026-04-01", "2026-04-03"),
            challenge_ended("2026-03-31", "2026-10-02", refused="challenge_end_before_start"),
            challenge_ended("2026-10-05", "2026-10-02", refused="challenge_end_in_future"),
            challenge_ended("2026-09-30", "2026-10-02"),
        ],
        state="genehmigung_wirksam",
        deadlines={"geltungsdauer": "2030-09-02"},
        check=_suspension_recorded,
    ),
    "Art. 69 Abs. 1 Hs. 2 BayBO: a challenge running past the old end keeps the permit": Rule(
        source="Art. 69 Abs. 1 Hs. 2 BayBO",
        received="2026-01-15",
        steps=[
            *permit_notified("2026-03-02"),
            challenge("2029-06-01", "2029-06-03"),
            # 731 days (01.06.2029–01.06.2031) from the unrolled end 02.03.2030
            challenge_ended("2031-06-01", "2031-06-04"),
        ],
        state="genehmigung_wirksam",
        deadlines={"geltungsdauer": "2032-03-02"},
    ),
    "Art. 69 Abs. 1 Hs. 2 BayBO: a lapsed validity cannot be suspended afterwards": Rule(
        source="Art. 69 Abs. 1 Hs. 2 BayBO",
        received="2026-01-15",
        steps=[
            *permit_notified("2026-03-02"),
            challenge("2030-03-05", "2030-03-05", refused="challenge_after_validity"),
            challenge("2026-04-10", "2026-04-03", refused="challenge_in_future"),
        ],
        state="genehmigung_wirksam",
        deadlines={"geltungsdauer": "2030-03-04"},
    ),
    "Art. 69 Abs. 1 BayBO: an interruption of four years after the Baubeginn is tracked": Rule(
        source="Art. 69 Abs. 1 BayBO",
        received="2026-01-15",
        steps=[
            *permit_notified("2026-03-02"),
            Do("baubeginn_anzeigen", "applicant", "2026-06-01", {"baubeginn_am": "2026-06-01"}),
            Do(
                "bauunterbrechung_erfassen",
                "clerk",
                "2027-01-05",
                {"unterbrochen_seit": "2026-12-01"},
            ),
            Fire("bauunterbrechung", "2030-12-03"),
        ],
        state="erloschen",
    ),
    # Rule 11 — deadlines entered by officials.
    "Art. 65 Abs. 1 S. 2 BayBO, Art. 31 BayVwVfG: a past Nachforderung deadline is refused": Rule(
        source="Art. 65 Abs. 1 S. 2 BayBO (angemessene Frist); Art. 31 BayVwVfG",
        received="2026-01-15",
        steps=[
            Do(
                "nachfordern",
                "clerk",
                "2026-01-20",
                {"maengel": ITEMS, "frist_bis": "2020-01-31", "hinweis_ruecknahmefiktion": True},
                refused="date_in_past",
            ),
            Do(
                "nachfordern",
                "clerk",
                "2026-01-20",
                {"maengel": ITEMS, "frist_bis": "2031-01-31", "hinweis_ruecknahmefiktion": True},
                refused="date_too_far_ahead",
            ),
        ],
        state="eingegangen",
        deadlines={"nachforderungsfrist": None},
    ),
    "Art. 31 Abs. 3 S. 1 BayVwVfG: an end on a Saturday rolls to Monday, and says so": Rule(
        source="Art. 31 Abs. 3 S. 1 BayVwVfG; § 193 BGB",
        received="2026-01-15",
        steps=[nachfordern("2026-01-20", "2026-05-02")],
        deadlines={"nachforderungsfrist": "2026-05-04"},
        check=_rolled,
    ),
    "Art. 31 Abs. 3 S. 2 BayVwVfG: a fixed end day named in the letter does not roll": Rule(
        source="Art. 31 Abs. 3 S. 2 BayVwVfG",
        received="2026-01-15",
        steps=[
            Do(
                "nachfordern",
                "clerk",
                "2026-01-20",
                {
                    "maengel": ITEMS,
                    "frist_bis": "2026-05-02",
                    "fester_endtag": True,
                    "hinweis_ruecknahmefiktion": False,
                },
            )
        ],
        deadlines={"nachforderungsfrist": "2026-05-02"},
        check=_not_rolled,
    ),
}


@pytest.mark.parametrize("name", list(RULES))
def test_legal_rule(name: str) -> None:
    rule = RULES[name]
    assert rule.source and rule.source.split()[0] in name  # each row names its source
    walk = Walk(rule.procedure, rule.received, rule.housing)
    for step in rule.steps:
        walk.run(step)
    if rule.state is not None:
        assert walk.instance.state == rule.state
    for kind, due in rule.deadlines.items():
        assert walk.instance.deadlines.get(kind) == (d(due) if due else None), kind
    if rule.check is not None:
        assert rule.check(walk) is not False


def test_versioned_law_pins_a_case_by_its_receipt_date() -> None:
    """Art. 64 BayBO as amended from 01.01.2025: baybo-59 v1 for older receipts, v2 after."""
    versions = VERSIONS["baybo-59"]
    assert [v.version for v in versions] == [1, 2]
    assert version_for(versions, d("2024-12-31")).version == 1
    assert version_for(versions, d("2025-01-01")).version == 2
    assert version_for(versions, d("2019-01-01")).version == 1  # before the first: the oldest
    older = Walk("baybo-59", "2024-06-03", housing=True)
    assert older.definition.version == 1
    older.run(nachfordern("2024-06-05", "2024-07-31"))
    assert older.instance.state == "nachforderung"
