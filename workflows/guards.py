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
    de="Vorhaben dient ausschließlich oder überwiegend dem Wohnen (Fall-Merkmal `housing`).",
    en="The project is exclusively or mainly residential (case flag `housing`).",
)
def _housing(call: GuardCall) -> Reason | None:
    if "housing" in call.context.flags:
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
    due = call.instance.deadlines.get("geltungsdauer")
    applied = _as_date((call.input or {}).get("antrag_am"))
    if due is None or applied is None or applied <= due:
        return None
    return Reason(
        "extension_too_late",
        f"Der Antrag ging nach Ablauf der Geltungsdauer ({due.isoformat()}) ein.",
        f"The application arrived after the validity ended ({due.isoformat()}).",
    )
