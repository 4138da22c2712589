"""Markdown documentation of procedures: a Mermaid diagram and tables per definition."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from workflows.guards import GUARDS
from workflows.model import Action, DeadlineRule, Definition, Period

HEADER = """# Verfahren / Procedures

Generated from `workflows/definitions/*.yaml` by `eakte procedures docs`; do not edit by hand.
Deadlines follow §§ 187-193 BGB and Art. 31 BayVwVfG: the event day is not counted, and an
end on a Saturday, Sunday or public holiday moves to the next working day unless noted.
"""


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ").strip() or "–"


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = [_row(headers), "|" + "---|" * len(headers)]
    lines += [_row(r) for r in rows]
    return lines + [""]


def _label(text: str) -> str:
    return text.replace('"', "'")


def _mermaid(d: Definition) -> list[str]:
    lines = ["```mermaid", "stateDiagram-v2"]
    for state in d.states:
        lines.append(f'    state "{_label(state.label.de)}" as {state.id}')
    lines.append(f"    [*] --> {d.initial_state} : {d.start.id}")
    for action in d.actions:
        for src in action.from_states:
            lines.append(f"    {src} --> {action.target(src)} : {action.id}")
    for state in d.states:
        if state.final:
            lines.append(f"    {state.id} --> [*]")
    return lines + ["```", ""]


def _period(period: Period | None) -> str:
    if period is None:
        return ""
    amount = period.amount
    if isinstance(amount, str):
        amount = f"`{amount}`"
    return f"{amount} {period.unit.value}"


def _inputs(action: Action) -> str:
    parts = []
    for f in action.inputs:
        optional = "" if f.required else "?"
        parts.append(f"`{f.name}{optional}`: {f.type.value}")
    return ", ".join(parts)


def _effects(action: Action) -> str:
    parts = []
    for effect in action.effects:
        detail = next(
            (str(effect.params[k]) for k in ("to", "target", "flag", "kind") if k in effect.params),
            "",
        )
        parts.append(f"{effect.type}: {detail}" if detail else effect.type)
    return ", ".join(parts)


def _action_row(action: Action, start: bool = False) -> list[str]:
    source = "(Start)" if start else ", ".join(action.from_states)
    guards = ", ".join(f"`{g}`" for g in action.guards)
    return [
        f"`{action.id}`",
        f"{action.label.de} / {action.label.en}",
        f"{source} → {'(bleibt)' if action.to == '.' else action.to}",
        ", ".join(action.roles),
        guards,
        _inputs(action),
        _effects(action),
        "ja" if action.public else "nein",
        action.xbau or "",
        action.legal_basis,
    ]


def _deadline_row(rule: DeadlineRule) -> list[str]:
    length = _period(rule.period) or "fester Tag (Eingabe)"
    if rule.offset is not None:
        length = f"{_period(rule.offset)} Versatz, dann {length}"
    if not rule.roll_forward:
        length += " (ohne Verschiebung auf Werktag)"
    starts = []
    for trig in rule.start:
        text = f"`{trig.action}` ab `{trig.anchor}`"
        if trig.period is not None:
            text += f" ({_period(trig.period)})"
        if trig.guards:
            text += " wenn " + ", ".join(f"`{g}`" for g in trig.guards)
        if trig.fixed_end_if:
            text += f" (festes Fristende wenn `{trig.fixed_end_if}`)"
        starts.append(text)
    for stop in rule.stop:
        text = f"endet bei `{stop.action}`"
        if stop.guards:
            text += " wenn " + ", ".join(f"`{g}`" for g in stop.guards)
        starts.append(text)
    return [
        f"`{rule.id}`",
        f"{rule.label.de} / {rule.label.en}",
        length,
        "; ".join(starts),
        ", ".join(rule.active_in),
        ", ".join(f"`{a}`" for a in rule.on_expiry),
        "ja" if rule.public else "nein",
        rule.legal_basis,
    ]


def _procedure(d: Definition) -> list[str]:
    lines = [f"## {d.id} v{d.version}: {d.title.de}", "", f"*{d.title.en}*", ""]
    lines.append(f"- Version: {d.version}")
    if d.valid_from:
        lines.append(
            f"- Gilt für Anträge mit Eingang ab / applies to cases received from: "
            f"{d.valid_from.isoformat()}"
        )
    if d.required_documents:
        lines.append(
            "- Erforderliche Bauvorlagen / required documents: "
            + ", ".join(f"`{k}`" for k in d.required_documents)
        )
    lines.append(f"- Rechtsgrundlage: {d.legal_basis}")
    if d.fassung:
        lines.append(f"- Fassung: {d.fassung}")
    lines.append("")
    lines += _mermaid(d)
    lines += ["### Zustände / States", ""]
    lines += _table(
        ["id", "Bezeichnung / Label", "Öffentlich (de)", "Final", "Rechtsgrundlage"],
        [
            [
                f"`{s.id}`",
                f"{s.label.de} / {s.label.en}",
                s.public_label.de,
                "ja" if s.final else "nein",
                s.legal_basis,
            ]
            for s in d.states
        ],
    )
    lines += ["### Aktionen / Actions", ""]
    lines += _table(
        [
            "id",
            "Bezeichnung / Label",
            "von → nach",
            "Rollen",
            "Guards",
            "Eingaben",
            "Wirkungen",
            "Öffentlich",
            "XBau",
            "Rechtsgrundlage",
        ],
        [_action_row(d.start, start=True)] + [_action_row(a) for a in d.actions],
    )
    if d.deadlines:
        lines += ["### Fristen / Deadlines", ""]
        lines += _table(
            [
                "id",
                "Bezeichnung / Label",
                "Dauer",
                "Beginn",
                "Läuft in",
                "Bei Ablauf",
                "Öffentlich",
                "Rechtsgrundlage",
            ],
            [_deadline_row(r) for r in d.deadlines],
        )
    if d.participations:
        lines += ["### Beteiligungen / Participations", ""]
        lines += _table(
            ["id", "Bezeichnung / Label", "Frist", "Schweigen bedeutet", "XBau", "Rechtsgrundlage"],
            [
                [
                    f"`{p.id}`",
                    f"{p.label.de} / {p.label.en}",
                    _period(p.period),
                    p.on_silence.value,
                    " / ".join(x for x in (p.xbau_request, p.xbau_statement) if x),
                    p.legal_basis,
                ]
                for p in d.participations
            ],
        )
    return lines


def render_markdown(definitions: Mapping[str, Definition] | Iterable[Definition]) -> str:
    """Deterministic Markdown for all procedures (sorted by id) plus a guard legend."""
    items = definitions.values() if isinstance(definitions, Mapping) else definitions
    ordered = sorted(items, key=lambda d: (d.id, d.version))
    lines = [HEADER]
    for d in ordered:
        lines += _procedure(d)
    used = sorted(
        {g for d in ordered for a in (d.start, *d.actions) for g in a.guards}
        | {g for d in ordered for r in d.deadlines for t in r.start for g in t.guards}
        | {g for d in ordered for r in d.deadlines for t in r.stop for g in t.guards}
    )
    if used:
        lines += ["## Guards", ""]
        lines += _table(
            ["Guard", "Beschreibung", "Description"],
            [[f"`{g}`", GUARDS[g].description.de, GUARDS[g].description.en] for g in used],
        )
    return "\n".join(lines).rstrip("\n") + "\n"
