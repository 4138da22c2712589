"""Validation of action input fields and conversion to JSON-ready values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from workflows.errors import InvalidInput, Reason
from workflows.model import Action, FieldType, InputField

MAX_STRING = 1_000
MAX_TEXT = 100_000


def _err(code: str, de: str, en: str) -> Reason:
    return Reason(code, de, en)


def _coerce(spec: InputField, value: Any) -> Any:
    """The typed value, or raise ValueError carrying a Reason."""
    t = spec.type
    if t in (FieldType.STRING, FieldType.TEXT):
        limit = MAX_STRING if t is FieldType.STRING else MAX_TEXT
        if not isinstance(value, str):
            raise ValueError(_err("type", "Text erwartet.", "Expected a string."))
        value = value.strip()
        if t is FieldType.STRING and "\n" in value:
            raise ValueError(_err("single_line", "Nur eine Zeile erlaubt.", "Single line only."))
        if len(value) > limit:
            raise ValueError(_err("too_long", f"Höchstens {limit} Zeichen.", f"At most {limit}."))
        return value
    if t is FieldType.DATE:
        if isinstance(value, datetime):
            raise ValueError(_err("type", "Datum ohne Uhrzeit erwartet.", "Expected a date."))
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(_err("type", "Datum (JJJJ-MM-TT) erwartet.", "Expected YYYY-MM-DD."))
    if t is FieldType.DATETIME:
        if isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(_err("type", "Zeitpunkt (ISO 8601) erwartet.", "Expected ISO 8601."))
    if t is FieldType.STRING_LIST:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(_err("type", "Liste von Texten erwartet.", "Expected strings."))
        items = [v.strip() for v in value]
        if any(not v for v in items):
            raise ValueError(_err("empty_item", "Leere Einträge.", "Empty list items."))
        return items
    if t is FieldType.BOOL:
        if not isinstance(value, bool):
            raise ValueError(_err("type", "Ja/Nein (true/false) erwartet.", "Expected a bool."))
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_err("type", "Ganze Zahl erwartet.", "Expected an integer."))
    if spec.min is not None and value < spec.min:
        raise ValueError(_err("too_small", f"Mindestens {spec.min}.", f"At least {spec.min}."))
    if spec.max is not None and value > spec.max:
        raise ValueError(_err("too_large", f"Höchstens {spec.max}.", f"At most {spec.max}."))
    return value


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple) and len(value) == 0)


def _check_date_bounds(spec: InputField, value: date, today: date | None) -> Reason | None:
    """A deadline an official sets must not lie in the past nor implausibly far ahead."""
    if today is None or not isinstance(value, date) or isinstance(value, datetime):
        return None
    if spec.not_past and value < today:
        return _err(
            "date_in_past",
            f"{spec.label.de}: Das Datum {value:%d.%m.%Y} liegt in der Vergangenheit "
            f"(heute ist der {today:%d.%m.%Y}). Bitte eine künftige Frist eintragen.",
            f"{spec.label.en}: {value.isoformat()} lies in the past (today is "
            f"{today.isoformat()}). Please enter a future deadline.",
        )
    if spec.max_ahead_days is not None and (value - today).days > spec.max_ahead_days:
        return _err(
            "date_too_far_ahead",
            f"{spec.label.de}: Das Datum {value:%d.%m.%Y} liegt mehr als "
            f"{spec.max_ahead_days} Tage in der Zukunft; bitte prüfen (Tippfehler?).",
            f"{spec.label.en}: {value.isoformat()} lies more than {spec.max_ahead_days} "
            "days ahead; please check it (typo?).",
        )
    return None


def validate_input(
    action: Action, raw: Mapping[str, Any] | None, *, today: date | None = None
) -> dict[str, Any]:
    """Check `raw` against the action's fields; typed values or InvalidInput.

    With `today`, date fields marked `not_past` / `max_ahead_days` are checked too.
    """
    raw = dict(raw or {})
    errors: dict[str, Reason] = {}
    for name in sorted(set(raw) - {f.name for f in action.inputs}):
        errors[name] = _err("unknown_field", "Unbekanntes Feld.", "Unknown field.")
    values: dict[str, Any] = {}
    for spec in action.inputs:
        value = raw.get(spec.name)
        if isinstance(value, str) and spec.type is not FieldType.TEXT:
            value = value.strip() or None
        if _is_empty(value):
            if spec.required:
                errors[spec.name] = _err(
                    "required", f"Pflichtfeld: {spec.label.de}.", f"Required: {spec.label.en}."
                )
            continue
        try:
            coerced = _coerce(spec, value)
        except ValueError as exc:
            errors[spec.name] = exc.args[0]
            continue
        if spec.required and _is_empty(coerced):
            errors[spec.name] = _err(
                "required", f"Pflichtfeld: {spec.label.de}.", f"Required: {spec.label.en}."
            )
            continue
        bound = _check_date_bounds(spec, coerced, today)
        if bound is not None:
            errors[spec.name] = bound
            continue
        values[spec.name] = coerced
    if errors:
        raise InvalidInput(action.id, errors)
    return values


def jsonable(value: Any) -> Any:
    """Dates and datetimes as ISO strings, containers recursively; else unchanged."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value
