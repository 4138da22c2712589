"""The engine on the vereinfachtes Verfahren (baybo-59): walks, guards, deadlines, errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest

from workflows import (
    ActionNotAllowed,
    ApplyResult,
    DeadlineNotDue,
    DefinitionMismatch,
    GuardBlocked,
    Instance,
    InvalidContext,
    InvalidInput,
    Principal,
    StaleState,
    UnknownAction,
    apply,
    available_actions,
    due_deadline_action,
    fire_deadline,
    get_calendar,
    instance_from_dict,
    instance_to_dict,
    load_all,
    start_instance,
)

DEFS = load_all()
CAL = get_calendar("bavaria-augsburg")
APPLICANT = Principal("bauherrin-1", ["applicant"])
CLERK = Principal("sb-mueller", ["clerk"])
APPROVER = Principal("al-schmid", ["approver"])
CLERK_AND_APPROVER = Principal("sb-huber", ["clerk", "approver"])
DOCS = {
    "required_document_kinds": ["lageplan", "bauzeichnung", "baubeschreibung"],
    "present_document_kinds": ["lageplan", "bauzeichnung", "baubeschreibung"],
}


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 30)


class Case:
    """Drives one instance through a procedure, keeping the latest result."""

    def __init__(self, def_id: str, **context: Any) -> None:
        self.definition = DEFS[def_id]
        self.context: dict[str, Any] = {**DOCS, **context}
        self.results: list[ApplyResult] = []

    @property
    def instance(self) -> Instance:
        return self.results[-1].instance

    @property
    def state(self) -> str:
        return self.instance.state

    def start(self, received: date, principal: Principal = APPLICANT, **extra: Any) -> ApplyResult:
        result = start_instance(
            self.definition,
            principal=principal,
            input={"eingang_am": received.isoformat(), **extra},
            now=at(received),
            context=self.context,
            calendar=CAL,
        )
        self.results.append(result)
        return result

    def do(
        self,
        action: str,
        principal: Principal,
        day: date,
        input: dict[str, Any] | None = None,
        **context: Any,
    ) -> ApplyResult:
        result = apply(
            self.definition,
            self.instance,
            action,
            principal=principal,
            input=input,
            now=at(day),
            context={**self.context, **context},
            calendar=CAL,
        )
        self.results.append(result)
        return result

    def fire(self, kind: str, day: date) -> ApplyResult | None:
        result = fire_deadline(
            self.definition, self.instance, kind, now=at(day), context=self.context, calendar=CAL
        )
        if result is not None:
            self.results.append(result)
        return result

    def fired(self, kind: str, day: date) -> ApplyResult:
        result = self.fire(kind, day)
        assert result is not None, f"{kind} fired no action"
        return result

    def to_review(self, day: date) -> None:
        self.do("vollstaendigkeit_feststellen", CLERK, day)
        self.do("beteiligung_abschliessen", CLERK, day, open_participations=0)


def test_full_walk_to_start_of_construction() -> None:
    case = Case("baybo-59")
    first = case.start(date(2025, 3, 3))
    assert first.transition.from_state is None
    assert first.transition.xbau == "0200"
    assert [d.kind for d in first.deadlines_started] == ["vollstaendigkeitspruefung"]
    assert first.deadlines_started[0].due == date(2025, 3, 24)

    done = case.do("vollstaendigkeit_feststellen", CLERK, date(2025, 3, 10))
    assert done.state == "beteiligung"
    assert done.deadlines_cancelled == ("vollstaendigkeitspruefung",)
    request = next(e for e in done.effects if e.type == "request_participations")
    assert "gemeinde_einvernehmen" in request.params["kinds"]

    case.do(
        "nachbarbeteiligung_erfassen",
        CLERK,
        date(2025, 3, 12),
        {"zustimmende_nachbarn": ["Fl.Nr. 12/1"], "nicht_zustimmende_nachbarn": ["Fl.Nr. 12/2"]},
    )
    with pytest.raises(GuardBlocked) as blocked:
        case.do("beteiligung_abschliessen", CLERK, date(2025, 4, 1), open_participations=2)
    assert blocked.value.reasons[0].code == "participations_open"
    case.do("beteiligung_abschliessen", CLERK, date(2025, 5, 12), open_participations=0)
    case.do("entscheidung_entwerfen", CLERK, date(2025, 5, 20))
    assert case.instance.variables["entwurf_von"] == CLERK.id
    signed = case.do("genehmigung_zeichnen", APPROVER, date(2025, 5, 22))
    assert signed.state == "genehmigt"
    assert signed.transition.public is False

    notified = case.do(
        "bekanntgabe_genehmigung_erfassen",
        CLERK,
        date(2025, 5, 27),
        {"bekanntgabe_am": "2025-05-26"},
    )
    assert notified.state == "genehmigung_wirksam"
    assert notified.transition.public
    (validity,) = notified.deadlines_started
    assert (validity.kind, validity.anchor, validity.due) == (
        "geltungsdauer",
        date(2025, 5, 26),
        date(2029, 5, 28),  # 26 May 2029 is a Saturday
    )
    serve = next(e for e in notified.effects if e.type == "serve_neighbours")
    assert serve.params == {"neighbours": ["Fl.Nr. 12/2"]}

    started = case.do(
        "baubeginn_anzeigen", APPLICANT, date(2026, 4, 1), {"baubeginn_am": "2026-04-01"}
    )
    assert started.state == "baubeginn_angezeigt"
    assert started.transition.xbau == "0900"
    assert started.deadlines_cancelled == ("geltungsdauer",)
    assert started.instance.deadlines == {}
    # after the Baubeginn only the Art. 69 Abs. 1 interruption and completion can follow
    assert {
        a.id for a in available_actions(case.definition, case.instance, ["clerk", "applicant"], {})
    } == {"bauunterbrechung_erfassen", "baufertigstellung_anzeigen"}


def test_four_eyes_rule() -> None:
    case = Case("baybo-59")
    case.start(date(2025, 3, 3))
    case.to_review(date(2025, 3, 10))
    case.do("entscheidung_entwerfen", CLERK_AND_APPROVER, date(2025, 3, 20))

    listed = available_actions(
        case.definition, case.instance, CLERK_AND_APPROVER.roles, {"principal_id": "sb-huber"}
    )
    sign = next(a for a in listed if a.id == "genehmigung_zeichnen")
    assert not sign.enabled
    assert sign.reasons[0].code == "four_eyes"
    assert "Vier-Augen" in sign.reasons[0].de

    for action in ("genehmigung_zeichnen", "ablehnung_zeichnen"):
        with pytest.raises(GuardBlocked) as blocked:
            case.do(
                action,
                CLERK_AND_APPROVER,
                date(2025, 3, 21),
                {"begruendung": "x"} if action == "ablehnung_zeichnen" else None,
            )
        assert [r.code for r in blocked.value.reasons] == ["four_eyes"]

    # The service's view of the drafter wins over the recorded variable.
    with pytest.raises(GuardBlocked):
        case.do(
            "genehmigung_zeichnen", APPROVER, date(2025, 3, 21), decision_drafter_id=APPROVER.id
        )
    assert case.do("genehmigung_zeichnen", APPROVER, date(2025, 3, 21)).state == "genehmigt"


def test_sign_blocked_while_municipal_consent_refused() -> None:
    case = Case("baybo-59")
    case.start(date(2025, 3, 3))
    case.to_review(date(2025, 3, 10))
    case.do("entscheidung_entwerfen", CLERK, date(2025, 3, 20))
    with pytest.raises(GuardBlocked) as blocked:
        case.do("genehmigung_zeichnen", APPROVER, date(2025, 3, 21), municipal_consent="refused")
    assert blocked.value.reasons[0].code == "municipal_consent_refused"
    back = case.do(
        "zur_ueberarbeitung_zurueckgeben",
        APPROVER,
        date(2025, 3, 21),
        {"begruendung": "Einvernehmen ersetzen"},
    )
    assert back.state == "pruefung"


NACHFORDERUNG = {"maengel": ["Standsicherheitsnachweis fehlt"], "frist_bis": "2025-04-30"}


def test_nachforderung_with_notice_ends_in_withdrawal() -> None:
    case = Case("baybo-59")
    case.start(date(2025, 3, 3))
    requested = case.do(
        "nachfordern",
        CLERK,
        date(2025, 3, 12),
        {**NACHFORDERUNG, "hinweis_ruecknahmefiktion": True},
    )
    assert requested.state == "nachforderung"
    assert requested.transition.input["frist_bis"] == "2025-04-30"
    (deadline,) = requested.deadlines_started
    assert (deadline.kind, deadline.due, deadline.public) == (
        "nachforderungsfrist",
        date(2025, 4, 30),
        True,
    )
    assert deadline.on_expiry_actions == (
        "ruecknahmefiktion_eintreten",
        "nachforderungsfrist_abgelaufen",
    )

    with pytest.raises(DeadlineNotDue):
        case.fire("nachforderungsfrist", date(2025, 4, 30))
    assert due_deadline_action(
        case.definition, case.instance, "nachforderungsfrist", case.context
    ) == ("ruecknahmefiktion_eintreten")
    expired = case.fire("nachforderungsfrist", date(2025, 5, 1))
    assert expired is not None
    # Art. 65 Abs. 1 S. 3 BayBO: detected and flagged; an approver confirms or reverses it
    assert expired.state == "ruecknahmefiktion_festgestellt"
    assert expired.deadlines_expired == ("nachforderungsfrist",)
    assert expired.transition.actor_id == "system"
    assert expired.transition.deadline == "nachforderungsfrist"
    assert expired.instance.deadlines == {}


def test_nachforderung_without_notice_only_flags() -> None:
    case = Case("baybo-59")
    case.start(date(2025, 3, 3))
    case.do(
        "nachfordern",
        CLERK,
        date(2025, 3, 12),
        {**NACHFORDERUNG, "hinweis_ruecknahmefiktion": False},
    )
    flagged = case.fire("nachforderungsfrist", date(2025, 5, 2))
    assert flagged is not None
    assert flagged.state == "nachforderung"
    assert flagged.transition.action == "nachforderungsfrist_abgelaufen"
    assert {"type": "set_flag", "params": {"flag": "nachforderungsfrist_abgelaufen"}} in [
        {"type": e.type, "params": e.params} for e in flagged.effects
    ]
    assert "nachforderungsfrist" not in flagged.instance.deadlines

    # A new deadline, this time with the notice, can end in the withdrawal.
    renewed = case.do(
        "nachfrist_setzen",
        CLERK,
        date(2025, 5, 5),
        {**NACHFORDERUNG, "frist_bis": "2025-06-02", "hinweis_ruecknahmefiktion": True},
    )
    assert renewed.deadlines_started[0].due == date(2025, 6, 2)
    assert (
        case.fired("nachforderungsfrist", date(2025, 6, 3)).state
        == "ruecknahmefiktion_festgestellt"
    )


def test_notice_in_context_overrides_variable() -> None:
    case = Case("baybo-59")
    case.start(date(2025, 3, 3))
    case.do(
        "nachfordern",
        CLERK,
        date(2025, 3, 12),
        {**NACHFORDERUNG, "hinweis_ruecknahmefiktion": False},
    )
    assert (
        due_deadline_action(
            case.definition, case.instance, "nachforderungsfrist", {"withdrawal_notice_given": True}
        )
        == "ruecknahmefiktion_eintreten"
    )


def test_deadline_on_weekend_rolls_forward() -> None:
    case = Case("baybo-59")
    case.start(date(2025, 3, 3))
    result = case.do(
        "nachfordern",
        CLERK,
        date(2025, 3, 12),
        {**NACHFORDERUNG, "frist_bis": "2025-04-19", "hinweis_ruecknahmefiktion": True},
    )
    assert result.deadlines_started[0].due == date(2025, 4, 22)  # Sat, Easter, Ostermontag


def test_genehmigungsfiktion_across_month_end_and_holiday() -> None:
    case = Case("baybo-59", flags=["housing"])
    first = case.start(date(2028, 1, 10))
    fiction = next(d for d in first.deadlines_started if d.kind == "genehmigungsfiktion")
    # 10 Jan + 3 weeks = 31 Jan; + 3 months = 30 April (no 31st), a Sunday; 1 May is a holiday.
    assert fiction.anchor == date(2028, 1, 10)
    assert fiction.due == date(2028, 5, 2)
    assert fiction.public

    case.to_review(date(2028, 1, 20))
    assert case.instance.deadlines["genehmigungsfiktion"] == date(2028, 5, 2)
    with pytest.raises(DeadlineNotDue):
        case.fire("genehmigungsfiktion", date(2028, 5, 2))
    deemed = case.fire("genehmigungsfiktion", date(2028, 5, 3))
    assert deemed is not None
    assert deemed.state == "genehmigt_fiktion"
    assert deemed.instance.variables["fiktion_frist_endete_am"] == "2028-05-02"
    # the ticker informs the approver and clerk; the applicant hears once an official confirmed
    assert {e.params.get("to") for e in deemed.effects if e.type == "notify"} == {
        "approver",
        "clerk",
    }

    certificate = case.do("fiktionsbescheinigung_ausstellen", APPROVER, date(2028, 5, 4))
    assert certificate.state == "genehmigung_wirksam"
    (validity,) = certificate.deadlines_started
    assert validity.anchor == date(2028, 5, 2)
    assert validity.due == date(2032, 5, 3)  # 2 May 2032 is a Sunday


def test_fiction_clock_stops_during_nachforderung_and_restarts() -> None:
    case = Case("baybo-59", flags=["housing"])
    case.start(date(2025, 1, 13))
    assert case.instance.deadlines["genehmigungsfiktion"] == date(2025, 5, 5)
    stopped = case.do(
        "nachfordern",
        CLERK,
        date(2025, 1, 27),
        {**NACHFORDERUNG, "hinweis_ruecknahmefiktion": True},
    )
    assert set(stopped.deadlines_cancelled) == {"vollstaendigkeitspruefung", "genehmigungsfiktion"}
    assert "genehmigungsfiktion" not in stopped.instance.deadlines

    resumed = case.do(
        "unterlagen_nachreichen", APPLICANT, date(2025, 2, 8), {"nachgereicht_am": "2025-02-07"}
    )
    assert resumed.deadlines_cancelled == ("nachforderungsfrist",)
    started = {d.kind: d for d in resumed.deadlines_started}
    # 7 Feb + 3 weeks = 28 Feb (month end); + 3 months = 28 May 2025.
    assert started["genehmigungsfiktion"].anchor == date(2025, 2, 7)
    assert started["genehmigungsfiktion"].due == date(2025, 5, 28)
    assert started["vollstaendigkeitspruefung"].due == date(2025, 2, 28)


def test_no_fiction_without_housing_flag() -> None:
    case = Case("baybo-59")
    first = case.start(date(2025, 1, 13))
    assert "genehmigungsfiktion" not in first.instance.deadlines


def test_late_refusal_cannot_stop_the_fiction() -> None:
    case = Case("baybo-59", flags=["housing"])
    case.start(date(2025, 1, 13))  # fiction ends 5 May 2025
    case.to_review(date(2025, 1, 20))
    case.do("entscheidung_entwerfen", CLERK, date(2025, 4, 28))
    case.do("ablehnung_zeichnen", APPROVER, date(2025, 4, 30), {"begruendung": "§ 34 BauGB"})
    with pytest.raises(GuardBlocked) as blocked:
        case.do(
            "bekanntgabe_ablehnung_erfassen",
            CLERK,
            date(2025, 5, 7),
            {"bekanntgabe_am": "2025-05-06"},
        )
    assert blocked.value.reasons[0].code == "fiction_occurred"
    assert case.fired("genehmigungsfiktion", date(2025, 5, 6)).state == "genehmigt_fiktion"


def test_refusal_notified_in_time() -> None:
    case = Case("baybo-59", flags=["housing"])
    case.start(date(2025, 1, 13))
    case.to_review(date(2025, 1, 20))
    case.do("entscheidung_entwerfen", CLERK, date(2025, 4, 1))
    case.do("ablehnung_zeichnen", APPROVER, date(2025, 4, 2), {"begruendung": "§ 34 BauGB"})
    refused = case.do(
        "bekanntgabe_ablehnung_erfassen", CLERK, date(2025, 4, 8), {"bekanntgabe_am": "2025-04-07"}
    )
    assert refused.state == "abgelehnt"
    assert refused.deadlines_cancelled == ("genehmigungsfiktion",)


def _valid_permit() -> Case:
    case = Case("baybo-59")
    case.start(date(2025, 3, 3))
    case.to_review(date(2025, 3, 10))
    case.do("entscheidung_entwerfen", CLERK, date(2025, 3, 20))
    case.do("genehmigung_zeichnen", APPROVER, date(2025, 3, 21))
    case.do(
        "bekanntgabe_genehmigung_erfassen",
        CLERK,
        date(2025, 3, 25),
        {"bekanntgabe_am": "2025-03-24"},
    )
    return case


def test_validity_extension_and_lapse() -> None:
    case = _valid_permit()
    assert case.instance.deadlines["geltungsdauer"] == date(2029, 3, 26)  # 24 Mar 2029: Saturday
    with pytest.raises(InvalidInput) as invalid:
        case.do(
            "geltungsdauer_verlaengern",
            CLERK,
            date(2029, 1, 8),
            {"antrag_am": "2029-01-05", "verlaengerung_monate": 49},
        )
    assert invalid.value.errors["verlaengerung_monate"].code == "too_large"  # Art. 69 Abs. 2
    with pytest.raises(GuardBlocked, match="after the validity ended"):
        case.do(
            "geltungsdauer_verlaengern",
            CLERK,
            date(2029, 1, 8),
            {"antrag_am": "2029-03-27", "verlaengerung_monate": 24},
        )
    extended = case.do(
        "geltungsdauer_verlaengern",
        CLERK,
        date(2029, 1, 8),
        {"antrag_am": "2029-01-05", "verlaengerung_monate": 24},
    )
    assert extended.deadlines_cancelled == ("geltungsdauer",)
    # § 190 BGB: the extension counts from the unrolled end (Sat 24.03.2029), not the Monday
    assert extended.deadlines_started[0].anchor == date(2029, 3, 24)
    assert extended.deadlines_started[0].due == date(2031, 3, 24)
    lapsed = case.fire("geltungsdauer", date(2031, 3, 25))
    assert lapsed is not None and lapsed.state == "erloschen"


def test_available_actions_by_role() -> None:
    case = Case("baybo-59")
    case.start(date(2025, 3, 3))
    ctx = {**DOCS, "present_document_kinds": ["lageplan"]}
    clerk = {a.id: a for a in available_actions(case.definition, case.instance, ["clerk"], ctx)}
    assert set(clerk) == {
        "vollstaendigkeit_feststellen",
        "nachfordern",
        "ruecknahme_erklaeren",
        "wohnnutzung_feststellen",
        "fiktion_verzichten",
    }
    assert not clerk["vollstaendigkeit_feststellen"].enabled
    assert "baubeschreibung, bauzeichnung" in clerk["vollstaendigkeit_feststellen"].reasons[0].en
    assert clerk["nachfordern"].enabled
    applicant = available_actions(case.definition, case.instance, ["applicant"], ctx)
    assert [a.id for a in applicant] == ["fiktion_verzichten", "ruecknahme_erklaeren"]
    system = {a.id: a for a in available_actions(case.definition, case.instance, ["system"], ctx)}
    assert set(system) == {"vollstaendigkeitspruefung_ueberfaellig", "fiktion_eintreten"}
    assert not system["fiktion_eintreten"].enabled  # not flagged as housing
    assert available_actions(case.definition, case.instance, ["auditor"], ctx) == []


def test_refused_actions_raise_the_right_errors() -> None:
    case = Case("baybo-59")
    case.start(date(2025, 3, 3))
    with pytest.raises(UnknownAction):
        case.do("bauen", CLERK, date(2025, 3, 4))
    with pytest.raises(StaleState):
        case.do("genehmigung_zeichnen", APPROVER, date(2025, 3, 4))
    with pytest.raises(StaleState):
        case.do("eingang_erfassen", CLERK, date(2025, 3, 4))
    with pytest.raises(ActionNotAllowed):
        case.do("vollstaendigkeit_feststellen", APPLICANT, date(2025, 3, 4))
    with pytest.raises(StaleState):
        apply(
            case.definition,
            case.instance,
            "nachfordern",
            principal=CLERK,
            now=at(date(2025, 3, 4)),
            calendar=CAL,
            expected_state="beteiligung",
        )
    with pytest.raises(InvalidInput) as invalid:
        case.do(
            "nachfordern",
            CLERK,
            date(2025, 3, 4),
            {"maengel": "Lageplan", "frist_bis": "31.03.2025", "unbekannt": 1},
        )
    assert set(invalid.value.errors) == {
        "maengel",
        "frist_bis",
        "hinweis_ruecknahmefiktion",
        "unbekannt",
    }
    assert invalid.value.errors["hinweis_ruecknahmefiktion"].code == "required"
    with pytest.raises(InvalidContext):
        case.do("nachfordern", CLERK, date(2025, 3, 4), {}, unknown_key=True)
    other = replace(case.instance, definition_id="baybo-60")
    with pytest.raises(DefinitionMismatch):
        available_actions(case.definition, other, ["clerk"])


def test_apply_is_pure() -> None:
    case = Case("baybo-59", flags=["housing"])
    case.start(date(2025, 3, 3))
    before = instance_to_dict(case.instance)
    snapshot = case.instance
    first = case.do(
        "nachfordern", CLERK, date(2025, 3, 4), {**NACHFORDERUNG, "hinweis_ruecknahmefiktion": True}
    )
    case.results.pop()
    second = case.do(
        "nachfordern", CLERK, date(2025, 3, 4), {**NACHFORDERUNG, "hinweis_ruecknahmefiktion": True}
    )
    assert instance_to_dict(snapshot) == before
    assert first == second


def test_instance_round_trip_through_json() -> None:
    case = _valid_permit()
    data = instance_to_dict(case.instance)
    assert data["deadlines"] == {"geltungsdauer": "2029-03-26"}
    assert data["variables"]["bekanntgabe_am"] == "2025-03-24"
    assert instance_from_dict(data) == case.instance


def test_fire_returns_none_when_no_expiry_action_applies() -> None:
    case = Case("baybo-59", flags=["housing"])
    case.start(date(2025, 1, 13))
    definition, instance = case.definition, case.instance
    # The case was re-flagged as not residential after the clock started.
    kwargs: dict[str, Any] = {"now": at(date(2025, 5, 6)), "context": DOCS, "calendar": CAL}
    assert fire_deadline(definition, instance, "genehmigungsfiktion", **kwargs) is None
    assert "genehmigungsfiktion" not in instance.without_deadline("genehmigungsfiktion").deadlines
    with pytest.raises(DeadlineNotDue, match="not running"):
        fire_deadline(definition, instance, "geltungsdauer", **kwargs)
    with pytest.raises(UnknownAction):
        due_deadline_action(definition, instance, "mondfinsternis")


def test_package_is_pure() -> None:
    """`workflows` imports only the standard library, PyYAML and itself; reads no clock."""
    import ast
    import sys
    from pathlib import Path

    import workflows

    allowed = set(sys.stdlib_module_names) | {"yaml", "workflows", "__future__"}
    for path in Path(workflows.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= allowed, f"{path.name} imports {roots - allowed}"
        source = path.read_text(encoding="utf-8")
        for forbidden in ("datetime.now(", "date.today(", "os.environ", "getenv(", "time.time("):
            assert forbidden not in source, f"{path.name} uses {forbidden}"
