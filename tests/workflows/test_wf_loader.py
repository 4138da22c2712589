"""The loader rejects broken definitions with messages naming the file and the element."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from workflows import DefinitionError, load_all, load_definition

L = {"de": "Etwas", "en": "Something"}


def minimal(def_id: str = "test-proc") -> dict[str, Any]:
    """A small sound definition to break in the tests."""
    return {
        "id": def_id,
        "version": 1,
        "title": {"de": "Testverfahren", "en": "Test procedure"},
        "legal_basis": "Art. 1 TestG",
        "start": {
            "id": "eingang",
            "label": L,
            "to": "offen",
            "roles": ["applicant"],
            "legal_basis": "Art. 1 TestG",
            "inputs": [{"name": "eingang_am", "type": "date", "label": L}],
        },
        "states": [
            {"id": "offen", "label": L, "public_label": L, "legal_basis": "Art. 2 TestG"},
            {
                "id": "erledigt",
                "label": L,
                "public_label": L,
                "legal_basis": "Art. 3 TestG",
                "final": True,
            },
        ],
        "actions": [
            {
                "id": "erledigen",
                "label": L,
                "from": ["offen"],
                "to": "erledigt",
                "roles": ["clerk"],
                "legal_basis": "Art. 3 TestG",
                "xbau": "0201",
            },
            {
                "id": "ablaufen",
                "label": L,
                "from": ["offen"],
                "to": "erledigt",
                "roles": ["system"],
                "legal_basis": "Art. 4 TestG",
            },
        ],
        "deadlines": [
            {
                "id": "frist",
                "label": L,
                "legal_basis": "Art. 4 TestG",
                "start": [{"action": "eingang", "anchor": "$input.eingang_am"}],
                "period": {"amount": 1, "unit": "months"},
                "active_in": ["offen"],
                "on_expiry": ["ablaufen"],
            }
        ],
    }


def write(directory: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = directory / (name or f"{data['id']}.yaml")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def broken(directory: Path, change: Callable[[dict[str, Any]], None]) -> DefinitionError:
    data = copy.deepcopy(minimal())
    change(data)
    path = write(directory, data, name="test-proc.yaml")
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    return info.value


def new_state(state_id: str, final: bool = False) -> dict[str, Any]:
    return {"id": state_id, "label": L, "public_label": L, "legal_basis": "Art. 9", "final": final}


def test_minimal_definition_loads(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path, minimal()))
    assert definition.id == "test-proc"
    assert definition.initial_state == "offen"
    assert [a.id for a in definition.actions] == ["erledigen", "ablaufen"]


def _action(data: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(a for a in data["actions"] if a["id"] == action_id)


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    (
        "unknown target state",
        lambda d: _action(d, "erledigen").update(to="nirgendwo"),
        "action 'erledigen'.to",
        "unknown state 'nirgendwo'",
    ),
    (
        "unknown source state",
        lambda d: _action(d, "erledigen").update({"from": ["offen", "geisterhaft"]}),
        "action 'erledigen'.from",
        "unknown state 'geisterhaft'",
    ),
    (
        "action without a source state",
        lambda d: _action(d, "erledigen").update({"from": []}),
        "action 'erledigen'.from",
        "names no state to start from",
    ),
    (
        "unknown role",
        lambda d: _action(d, "erledigen").update(roles=["clerk", "hausmeister"]),
        "action 'erledigen'.roles",
        "unknown role 'hausmeister'",
    ),
    (
        "unreachable state",
        lambda d: d["states"].append(new_state("verwaist", final=True)),
        "state 'verwaist'",
        "unreachable",
    ),
    (
        "non-final state without a way out",
        lambda d: (
            d["states"].append(new_state("sackgasse")),
            _action(d, "erledigen").update(to="sackgasse"),
        ),
        "state 'sackgasse'",
        "no way to a final state",
    ),
    (
        "state with only a self-loop",
        lambda d: (
            d["states"].append(new_state("kreis")),
            _action(d, "erledigen").update(to="kreis"),
            d["actions"].append(
                {
                    "id": "drehen",
                    "label": L,
                    "from": ["kreis"],
                    "to": "kreis",
                    "roles": ["clerk"],
                    "legal_basis": "Art. 9",
                }
            ),
        ),
        "state 'kreis'",
        "no way to a final state",
    ),
    (
        "duplicate action id",
        lambda d: d["actions"].append(copy.deepcopy(_action(d, "erledigen"))),
        "action 'erledigen'",
        "duplicate action id",
    ),
    (
        "action id equal to the start id",
        lambda d: _action(d, "erledigen").update(id="eingang"),
        "action 'eingang'",
        "duplicate action id",
    ),
    (
        "duplicate state id",
        lambda d: d["states"].append(new_state("offen")),
        "state 'offen'",
        "duplicate state id",
    ),
    (
        "unknown guard",
        lambda d: _action(d, "erledigen").update(guards=["vollmond"]),
        "action 'erledigen'.guards",
        "unknown guard 'vollmond'",
    ),
    (
        "deadline started by an unknown action",
        lambda d: d["deadlines"][0]["start"].append({"action": "zaubern", "anchor": "$today"}),
        "deadline 'frist'.start[1]",
        "unknown action 'zaubern'",
    ),
    (
        "unknown expiry action",
        lambda d: d["deadlines"][0].update(on_expiry=["verschwinden"]),
        "deadline 'frist'.on_expiry",
        "unknown action 'verschwinden'",
    ),
    (
        "expiry action not open to the system actor",
        lambda d: d["deadlines"][0].update(on_expiry=["erledigen"]),
        "deadline 'frist'.on_expiry",
        "does not allow role 'system'",
    ),
    (
        "reference to a deadline rule that does not exist",
        lambda d: _action(d, "erledigen").update(record={"ende": "$deadline.gibtsnicht"}),
        "action 'erledigen'.record.ende",
        "unknown deadline rule 'gibtsnicht'",
    ),
    (
        "cancelling a deadline rule that does not exist",
        lambda d: _action(d, "erledigen").update(cancel_deadlines=["phantom"]),
        "action 'erledigen'.cancel_deadlines",
        "unknown deadline 'phantom'",
    ),
    (
        "unknown period unit",
        lambda d: d["deadlines"][0].update(period={"amount": 2, "unit": "fortnights"}),
        "deadline 'frist'.period.unit",
        "unknown unit 'fortnights'",
    ),
    (
        "period from a variable the starting action does not record",
        lambda d: d["deadlines"][0]["start"][0].update(
            period={"amount": "$var.tage", "unit": "days"}
        ),
        "deadline 'frist'.start[0]",
        "$var.tage: the action must record it",
    ),
    (
        "anchor that is not a date input",
        lambda d: d["deadlines"][0]["start"][0].update(anchor="$input.nope"),
        "deadline 'frist'.start[0].anchor",
        "has no such input",
    ),
    (
        "deadline active in a final state",
        lambda d: d["deadlines"][0].update(active_in=["offen", "erledigt"]),
        "deadline 'frist'.active_in",
        "'erledigt' is final",
    ),
    (
        "final state with an exit",
        lambda d: _action(d, "erledigen").update({"from": ["offen", "erledigt"]}),
        "action 'erledigen'.from",
        "final state 'erledigt' has no exits",
    ),
    (
        "missing legal basis",
        lambda d: _action(d, "erledigen").pop("legal_basis"),
        "action 'erledigen'",
        "missing key 'legal_basis'",
    ),
    (
        "misspelt key",
        lambda d: _action(d, "erledigen").update(gaurds=[]),
        "action 'erledigen'",
        "unknown key 'gaurds'",
    ),
    (
        "unknown input type",
        lambda d: d["start"]["inputs"].append({"name": "x", "type": "float", "label": L}),
        "start.input 'x'.type",
        "unknown type 'float'",
    ),
    (
        "unknown effect",
        lambda d: _action(d, "erledigen").update(effects=[{"type": "explode"}]),
        "action 'erledigen'.effects[0]",
        "unknown effect type 'explode'",
    ),
    (
        "label without English",
        lambda d: d["states"][0].update(label={"de": "Offen"}),
        "state 'offen'.label",
        "missing key 'en'",
    ),
    (
        "no final state",
        lambda d: d["states"][1].update(final=False),
        "states",
        "no final state",
    ),
    (
        "id not matching the file name",
        lambda d: d.update(id="anders"),
        "definition.id",
        "does not match the file name",
    ),
]


@pytest.mark.parametrize(
    ("change", "element", "message"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_rejects_broken_definition(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], element: str, message: str
) -> None:
    error = broken(tmp_path, change)
    text = str(error)
    assert "test-proc.yaml" in text
    matching = [p for p in error.problems if p.element == element and message in p.message]
    assert matching, f"expected {element!r}: {message!r} in:\n{text}"
    assert all(p.file.endswith(".yaml") for p in error.problems)


def test_unquoted_xbau_code_is_rejected(tmp_path: Path) -> None:
    text = yaml.safe_dump(minimal(), allow_unicode=True, sort_keys=False)
    path = tmp_path / "test-proc.yaml"
    path.write_text(text.replace("xbau: '0201'", "xbau: 0201"), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"action 'erledigen'\.xbau: XBau code must be"):
        load_definition(path)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"kaputt\.yaml: yaml: "):
        load_definition(path)


def test_all_problems_reported_together(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        _action(d, "erledigen").update(roles=["zauberer"], guards=["glueck"])

    error = broken(tmp_path, change)
    assert len(error.problems) == 2
    assert "unknown role 'zauberer'" in str(error)
    assert "unknown guard 'glueck'" in str(error)


def test_problem_in_included_part_names_the_part(tmp_path: Path) -> None:
    part = {"states": [new_state("pruefung")], "actions": []}
    part["actions"].append(
        {
            "id": "pruefen",
            "label": L,
            "from": ["pruefung"],
            "to": "erledigt",
            "roles": ["sachbearbeiter"],
            "legal_basis": "Art. 9",
        }
    )
    write(tmp_path, part, name="_teil.yaml")
    data = minimal()
    data["include"] = ["_teil.yaml"]
    _action(data, "erledigen").update(to="pruefung")
    path = write(tmp_path, data)
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    (problem,) = info.value.problems
    assert problem.file.endswith("_teil.yaml")
    assert problem.element == "action 'pruefen'.roles"


def test_duplicate_across_part_and_main_file(tmp_path: Path) -> None:
    write(tmp_path, {"states": [new_state("offen")]}, name="_teil.yaml")
    data = minimal()
    data["include"] = ["_teil.yaml"]
    with pytest.raises(DefinitionError, match="duplicate state id"):
        load_definition(write(tmp_path, data))


def test_load_all_checks_conversion_targets_and_skips_parts(tmp_path: Path) -> None:
    data = minimal()
    _action(data, "erledigen")["effects"] = [{"type": "convert_procedure", "target": "fehlt"}]
    write(tmp_path, data)
    write(tmp_path, {"states": []}, name="_teil.yaml")
    with pytest.raises(DefinitionError, match="convert_procedure target 'fehlt'"):
        load_all(tmp_path)
    write(tmp_path, minimal("fehlt"))
    assert sorted(load_all(tmp_path)) == ["fehlt", "test-proc"]


def test_load_all_collects_problems_of_all_files(tmp_path: Path) -> None:
    one = minimal("one")
    one["states"][0]["legal_basis"] = 42
    two = minimal("two")
    _action(two, "erledigen")["roles"] = ["nobody"]
    write(tmp_path, one)
    write(tmp_path, two)
    with pytest.raises(DefinitionError) as info:
        load_all(tmp_path)
    files = {Path(p.file).name for p in info.value.problems}
    assert files == {"one.yaml", "two.yaml"}
