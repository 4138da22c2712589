"""Audit actions as plain German sentences for the case history (issue 16).

The history of a case is read by officials, not by auditors of the hash chain: "Sachbearbeitung
hat den Vorgang angelegt", not `case.created`. Procedure steps and states are named by the
labels of the case's procedure definition (workflows/definitions), document kinds by their
German names; an action without a sentence of its own is still shown (never dropped).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

from eakte.documents.kinds import kind_label
from workflows.loader import load_versions
from workflows.model import Definition

Payload = dict[str, Any]


@cache
def _definitions() -> dict[str, tuple[Definition, ...]]:
    return load_versions()


def _definition(ref: object) -> Definition | None:
    """`baybo-59@2` (or `baybo-59`) to its definition; None if not installed."""
    if not isinstance(ref, str):
        return None
    procedure, _, version = ref.partition("@")
    versions = _definitions().get(procedure, ())
    found = next((d for d in versions if str(d.version) == version), None)
    return found or (versions[-1] if versions else None)


def state_label(definition: Definition | None, state: object) -> str:
    """The German label of a state (the id if the definition does not know it)."""
    found = definition.state(str(state)) if definition and state else None
    return found.label.de if found else str(state or "")


def action_label(definition: Definition | None, action: object) -> str:
    """The German label of a procedure step."""
    found = definition.action(str(action)) if definition and action else None
    if found is None and definition and definition.start.id == action:
        found = definition.start
    return found.label.de if found else str(action or "")


def _date(value: object) -> str:
    """An ISO date as TT.MM.JJJJ (the one date format of the web app)."""
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d.%m.%Y")
    except ValueError:
        return str(value)


def _transition(p: Payload) -> str:
    definition = _definition(p.get("procedure"))
    step = action_label(definition, p.get("action"))
    if p.get("from") is None:
        first = state_label(definition, p.get("to"))
        return f"hat das Verfahren begonnen: „{step}“ (Zustand: {first})"
    if p.get("from") == p.get("to"):
        return f"hat den Schritt „{step}“ ausgeführt"
    return (
        f"hat den Schritt „{step}“ ausgeführt: von „{state_label(definition, p.get('from'))}“ "
        f"nach „{state_label(definition, p.get('to'))}“"
    )


def _changed_fields(p: Payload) -> str:
    names = {
        "title": "Vorhaben",
        "description": "Beschreibung",
        "site": "Grundstück",
        "site_address": "Adresse",
        "site_gemarkung": "Gemarkung",
        "site_flurstueck": "Flurstück",
        "applicant": "Antragsteller",
        "applicant_name": "Antragsteller",
        "applicant_email": "E-Mail des Antragstellers",
        "housing": "Wohnnutzung",
    }
    changed: list[str] = []
    for key in p.get("changes") or {}:
        name = names.get(str(key), names.get(str(key).split(".")[0], str(key)))
        if name not in changed:
            changed.append(name)
    return f" ({', '.join(changed)})" if changed else ""


def _document(p: Payload) -> str:
    return f"„{p.get('title')}“" if p.get("title") else "ein Dokument"


def _document_updated(p: Payload) -> str:
    before, after = p.get("before") or {}, p.get("after") or {}
    parts = []
    if before.get("title") != after.get("title"):
        parts.append(f"umbenannt von „{before.get('title')}“ in „{after.get('title')}“")
    if before.get("kind") != after.get("kind"):
        parts.append(
            f"Art geändert von {kind_label(str(before.get('kind')))} "
            f"in {kind_label(str(after.get('kind')))}"
        )
    return "hat ein Dokument " + " und ".join(parts or ["geändert"])


_ANSWERS = {"consent": "Zustimmung", "objection": "Einwendungen", "refusal": "Ablehnung"}

SENTENCES: dict[str, Callable[[Payload], str]] = {
    "case.created": lambda p: f"hat den Vorgang {p.get('file_number', '')} angelegt".replace(
        "  ", " "
    ),
    "case.updated": lambda p: "hat die Angaben zum Vorgang geändert" + _changed_fields(p),
    "case.updated_from_workspace": lambda p: (
        "hat die Angaben zum Vorgang im Arbeitsbereich geändert" + _changed_fields(p)
    ),
    "case.closed": lambda p: "hat die Akte geschlossen",
    "case.reopened": lambda p: f"hat die Akte wieder geöffnet (Grund: {p.get('reason', '')})",
    "application.submitted": lambda p: (
        f"hat den Antrag online eingereicht (Eingang {_date(p.get('received_on'))})"
    ),
    "application.nachforderung_answered": lambda p: "hat nachgeforderte Unterlagen eingereicht",
    "document.created": lambda p: (
        f"hat das Dokument {_document(p)} ({kind_label(str(p.get('kind')))}) hinzugefügt"
    ),
    "document.version_added": lambda p: (
        f"hat Version {p.get('number')} hochgeladen ({p.get('filename', '')})"
    ),
    "document.updated": _document_updated,
    "document.withdrawn": lambda p: (
        f"hat das Dokument {_document(p)} zurückgezogen (Grund: {p.get('reason', '')})"
    ),
    "document.version_broken": lambda p: (
        f"Prüfung: Version {p.get('number')} eines Dokuments ist beschädigt oder fehlt"
    ),
    "document.version_restored": lambda p: (
        f"Prüfung: Version {p.get('number')} eines Dokuments ist wiederhergestellt"
    ),
    "process.transition": _transition,
    "process.deadline_fired": lambda p: (
        "Frist abgelaufen, die Rechtsfolge ist eingetreten: " + _transition(p)
    ),
    "process.deadline_expired": lambda p: f"Frist abgelaufen am {_date(p.get('due'))}",
    "participation.requested": lambda p: (
        f"hat {p.get('party', 'eine Stelle')} beteiligt (Frist bis {_date(p.get('due'))})"
    ),
    "participation.answered": lambda p: (
        "hat die Antwort einer Beteiligung erfasst: "
        + _ANSWERS.get(str(p.get("answer")), str(p.get("answer")))
        + (" (verspätet)" if p.get("late") else "")
    ),
    "participation.deemed": lambda p: (
        f"Beteiligungsfrist am {_date(p.get('due'))} ohne Antwort abgelaufen: "
        "Zustimmung gilt als erteilt"
        if p.get("means") == "consent"
        else f"Beteiligungsfrist am {_date(p.get('due'))} ohne Antwort abgelaufen"
    ),
    "issuing.drafted": lambda p: f"hat einen Bescheid entworfen ({p.get('letter_type', '')})",
    "issuing.signed": lambda p: f"hat den Bescheid gezeichnet ({p.get('letter_type', '')})",
    "issuing.bekanntgegeben": lambda p: "hat die Bekanntgabe des Bescheids erfasst",
    "workspace.version_created": lambda p: (
        f"hat den Arbeitsstand als Version „{p.get('name', '')}“ gesichert"
    ),
    "workspace.edited": lambda p: (
        f"hat im Arbeitsbereich gearbeitet ({p.get('updates', 1)} Änderung"
        + ("en)" if p.get("updates", 1) != 1 else ")")
    ),
    "workspace.restored": lambda p: "hat einen früheren Arbeitsstand wiederhergestellt",
    "outbox.delivered": lambda p: "hat eine Nachricht zugestellt",
    "outbox.delivery_failed": lambda p: (
        "konnte eine Nachricht nicht zustellen (wird erneut versucht oder gemeldet)"
    ),
    "outbox.requeued": lambda p: "hat eine gescheiterte Nachricht erneut zum Versand gegeben",
    "outbox.webhook_registered": lambda p: "hat einen Webhook eingerichtet",
    "outbox.webhook_removed": lambda p: "hat einen Webhook entfernt",
    "issuing.letterhead_saved": lambda p: "hat den Briefkopf gespeichert",
    "issuing.template_saved": lambda p: "hat eine Vorlage gespeichert",
    "records.appraised": lambda p: "hat die Akte bewertet (Archivwürdigkeit)",
    "records.destruction_decided": lambda p: "hat die Vernichtung der Akte beschlossen",
    "records.file_plan_changed": lambda p: "hat den Aktenplan geändert",
    "records.import_confirmed": lambda p: "Das Archiv hat die Übernahme der Akte bestätigt",
    "records.hold_set": lambda p: (
        f"hat eine Aufbewahrungssperre gesetzt (Grund: {p.get('reason', '')})"
    ),
    "records.hold_lifted": lambda p: "hat die Aufbewahrungssperre aufgehoben",
    "records.offered": lambda p: "hat die Akte dem Archiv angeboten",
    "records.handed_over": lambda p: "hat die Akte an das Archiv abgegeben",
    "records.destroyed": lambda p: "hat die Akte nach Ablauf der Aufbewahrungsfrist vernichtet",
    "xbau.message_received": lambda p: (
        "hat eine XBau-Nachricht empfangen"
        + (f" (weitere Angaben: {p['weitere_angaben']})" if p.get("weitere_angaben") else "")
    ),
    "xbau.message_queued": lambda p: "hat eine XBau-Nachricht zum Versand bereitgestellt",
    "xbau.message_acknowledged": lambda p: "hat den Empfang einer XBau-Nachricht quittiert",
    "xbau.message_delivered": lambda p: "hat eine XBau-Nachricht an den Intermediär zugestellt",
    "xbau.push_configured": lambda p: "hat den XBau-Versandweg (Push) eingerichtet",
    "xbau.push_removed": lambda p: "hat den XBau-Versandweg (Push) entfernt",
    "case.assigned": lambda p: "hat Sachbearbeitung und Vertretung des Vorgangs festgelegt",
    "case.updated_from_xbau": lambda p: (
        "hat den Vorgang nach einer XBau-Änderungsnachricht geändert"
    ),
    "issuing.draft_updated": lambda p: "hat einen Schreibentwurf ergänzt",
    "issuing.effect_letter_not_drafted": lambda p: (
        "Ein Schreiben zu einem Verfahrensschritt konnte nicht entworfen werden"
    ),
    "issuing.provision_lapsed": lambda p: (
        "Die Bereitstellung zum Abruf ist ohne Abruf beendet (Art. 41 Abs. 2a BayVwVfG)"
    ),
    "issuing.retrieved": lambda p: "hat das bereitgestellte Schreiben abgerufen",
    "postroom.batch_created": lambda p: "hat den Druckstapel der Poststelle erstellt",
    "postroom.batch_posted": lambda p: "hat den Druckstapel als zur Post gegeben vermerkt",
    "records.archive_endpoint_set": lambda p: "hat die Übergabeadresse des Archivs eingerichtet",
    "records.archive_endpoint_removed": lambda p: "hat die Übergabeadresse des Archivs entfernt",
}


def describe(action: str, payload: Payload) -> str:
    """What happened, as the predicate of a German sentence (the actor goes in front)."""
    sentence = SENTENCES.get(action)
    if sentence is None:
        return f"Eintrag „{action}“"
    try:
        return sentence(payload)
    except (AttributeError, TypeError, ValueError):
        return f"Eintrag „{action}“"


def sentence(actor: str, actor_name: str | None, action: str, payload: Payload) -> str:
    """Who did what, as one German sentence; the system's own events stand without an actor."""
    what = describe(action, payload)
    if actor_name is None and (actor == "system" or actor.startswith("system:")):
        return f"Das System {what}" if what.startswith("hat ") else what[:1].upper() + what[1:]
    return f"{actor_name or actor} {what}"
