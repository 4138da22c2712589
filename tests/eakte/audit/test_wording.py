"""The case history in plain German: every audit action the service records has a sentence."""

from __future__ import annotations

import re
from pathlib import Path

from eakte.audit.wording import SENTENCES, describe, sentence

EAKTE = Path(__file__).resolve().parents[3] / "eakte"
ACTION = re.compile(r'(?:action=|^[A-Z_]+ = )"([a-z]+\.[a-z_]+)"', re.MULTILINE)


def _recorded_actions() -> set[str]:
    found: set[str] = set()
    for path in EAKTE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(ACTION.findall(text))
        found.update(re.findall(r'"(outbox\.[a-z_]+)" if', text))
        found.update(re.findall(r'else "(outbox\.[a-z_]+)"', text))
    return found


def test_every_recorded_action_has_a_german_sentence() -> None:
    actions = _recorded_actions()
    assert {"case.created", "workspace.edited", "outbox.delivery_failed"} <= actions
    assert sorted(actions - set(SENTENCES)) == []


def test_transition_names_step_and_states_by_their_labels() -> None:
    text = describe(
        "process.transition",
        {
            "procedure": "baybo-59@2",
            "action": "nachfordern",
            "from": "eingegangen",
            "to": "nachforderung",
        },
    )
    assert "„Unterlagen nachfordern“" in text
    assert "_" not in text and "baybo" not in text


def test_dates_in_one_format_and_system_events_without_an_actor() -> None:
    text = sentence("system", None, "process.deadline_expired", {"due": "2027-01-31"})
    assert text == "Frist abgelaufen am 31.01.2027"
    assert sentence("clerk-1", "Anna Amt", "case.closed", {}) == "Anna Amt hat die Akte geschlossen"


def test_an_unknown_action_or_payload_is_still_shown() -> None:
    assert describe("future.thing", {}) == "Eintrag „future.thing“"
    assert "Dokument" in describe("document.updated", {"before": None, "after": None})
