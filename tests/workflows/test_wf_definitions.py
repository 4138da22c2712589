"""The shipped procedure definitions load and follow the house rules."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from workflows import (
    DEFINITIONS_DIR,
    SYSTEM,
    Definition,
    definition_to_dict,
    load_all,
    load_definition,
)

DEFS = load_all()
# XBau message codes named in DOMAIN.md (Bauantrag, Vorbescheid, Beteiligung, Anzeigen,
# Kernmodul process messages).
XBAU_KNOWN = {
    "0200", "0201", "0205", "0210", "0215", "0300", "0303", "0310", "0900",
    "1120", "1130", "1140", "1150",
}  # fmt: skip


def test_all_shipped_definitions_load() -> None:
    assert list(DEFS) == ["baybo-58", "baybo-59", "baybo-60", "baybo-71"]
    for def_id, definition in DEFS.items():
        assert load_definition(DEFINITIONS_DIR / f"{def_id}.yaml") == definition
        assert definition.version >= 1


@pytest.mark.parametrize("definition", DEFS.values(), ids=list(DEFS))
def test_every_element_cites_its_legal_basis_and_is_bilingual(definition: Definition) -> None:
    for state in definition.states:
        assert state.legal_basis.strip(), state.id
        for text in (state.label, state.public_label):
            assert text.de.strip() and text.en.strip(), state.id
    for action in (definition.start, *definition.actions):
        assert action.legal_basis.strip(), action.id
        assert action.label.de.strip() and action.label.en.strip(), action.id
        assert re.fullmatch(r"[a-z][a-z0-9_]*", action.id)
        for field in action.inputs:
            assert field.label.de.strip() and field.label.en.strip(), (action.id, field.name)
    for rule in (*definition.deadlines, *definition.participations):
        assert rule.legal_basis.strip() and rule.label.de and rule.label.en, rule.id


@pytest.mark.parametrize("definition", DEFS.values(), ids=list(DEFS))
def test_xbau_codes_are_known(definition: Definition) -> None:
    codes = {a.xbau for a in (definition.start, *definition.actions) if a.xbau}
    codes |= {e.params["xbau"] for a in definition.actions for e in a.effects if "xbau" in e.params}
    for rule in definition.participations:
        codes |= {c for c in (rule.xbau_request, rule.xbau_statement) if c}
    assert codes <= XBAU_KNOWN


@pytest.mark.parametrize("definition", DEFS.values(), ids=list(DEFS))
def test_system_actions_are_fired_by_deadlines_only(definition: Definition) -> None:
    fired = {a for rule in definition.deadlines for a in rule.on_expiry}
    for action in definition.actions:
        if SYSTEM.roles & set(action.roles):
            assert action.roles == ("system",), action.id
            assert action.id in fired, f"{action.id} is never fired"


def test_fiction_only_in_simplified_procedure() -> None:
    with_fiction = [d.id for d in DEFS.values() if d.deadline("genehmigungsfiktion")]
    assert with_fiction == ["baybo-59"]
    rule = DEFS["baybo-59"].deadline("genehmigungsfiktion")
    assert rule is not None
    # Art. 68 Abs. 2 S. 1 BayBO: a late Nachforderung does not stop the clock, so it runs
    # in `nachforderung`; a timely one stops it (the `stop` trigger on `nachfordern`).
    # Art. 42a Abs. 1 BayVwVfG: signing does not stop it (`genehmigt`, `ablehnung_gezeichnet`).
    assert {"nachforderung", "genehmigt", "ablehnung_gezeichnet"} <= set(rule.active_in)
    assert ("nachfordern", ("nachforderung_before_fiction_start",)) in {
        (s.action, s.guards) for s in rule.stop
    }
    assert {t.action for t in rule.start} == {
        "eingang_erfassen",
        "unterlagen_nachreichen",
        "ruecknahmefiktion_aufheben",
        "wohnnutzung_feststellen",
    }


def test_shared_parts_are_included() -> None:
    for def_id in ("baybo-59", "baybo-60", "baybo-71"):
        definition = DEFS[def_id]
        assert definition.state("nachforderung") is not None
        assert definition.participation("gemeinde_einvernehmen") is not None
        assert definition.deadline("nachforderungsfrist") is not None


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.mark.parametrize("definition", DEFS.values(), ids=list(DEFS))
def test_definition_to_dict_is_json(definition: Definition) -> None:
    data = definition_to_dict(definition)
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    assert json.loads(text) == data
    assert data["id"] == definition.id
    assert data["initial_state"] == definition.initial_state
    assert len(data["states"]) == len(definition.states)
    assert "source" not in _keys(data)
    for guard in {g for a in definition.actions for g in a.guards}:
        assert data["guards"][guard]["de"]
