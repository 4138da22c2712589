"""Load procedure definitions from YAML and turn them into validated `Definition`s.

Every problem names the file and the element (`baybo-59.yaml: action 'nachfordern'.to:
unknown state 'x'`); all problems of a file are reported together. A definition may
`include` shared parts (files whose names start with `_`, e.g. `_beteiligung.yaml`);
they hold `states`, `actions`, `deadlines` and `participations` merged in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml

from workflows.engine import RECORD_INTO
from workflows.errors import DefinitionError, Problem
from workflows.model import (
    Action,
    DeadlineRule,
    DeadlineStop,
    DeadlineTrigger,
    Definition,
    EffectSpec,
    FieldType,
    InputField,
    ParticipationRule,
    Period,
    SilenceMeans,
    State,
    Text,
    Unit,
)
from workflows.validate import check_definition

DEFINITIONS_DIR = Path(__file__).with_name("definitions")
"""Where the shipped procedure definitions live."""

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
DEFINITION_ID = re.compile(r"^[a-z][a-z0-9-]*$")
XBAU = re.compile(r"^[0-9]{4}$")

T = TypeVar("T")
Raw = dict[Any, Any]


class _Parser:
    """Reads one YAML file, collecting problems instead of stopping at the first."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    def problem(self, element: str, message: str) -> None:
        self.problems.append(Problem(self.file, element, message))

    def mapping(self, value: Any, element: str, required: set[str], optional: set[str]) -> Raw:
        if not isinstance(value, dict):
            self.problem(element, f"expected a mapping, got {type(value).__name__}")
            return {}
        for key in sorted(required - set(value)):
            self.problem(element, f"missing key {key!r}")
        for key in sorted(set(value) - required - optional, key=str):
            self.problem(element, f"unknown key {key!r}")
        return value

    def string(self, data: Raw, key: str, element: str, *, default: str = "") -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            self.problem(f"{element}.{key}", f"expected a string, got {value!r}")
            return default
        if key in data and not value.strip():
            self.problem(f"{element}.{key}", "must not be empty")
        return value

    def ident(self, data: Raw, key: str, element: str, pattern: re.Pattern[str] = SNAKE) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not pattern.match(value):
            if key in data:
                self.problem(f"{element}.{key}", f"{value!r} is not a valid id ({pattern.pattern})")
            return "" if not isinstance(value, str) else value
        return value

    def text(self, data: Raw, key: str, element: str) -> Text:
        if key not in data:
            return Text("", "")
        raw = self.mapping(data[key], f"{element}.{key}", {"de", "en"}, set())
        where = f"{element}.{key}"
        return Text(self.string(raw, "de", where), self.string(raw, "en", where))

    def flag(self, data: Raw, key: str, element: str, default: bool = False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(f"{element}.{key}", f"expected true or false, got {value!r}")
            return default
        return value

    def names(self, data: Raw, key: str, element: str, *, single: bool = False) -> tuple[str, ...]:
        value = data.get(key, [])
        if single and isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(f"{element}.{key}", f"expected a list of strings, got {value!r}")
            return ()
        return tuple(value)

    def xbau(self, data: Raw, key: str, element: str) -> str | None:
        if key not in data or data[key] is None:
            return None
        value = data[key]
        if not isinstance(value, str) or not XBAU.match(value):
            self.problem(
                f"{element}.{key}", f"XBau code must be a quoted 4-digit string, got {value!r}"
            )
            return None
        return value

    def items(self, data: Raw, key: str, element: str, parse: Callable[[Any, str], T]) -> list[T]:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.problem(f"{element}.{key}", "expected a list")
            return []
        return [parse(item, f"{element}.{key}[{i}]") for i, item in enumerate(value)]

    def label_of(self, item: Any, kind: str, fallback: str) -> str:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            return f"{kind} {item['id']!r}"
        return fallback

    # --- elements -------------------------------------------------------------------

    def period(self, value: Any, element: str) -> Period:
        raw = self.mapping(value, element, {"amount", "unit"}, set())
        amount = raw.get("amount", 0)
        valid_ref = isinstance(amount, str) and amount.startswith(("$input.", "$var."))
        if not valid_ref and (
            isinstance(amount, bool) or not isinstance(amount, int) or amount < 0
        ):
            expected = "expected an int >= 0, $input.<field> or $var.<name>"
            self.problem(f"{element}.amount", f"{expected}: {amount!r}")
            amount = 0
        unit = raw.get("unit", "days")
        try:
            parsed_unit = Unit(unit)
        except ValueError:
            known = ", ".join(u.value for u in Unit)
            self.problem(f"{element}.unit", f"unknown unit {unit!r} (known: {known})")
            parsed_unit = Unit.DAYS
        return Period(amount, parsed_unit)

    def state(self, value: Any, fallback: str) -> State:
        element = self.label_of(value, "state", fallback)
        raw = self.mapping(
            value, element, {"id", "label", "public_label", "legal_basis"}, {"final", "tags"}
        )
        return State(
            id=self.ident(raw, "id", element),
            label=self.text(raw, "label", element),
            public_label=self.text(raw, "public_label", element),
            legal_basis=self.string(raw, "legal_basis", element),
            final=self.flag(raw, "final", element),
            tags=self.names(raw, "tags", element),
            source=self.file,
        )

    def input_field(self, value: Any, element: str) -> InputField:
        raw = self.mapping(
            value,
            element,
            {"name", "type", "label"},
            {"required", "min", "max", "not_past", "max_ahead_days", "applicant_field"},
        )
        if isinstance(raw.get("name"), str):
            element = f"{element.rsplit('.', 1)[0]}.input {raw['name']!r}"
        kind = raw.get("type", "string")
        try:
            field_type = FieldType(kind)
        except ValueError:
            known = ", ".join(t.value for t in FieldType)
            self.problem(f"{element}.type", f"unknown type {kind!r} (known: {known})")
            field_type = FieldType.STRING
        bounds: list[int | None] = []
        for key in ("min", "max", "max_ahead_days"):
            bound = raw.get(key)
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
                self.problem(f"{element}.{key}", f"expected an int, got {bound!r}")
                bound = None
            bounds.append(bound)
        return InputField(
            name=self.ident(raw, "name", element),
            type=field_type,
            label=self.text(raw, "label", element),
            required=self.flag(raw, "required", element, default=True),
            min=bounds[0],
            max=bounds[1],
            not_past=self.flag(raw, "not_past", element),
            max_ahead_days=bounds[2],
            applicant_field=self.string(raw, "applicant_field", element) or None,
        )

    def effect(self, value: Any, element: str) -> EffectSpec:
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            self.problem(element, "an effect is a mapping with a string 'type'")
            return EffectSpec("invalid")
        params = {k: v for k, v in value.items() if k != "type"}
        return EffectSpec(value["type"], params)

    def action(self, value: Any, fallback: str, *, start: bool = False) -> Action:
        element = "start" if start else self.label_of(value, "action", fallback)
        required = {"id", "label", "to", "roles", "legal_basis"} | (set() if start else {"from"})
        optional = {
            "guards",
            "inputs",
            "public",
            "xbau",
            "effects",
            "record",
            "cancel_deadlines",
            "tags",
        }
        raw = self.mapping(value, element, required, optional)
        record = raw.get("record", {})
        if not isinstance(record, dict) or not all(
            SNAKE.match(str(k)) or RECORD_INTO.match(str(k)) for k in record
        ):
            self.problem(
                f"{element}.record",
                "expected a mapping of snake_case names (or name[$input.key]) to values",
            )
            record = {}
        return Action(
            id=self.ident(raw, "id", element),
            label=self.text(raw, "label", element),
            from_states=() if start else self.names(raw, "from", element, single=True),
            to=self.string(raw, "to", element),
            roles=self.names(raw, "roles", element),
            legal_basis=self.string(raw, "legal_basis", element),
            guards=self.names(raw, "guards", element),
            inputs=tuple(self.items(raw, "inputs", element, self.input_field)),
            public=self.flag(raw, "public", element),
            xbau=self.xbau(raw, "xbau", element),
            effects=tuple(self.items(raw, "effects", element, self.effect)),
            record=dict(record),
            cancel_deadlines=self.names(raw, "cancel_deadlines", element),
            tags=self.names(raw, "tags", element),
            source=self.file,
        )

    def trigger(self, value: Any, element: str) -> DeadlineTrigger:
        raw = self.mapping(
            value, element, {"action", "anchor"}, {"guards", "period", "fixed_end_if"}
        )
        fixed = raw.get("fixed_end_if")
        if fixed is not None and not (isinstance(fixed, str) and fixed.startswith("$input.")):
            self.problem(f"{element}.fixed_end_if", f"expected $input.<bool field>, got {fixed!r}")
            fixed = None
        return DeadlineTrigger(
            action=self.string(raw, "action", element),
            anchor=self.string(raw, "anchor", element),
            guards=self.names(raw, "guards", element),
            period=self.period(raw["period"], f"{element}.period") if "period" in raw else None,
            fixed_end_if=fixed,
        )

    def stop(self, value: Any, element: str) -> DeadlineStop:
        raw = self.mapping(value, element, {"action"}, {"guards"})
        return DeadlineStop(
            action=self.string(raw, "action", element),
            guards=self.names(raw, "guards", element),
        )

    def deadline(self, value: Any, fallback: str) -> DeadlineRule:
        element = self.label_of(value, "deadline", fallback)
        required = {"id", "label", "legal_basis", "start", "active_in"}
        optional = {"period", "offset", "on_expiry", "roll_forward", "public", "stop", "tags"}
        raw = self.mapping(value, element, required, optional)
        return DeadlineRule(
            id=self.ident(raw, "id", element),
            label=self.text(raw, "label", element),
            legal_basis=self.string(raw, "legal_basis", element),
            start=tuple(self.items(raw, "start", element, self.trigger)),
            active_in=self.names(raw, "active_in", element),
            period=self.period(raw["period"], f"{element}.period") if "period" in raw else None,
            offset=self.period(raw["offset"], f"{element}.offset") if "offset" in raw else None,
            on_expiry=self.names(raw, "on_expiry", element),
            roll_forward=self.flag(raw, "roll_forward", element, default=True),
            public=self.flag(raw, "public", element),
            stop=tuple(self.items(raw, "stop", element, self.stop)),
            tags=self.names(raw, "tags", element),
            source=self.file,
        )

    def participation(self, value: Any, fallback: str) -> ParticipationRule:
        element = self.label_of(value, "participation", fallback)
        required = {"id", "label", "legal_basis", "period", "on_silence"}
        optional = {"late_statements", "xbau_request", "xbau_statement"}
        raw = self.mapping(value, element, required, optional)
        silence = raw.get("on_silence", SilenceMeans.CONSENT_DEEMED.value)
        try:
            on_silence = SilenceMeans(silence)
        except ValueError:
            known = ", ".join(s.value for s in SilenceMeans)
            self.problem(f"{element}.on_silence", f"unknown value {silence!r} (known: {known})")
            on_silence = SilenceMeans.CONSENT_DEEMED
        late = self.string(raw, "late_statements", element, default="record_and_flag")
        if late not in ("record_and_flag", "record"):
            self.problem(f"{element}.late_statements", "expected 'record_and_flag' or 'record'")
        return ParticipationRule(
            id=self.ident(raw, "id", element),
            label=self.text(raw, "label", element),
            legal_basis=self.string(raw, "legal_basis", element),
            period=self.period(raw.get("period", {}), f"{element}.period"),
            on_silence=on_silence,
            late_statements=late,
            xbau_request=self.xbau(raw, "xbau_request", element),
            xbau_statement=self.xbau(raw, "xbau_statement", element),
            source=self.file,
        )


_PART_KEYS = {"states", "actions", "deadlines", "participations"}


def _read_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        problems.append(Problem(str(path), "file", f"cannot read: {exc.strerror or exc}"))
    except yaml.YAMLError as exc:
        problems.append(Problem(str(path), "yaml", str(exc).replace("\n", " ")))
    return None


def _parse_parts(parser: _Parser, raw: Raw, into: dict[str, list[Any]]) -> None:
    into["states"] += parser.items(raw, "states", "states", parser.state)
    into["actions"] += parser.items(raw, "actions", "actions", parser.action)
    into["deadlines"] += parser.items(raw, "deadlines", "deadlines", parser.deadline)
    into["participations"] += parser.items(
        raw, "participations", "participations", parser.participation
    )


def load_definition(path: str | Path) -> Definition:
    """Load, merge includes, validate; DefinitionError naming file and element on failure."""
    path = Path(path)
    problems: list[Problem] = []
    parser = _Parser(str(path), problems)
    raw = _read_yaml(path, problems)
    if problems:
        raise DefinitionError(problems)
    required = {"id", "version", "title", "legal_basis", "start", "states", "actions"}
    optional = {
        "fassung",
        "include",
        "deadlines",
        "participations",
        "valid_from",
        "required_documents",
        "issued_documents",
    }
    data = parser.mapping(raw, "definition", required, optional)
    if not data:
        raise DefinitionError(problems)
    def_id = parser.ident(data, "id", "definition", DEFINITION_ID)
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        parser.problem("definition.version", f"expected an int >= 1, got {version!r}")
        version = 0
    if def_id and path.stem not in (def_id, f"{def_id}.v{version}"):
        parser.problem(
            "definition.id",
            f"id {def_id!r} does not match the file name "
            f"({def_id}.yaml or {def_id}.v<version>.yaml)",
        )
    valid_from = data.get("valid_from")
    if valid_from is not None and (
        isinstance(valid_from, datetime) or not isinstance(valid_from, date)
    ):
        parser.problem("definition.valid_from", f"expected a date YYYY-MM-DD, got {valid_from!r}")
        valid_from = None
    required_docs = parser.names(data, "required_documents", "definition")
    issued_docs = parser.names(data, "issued_documents", "definition")
    parts: dict[str, list[Any]] = {key: [] for key in _PART_KEYS}
    for i, name in enumerate(parser.names(data, "include", "definition")):
        inc_path = path.parent / name
        if not name.startswith("_") or "/" in name:
            parser.problem(f"definition.include[{i}]", f"{name!r}: parts are '_*.yaml' files")
            continue
        inc_raw = _read_yaml(inc_path, problems)
        if inc_raw is None:
            continue
        inc = _Parser(str(inc_path), problems)
        _parse_parts(inc, inc.mapping(inc_raw, "part", set(), _PART_KEYS), parts)
    _parse_parts(parser, data, parts)
    start = parser.action(data.get("start", {}), "start", start=True)
    fassung = data.get("fassung")
    if fassung is not None and not isinstance(fassung, str):
        parser.problem("definition.fassung", "expected a string")
        fassung = None
    definition = Definition(
        id=def_id,
        version=version,
        title=parser.text(data, "title", "definition"),
        legal_basis=parser.string(data, "legal_basis", "definition"),
        start=start,
        states=tuple(parts["states"]),
        actions=tuple(parts["actions"]),
        deadlines=tuple(parts["deadlines"]),
        participations=tuple(parts["participations"]),
        fassung=fassung,
        valid_from=valid_from,
        required_documents=required_docs,
        issued_documents=issued_docs,
        source=str(path),
    )
    problems.extend(check_definition(definition))
    if problems:
        raise DefinitionError(problems)
    return definition


def load_versions(directory: str | Path | None = None) -> dict[str, tuple[Definition, ...]]:
    """Every installed version of every definition, oldest first, keyed by id.

    Versions of one procedure must have distinct numbers, and a later version must
    have a later `valid_from` (a case is pinned to the version in force on its receipt
    date). Every version is validated.
    """
    directory = Path(directory) if directory is not None else DEFINITIONS_DIR
    found: dict[str, list[Definition]] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        try:
            definition = load_definition(path)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        found.setdefault(definition.id, []).append(definition)
    versions: dict[str, tuple[Definition, ...]] = {}
    for def_id, defs in found.items():
        defs.sort(key=lambda d: d.version)
        for older, newer in zip(defs, defs[1:], strict=False):
            if older.version == newer.version:
                problems.append(
                    Problem(newer.source, "definition.version", f"version {newer.version} twice")
                )
            elif newer.valid_from is None or (
                older.valid_from is not None and newer.valid_from <= older.valid_from
            ):
                problems.append(
                    Problem(
                        newer.source,
                        "definition.valid_from",
                        f"version {newer.version} needs a valid_from after version "
                        f"{older.version}'s ({older.valid_from})",
                    )
                )
        versions[def_id] = tuple(defs)
    latest = {def_id: installed[-1] for def_id, installed in versions.items()}
    for installed in versions.values():
        for definition in installed:
            problems.extend(_check_conversions(definition, latest))
    if problems:
        raise DefinitionError(problems)
    return dict(sorted(versions.items()))


def _check_conversions(definition: Definition, found: dict[str, Definition]) -> list[Problem]:
    problems: list[Problem] = []
    for action in (definition.start, *definition.actions):
        for effect in action.effects:
            target = effect.params.get("target")
            if effect.type == "convert_procedure" and target not in found:
                problems.append(
                    Problem(
                        action.source,
                        f"action {action.id!r}.effects",
                        f"convert_procedure target {target!r} is not a loaded definition",
                    )
                )
    return problems


def version_for(versions: tuple[Definition, ...], received_on: date) -> Definition:
    """The version in force on `received_on` (the oldest one for earlier dates)."""
    chosen = versions[0]
    for definition in versions:
        if definition.valid_from is None or definition.valid_from <= received_on:
            chosen = definition
    return chosen


def load_all(directory: str | Path | None = None) -> dict[str, Definition]:
    """The newest version of every definition in `directory` (default: the shipped ones)."""
    return {def_id: defs[-1] for def_id, defs in load_versions(directory).items()}
