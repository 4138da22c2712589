"""Named guards: pure checks over the service's context, the instance and the input.

A guard returns None when it passes and a `Reason` (German and English) when it blocks.
Definitions name guards; the loader rejects names not registered here. Register more
with `@register_guard(...)` before loading definitions that use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflows.errors import Reason
from workflows.instance import Context, Instance
from workflows.model import Text


@dataclass(frozen=True)
class GuardCall:
    """Everything a guard may look at; `input` is None while only listing actions."""

    action: str
    instance: Instance
    context: Context
    principal_id: str | None
    input: Mapping[str, Any] | None
    today: date | None = None
    """The day the action is taken (None while only listing actions without a clock)."""


GuardCheck = Callable[[GuardCall], Reason | None]


@dataclass(frozen=True)
class Guard:
    """A registered guard with a description for the generated docs."""

    name: str
    description: Text
    check: GuardCheck


GUARDS: dict[str, Guard] = {}


def register_guard(name: str, *, de: str, en: str) -> Callable[[GuardCheck], GuardCheck]:
    """Decorator registering `check` under `name` with a bilingual description."""

    def decorate(check: GuardCheck) -> GuardCheck:
        GUARDS[name] = Guard(name, Text(de, en), check)
        return check

    return decorate


def evaluate_guards(names: Iterable[str], call: GuardCall) -> list[Reason]:
    """Run the named guards in order; the reasons of all that block."""
    reasons: list[Reason] = []
    for name in names:
        reason = GUARDS[name].check(call)
        if reason is not None:
            reasons.append(reason)
    return reasons


def _variable(call: GuardCall, name: str) -> Any:
    return call.instance.variables.get(name)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return None


@register_guard(
    "required_documents_present",
    de="Alle erforderlichen Bauvorlagen liegen vor.",
    en="All required Bauvorlagen (building documents) are on file.",
)
def _required_documents_present(call: GuardCall) -> Reason | None:
    missing = sorted(call.context.required_document_kinds - call.context.present_document_kinds)
    if not missing:
        return None
    listed = ", ".join(missing)
    return Reason(
        "documents_missing",
        f"Es fehlen erforderliche Bauvorlagen: {listed}.",
        f"Required documents are missing: {listed}.",
    )


@register_guard(
    "no_open_participations",
    de="Alle Beteiligungen sind beantwortet oder gelten als beantwortet.",
    en="All participations are answered or deemed answered.",
)
def _no_open_participations(call: GuardCall) -> Reason | None:
    n = call.context.open_participations
    if n == 0:
        return None
    return Reason(
        "participations_open",
        f"{n} Beteiligung(en) sind noch offen (weder beantwortet noch Frist abgelaufen).",
        f"{n} participation(s) still open (neither answered nor expired).",
    )


@register_guard(
    "four_eyes",
    de="Vier-Augen-Prinzip: wer den Entwurf erstellt hat, zeichnet nicht.",
    en="Four-eyes rule: the drafter of the decision cannot sign it.",
)
def _four_eyes(call: GuardCall) -> Reason | None:
    drafter = call.context.decision_drafter_id or _variable(call, "entwurf_von")
    if not drafter:
        return Reason(
            "no_draft",
            "Es ist kein Entscheidungsentwurf erfasst.",
            "No decision draft has been recorded.",
        )
    if call.principal_id is None or call.principal_id == drafter:
        return Reason(
            "four_eyes",
            "Vier-Augen-Prinzip: Der Verfasser des Entwurfs darf nicht selbst zeichnen.",
            "Four-eyes rule: the drafter of the decision cannot sign it.",
        )
    return None


def _notice_given(call: GuardCall) -> bool:
    given = call.context.withdrawal_notice_given
    if given is None:
        given = bool(_variable(call, "hinweis_ruecknahmefiktion"))
    return given


@register_guard(
    "withdrawal_notice_given",
    de="Auf die Rücknahmefiktion wurde hingewiesen (Art. 65 Abs. 1 S. 3 BayBO).",
    en="The applicant was told the application counts as withdrawn if the deadline passes.",
)
def _withdrawal_notice_given(call: GuardCall) -> Reason | None:
    if _notice_given(call):
        return None
    return Reason(
        "no_withdrawal_notice",
        "Ohne Hinweis auf die Rücknahmefiktion gilt der Antrag nicht als zurückgenommen.",
        "Without the notice the application does not count as withdrawn.",
    )


@register_guard(
    "withdrawal_notice_not_given",
    de="Auf die Rücknahmefiktion wurde nicht hingewiesen.",
    en="The applicant was not told about the deemed withdrawal.",
)
def _withdrawal_notice_not_given(call: GuardCall) -> Reason | None:
    if not _notice_given(call):
        return None
    return Reason(
        "withdrawal_notice_given",
        "Der Hinweis auf die Rücknahmefiktion wurde erteilt.",
        "The notice of deemed withdrawal was given.",
    )


@register_guard(
    "housing",
    de="Vorhaben dient ausschließlich oder überwiegend dem Wohnen: Feststellung der Behörde "
    "(Variable `wohnnutzung`), sonst die Angabe im Antrag (Fall-Merkmal `housing`).",
    en="The project is exclusively or mainly residential: the authority's finding "
    "(variable `wohnnutzung`), else the application's statement (case flag `housing`).",
)
def _housing(call: GuardCall) -> Reason | None:
    finding = _variable(call, "wohnnutzung")
    housing = finding if isinstance(finding, bool) else "housing" in call.context.flags
    if housing:
        return None
    return Reason(
        "not_housing",
        "Das Vorhaben ist nicht als Wohnvorhaben gekennzeichnet.",
        "The case is not flagged as a housing project.",
    )


@register_guard(
    "municipal_consent_not_refused",
    de="Das gemeindliche Einvernehmen ist nicht verweigert (oder wurde ersetzt).",
    en="The municipality's consent is not refused (or was replaced).",
)
def _municipal_consent_not_refused(call: GuardCall) -> Reason | None:
    if call.context.municipal_consent != "refused":
        return None
    return Reason(
        "municipal_consent_refused",
        "Die Gemeinde hat ihr Einvernehmen verweigert; es muss erst ersetzt werden (Art. 67).",
        "The municipality refused its consent; it must be replaced first (Art. 67 BayBO).",
    )


@register_guard(
    "notified_before_fiction_deadline",
    de="Die Bekanntgabe liegt vor Ablauf der Fiktionsfrist (Art. 42a BayVwVfG).",
    en="Notification falls before the approval-by-silence deadline ends.",
)
def _notified_before_fiction_deadline(call: GuardCall) -> Reason | None:
    due = call.instance.deadlines.get("genehmigungsfiktion")
    notified = _as_date((call.input or {}).get("bekanntgabe_am"))
    if due is None or notified is None or notified <= due:
        return None
    return Reason(
        "fiction_occurred",
        f"Bekanntgabe nach Ablauf der Fiktionsfrist ({due.isoformat()}): "
        "die Genehmigung gilt als erteilt.",
        f"Notified after the deadline ({due.isoformat()}): the permit is deemed granted.",
    )


@register_guard(
    "extension_applied_in_time",
    de="Der Verlängerungsantrag ging vor Ablauf der Geltungsdauer ein.",
    en="The extension was applied for before the validity ended.",
)
def _extension_applied_in_time(call: GuardCall) -> Reason | None:
    due = call.instance.deadlines.get("geltungsdauer") or _as_date(
        _variable(call, "geltungsdauer_endete_am")
    )
    applied = _as_date((call.input or {}).get("antrag_am"))
    if due is None or applied is None or applied <= due:
        return None
    return Reason(
        "extension_too_late",
        f"Der Antrag ging nach Ablauf der Geltungsdauer ({due.isoformat()}) ein.",
        f"The application arrived after the validity ended ({due.isoformat()}).",
    )


FIKTION = "genehmigungsfiktion"
FIKTION_OFFSET_DAYS = 21  # Art. 68 Abs. 2 S. 1 BayBO: three weeks after receipt


def _input_date(call: GuardCall, name: str) -> date | None:
    return _as_date((call.input or {}).get(name))


@register_guard(
    "challenge_within_validity",
    de="Der Rechtsbehelf wurde vor Ablauf der Geltungsdauer eingelegt und nicht in der Zukunft "
    "(Art. 69 Abs. 1 Hs. 2 BayBO).",
    en="The challenge was lodged before the validity ended, and not in the future.",
)
def _challenge_within_validity(call: GuardCall) -> Reason | None:
    due = call.instance.deadlines.get("geltungsdauer")
    lodged = _input_date(call, "eingelegt_am")
    if lodged is None:
        return None
    if call.today is not None and lodged > call.today:
        return Reason(
            "challenge_in_future",
            f"Der Rechtsbehelf kann nicht in der Zukunft eingelegt sein ({lodged:%d.%m.%Y}).",
            f"The challenge cannot be lodged in the future ({lodged.isoformat()}).",
        )
    if due is not None and lodged > due:
        return Reason(
            "challenge_after_validity",
            f"Die Geltungsdauer endete am {due:%d.%m.%Y}, vor dem Rechtsbehelf: sie kann nicht "
            "mehr gehemmt werden.",
            f"The validity ended on {due.isoformat()}, before the challenge: it cannot be "
            "suspended any more.",
        )
    return None


@register_guard(
    "challenge_ended_after_start",
    de="Der Rechtsbehelf endete nicht vor seinem Beginn und nicht in der Zukunft.",
    en="The challenge did not end before it began, nor in the future.",
)
def _challenge_ended_after_start(call: GuardCall) -> Reason | None:
    began = _as_date(_variable(call, "hemmung_seit"))
    ended = _input_date(call, "erledigt_am")
    if ended is None:
        return None
    if call.today is not None and ended > call.today:
        return Reason(
            "challenge_end_in_future",
            f"Das Ende des Rechtsbehelfs liegt in der Zukunft ({ended:%d.%m.%Y}).",
            f"The end of the challenge lies in the future ({ended.isoformat()}).",
        )
    if began is not None and ended < began:
        return Reason(
            "challenge_end_before_start",
            f"Das Ende ({ended:%d.%m.%Y}) liegt vor dem Beginn ({began:%d.%m.%Y}).",
            f"The end ({ended.isoformat()}) lies before the start ({began.isoformat()}).",
        )
    return None


def fiction_clock_begins(instance: Instance) -> date | None:
    """The day the Genehmigungsfiktion's three months begin (recorded by the engine)."""
    begins = (instance.variables.get("fristbeginn") or {}).get(FIKTION)
    if begins:
        return _as_date(begins)
    anchor = _as_date(
        instance.variables.get("fiktion_anker") or instance.variables.get("eingang_am")
    )
    if anchor is None:
        return None
    return date.fromordinal(anchor.toordinal() + FIKTION_OFFSET_DAYS)


@register_guard(
    "nachforderung_before_fiction_start",
    de="Die Nachforderung wurde vor Beginn der Fiktionsfrist versandt (Art. 68 Abs. 2 S. 1 "
    "BayBO); nur dann beginnt die Frist erst mit Eingang der Unterlagen neu.",
    en="The request for documents was sent before the approval-by-silence period began "
    "(Art. 68 Abs. 2 S. 1 BayBO); only then does the period restart.",
)
def _nachforderung_before_fiction_start(call: GuardCall) -> Reason | None:
    sent = _input_date(call, "versandt_am") or call.today
    begins = fiction_clock_begins(call.instance)
    if sent is None or begins is None or sent <= begins:
        return None
    return Reason(
        "nachforderung_after_fiction_start",
        f"Die Nachforderung wurde nach Beginn der Fiktionsfrist ({begins:%d.%m.%Y}) versandt; "
        "die Frist läuft weiter (Art. 68 Abs. 2 S. 1 BayBO).",
        f"The request was sent after the period began ({begins.isoformat()}); "
        "the approval-by-silence period keeps running.",
    )


@register_guard(
    "no_timely_nachforderung_open",
    de="Keine vor Beginn der Fiktionsfrist versandte Nachforderung ist offen; sonst beginnt die "
    "Frist erst drei Wochen nach Eingang der letzten nachgeforderten Unterlage "
    "(Art. 68 Abs. 2 S. 1 BayBO).",
    en="No request for documents sent before the approval-by-silence period began is open; "
    "otherwise the period begins three weeks after the last requested item arrives.",
)
def _no_timely_nachforderung_open(call: GuardCall) -> Reason | None:
    is_open = _variable(call, "nachforderung_offen")
    if is_open is None:  # instances recorded before the variable existed
        is_open = call.instance.state == "nachforderung"
    if not is_open:
        return None
    sent = _as_date(_variable(call, "nachforderung_versandt_am")) or _as_date(
        _variable(call, "nachforderung_erfasst_am")
    )
    begins = fiction_clock_begins(call.instance)
    if sent is None or begins is None or sent > begins:
        return None  # a late Nachforderung does not hold the clock back
    return Reason(
        "timely_nachforderung_open",
        f"Die Nachforderung vom {sent:%d.%m.%Y} ging vor Beginn der Fiktionsfrist "
        f"({begins:%d.%m.%Y}) hinaus und ist offen: die Frist beginnt erst drei Wochen nach "
        "Eingang der letzten nachgeforderten Unterlage (Art. 68 Abs. 2 S. 1 BayBO).",
        f"The request of {sent.isoformat()} was sent before the period began "
        f"({begins.isoformat()}) and is open: the period begins three weeks after the last "
        "requested item arrives.",
    )


@register_guard(
    "genehmigungsfiktion_not_running",
    de="Die Fiktionsfrist läuft nicht (schon) weiter.",
    en="The approval-by-silence period is not (still) running.",
)
def _fiction_not_running(call: GuardCall) -> Reason | None:
    if FIKTION not in call.instance.deadlines:
        return None
    return Reason(
        "fiction_running",
        "Die Fiktionsfrist läuft bereits.",
        "The approval-by-silence period is already running.",
    )


def _requested(call: GuardCall) -> list[str]:
    return [str(v) for v in (_variable(call, "nachgefordert") or [])]


def _received(call: GuardCall) -> dict[str, Any]:
    return dict(_variable(call, "nachforderung_eingaenge") or {})


@register_guard(
    "requested_items_known",
    de="Die genannten Unterlagen wurden nachgefordert.",
    en="The named items were requested.",
)
def _requested_items_known(call: GuardCall) -> Reason | None:
    named = [str(v) for v in (call.input or {}).get("unterlagen") or []]
    unknown = sorted(set(named) - set(_requested(call)))
    if not unknown:
        return None
    listed = ", ".join(unknown)
    return Reason(
        "item_not_requested",
        f"Nicht nachgefordert: {listed}.",
        f"Not requested: {listed}.",
    )


@register_guard(
    "requested_items_complete",
    de="Alle nachgeforderten Unterlagen sind eingegangen (erst dann beginnt die Frist neu).",
    en="Every requested item has arrived (only then does the period restart).",
)
def _requested_items_complete(call: GuardCall) -> Reason | None:
    if call.input is None or _input_date(call, "nachgereicht_am") is not None:
        return None
    missing = sorted(set(_requested(call)) - set(_received(call)))
    if not missing:
        return None
    listed = ", ".join(missing)
    return Reason(
        "requested_items_missing",
        f"Noch nicht eingegangen: {listed}. Eine Teilantwort setzt die Frist nicht neu in Gang.",
        f"Not yet arrived: {listed}. A partial answer does not restart the period.",
    )


@register_guard(
    "documents_arrived_in_time",
    de="Die Unterlagen gingen spätestens am letzten Tag der Nachforderungsfrist ein.",
    en="The documents arrived on or before the last day of the deadline.",
)
def _documents_arrived_in_time(call: GuardCall) -> Reason | None:
    due = _as_date(_variable(call, "nachforderungsfrist_endete_am"))
    arrived = _input_date(call, "eingegangen_am")
    if due is None or arrived is None or arrived <= due:
        return None
    return Reason(
        "documents_late",
        f"Eingang am {arrived:%d.%m.%Y} nach Fristende ({due:%d.%m.%Y}): "
        "die Rücknahmefiktion bleibt.",
        f"Arrival on {arrived.isoformat()} after the deadline ({due.isoformat()}).",
    )


@register_guard(
    "notified_before_fiction_took_effect",
    de="Die Entscheidung wurde vor Ablauf der Fiktionsfrist bekanntgegeben (Art. 42a BayVwVfG).",
    en="The decision was notified before the approval-by-silence period ended.",
)
def _notified_before_fiction_took_effect(call: GuardCall) -> Reason | None:
    due = _as_date(_variable(call, "fiktion_frist_endete_am"))
    notified = _input_date(call, "bekanntgabe_am")
    if due is None or notified is None or notified <= due:
        return None
    return Reason(
        "fiction_occurred",
        f"Bekanntgabe am {notified:%d.%m.%Y} nach Fristende ({due:%d.%m.%Y}): "
        "die Genehmigungsfiktion ist eingetreten.",
        f"Notified on {notified.isoformat()} after the period ended ({due.isoformat()}).",
    )


@register_guard(
    "finding_housing",
    de="Die Behörde stellt fest: Wohnvorhaben (Art. 68 Abs. 2 BayBO).",
    en="The authority finds: residential project.",
)
def _finding_housing(call: GuardCall) -> Reason | None:
    if (call.input or {}).get("wohnnutzung") is True:
        return None
    return Reason("finding_not_housing", "Kein Wohnvorhaben festgestellt.", "Not housing.")


@register_guard(
    "finding_not_housing",
    de="Die Behörde stellt fest: kein Wohnvorhaben.",
    en="The authority finds: not a residential project.",
)
def _finding_not_housing(call: GuardCall) -> Reason | None:
    if (call.input or {}).get("wohnnutzung") is False:
        return None
    return Reason("finding_housing", "Wohnvorhaben festgestellt.", "Housing.")


@register_guard(
    "fiction_not_waived",
    de="Der Antragsteller hat nicht auf die Genehmigungsfiktion verzichtet (Art. 68 Abs. 2 S. 2).",
    en="The applicant has not waived approval by silence.",
)
def _fiction_not_waived(call: GuardCall) -> Reason | None:
    if not _variable(call, "fiktion_verzicht"):
        return None
    return Reason(
        "fiction_waived",
        "Auf die Genehmigungsfiktion wurde verzichtet.",
        "Approval by silence was waived.",
    )


@register_guard(
    "extension_pending",
    de="Ein rechtzeitig eingegangener Verlängerungsantrag ist noch nicht entschieden.",
    en="An extension application that arrived in time is still undecided.",
)
def _extension_pending(call: GuardCall) -> Reason | None:
    if _variable(call, "verlaengerungsantrag_am"):
        return None
    return Reason("no_extension_pending", "Kein Verlängerungsantrag anhängig.", "None pending.")


@register_guard(
    "no_extension_pending",
    de="Kein Verlängerungsantrag ist anhängig.",
    en="No extension application is pending.",
)
def _no_extension_pending(call: GuardCall) -> Reason | None:
    if not _variable(call, "verlaengerungsantrag_am"):
        return None
    return Reason(
        "extension_pending",
        "Ein rechtzeitiger Verlängerungsantrag ist anhängig: die Genehmigung erlischt nicht.",
        "A timely extension application is pending: the permit does not lapse.",
    )


@register_guard(
    "declaration_reached_applicant_in_time",
    de="Die Erklärung der Gemeinde ging dem Bauherrn innerhalb der Monatsfrist zu "
    "(Art. 58 Abs. 2 Nr. 4 BayBO).",
    en="The municipality's declaration reached the applicant within the month.",
)
def _declaration_in_time(call: GuardCall) -> Reason | None:
    due = call.instance.deadlines.get("freistellungsfrist")
    reached = _input_date(call, "zugang_beim_bauherrn_am")
    if due is None or reached is None or reached <= due:
        return None
    return Reason(
        "declaration_too_late",
        f"Zugang am {reached:%d.%m.%Y} nach Ablauf der Monatsfrist ({due:%d.%m.%Y}): "
        "die Erklärung ist verspätet, der Bauherr darf bauen.",
        f"Reached the applicant on {reached.isoformat()}, after the month ended "
        f"({due.isoformat()}): too late.",
    )


@register_guard(
    "submission_counts_as_application",
    de="Der Bauherr hat bestimmt, dass die Vorlage als Bauantrag zu behandeln ist.",
    en="The applicant asked that the submission counts as a permit application.",
)
def _submission_counts(call: GuardCall) -> Reason | None:
    if _variable(call, "als_bauantrag_behandeln"):
        return None
    return Reason(
        "not_an_application",
        "Der Bauherr hat nicht bestimmt, dass die Vorlage als Bauantrag gilt: die Unterlagen "
        "gehen zurück.",
        "The applicant did not ask for the submission to count as an application.",
    )


@register_guard(
    "submission_not_an_application",
    de="Der Bauherr hat nicht bestimmt, dass die Vorlage als Bauantrag zu behandeln ist.",
    en="The applicant did not ask that the submission counts as a permit application.",
)
def _submission_not_application(call: GuardCall) -> Reason | None:
    if not _variable(call, "als_bauantrag_behandeln"):
        return None
    return Reason(
        "is_an_application",
        "Die Vorlage gilt auf Wunsch des Bauherrn als Bauantrag.",
        "The submission counts as an application at the applicant's request.",
    )
