"""JSON-ready views of definitions and instances (for the API and for persistence)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date
from enum import Enum
from typing import Any

from workflows.guards import GUARDS
from workflows.inputs import jsonable
from workflows.instance import Instance
from workflows.model import Definition

_INTERNAL = {"source"}


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.name not in _INTERNAL
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return jsonable(value)


def definition_to_dict(definition: Definition) -> dict[str, Any]:
    """The whole definition as plain JSON-ready data, with guard descriptions."""
    data: dict[str, Any] = _plain(definition)
    data["initial_state"] = definition.initial_state
    used = sorted({g for a in (definition.start, *definition.actions) for g in a.guards})
    used_in_deadlines = {g for r in definition.deadlines for t in r.start for g in t.guards}
    used_in_deadlines |= {g for r in definition.deadlines for t in r.stop for g in t.guards}
    data["guards"] = {
        name: _plain(GUARDS[name].description) for name in sorted(set(used) | used_in_deadlines)
    }
    return data


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    """An instance as JSON-ready data (dates as ISO strings)."""
    return {
        "definition_id": instance.definition_id,
        "version": instance.version,
        "state": instance.state,
        "deadlines": {k: v.isoformat() for k, v in sorted(instance.deadlines.items())},
        "variables": jsonable(dict(instance.variables)),
        "unrolled": {k: v.isoformat() for k, v in sorted(instance.unrolled.items())},
    }


def instance_from_dict(data: Mapping[str, Any]) -> Instance:
    """Rebuild an instance from `instance_to_dict` output."""
    deadlines = {k: date.fromisoformat(v) for k, v in dict(data.get("deadlines", {})).items()}
    return Instance(
        definition_id=str(data["definition_id"]),
        version=int(data["version"]),
        state=str(data["state"]),
        deadlines=deadlines,
        variables=dict(data.get("variables", {})),
        unrolled={k: date.fromisoformat(v) for k, v in dict(data.get("unrolled", {})).items()},
    )
