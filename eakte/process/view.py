"""Read models of a case's process for officials."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.auth.principal import CASE_READ_ROLES, Principal
from eakte.cases.service import get_case
from eakte.process.context import prepare
from eakte.process.models import Participation, ProcessDeadline, ProcessTransition
from eakte.process.schemas import (
    AvailableAction,
    BlockedReason,
    DeadlineRead,
    FictionRead,
    InputFieldRead,
    Label,
    ParticipationRead,
    ProcessRead,
    TransitionRead,
)
from eakte.process.service import Actor, engine_principal, instance_for, local_today


def _label(text: wf.Text) -> Label:
    return Label(de=text.de, en=text.en)


def why_moved(due: date, unrolled: date | None) -> Label | None:
    """German/English reason why a deadline's last day is later than its computed end."""
    if unrolled is None or unrolled == due:
        return None
    return Label(
        de=f"Das rechnerische Fristende {unrolled:%d.%m.%Y} fällt auf einen Samstag, Sonntag "
        f"oder Feiertag; die Frist endet deshalb am {due:%d.%m.%Y} (§ 193 BGB, "
        "Art. 31 Abs. 3 S. 1 BayVwVfG).",
        en=f"The computed end {unrolled.isoformat()} falls on a Saturday, Sunday or public "
        f"holiday, so the deadline ends on {due.isoformat()} (§ 193 BGB, "
        "Art. 31 Abs. 3 S. 1 BayVwVfG).",
    )


FICTION_LABELS = {
    "genehmigungsfiktion": Label(
        de="Genehmigungsfiktion festgestellt – bitte bestätigen oder korrigieren",
        en="Approval by silence detected – please confirm or correct",
    ),
    "ruecknahmefiktion": Label(
        de="Rücknahmefiktion festgestellt – bitte bestätigen oder korrigieren",
        en="Deemed withdrawal detected – please confirm or correct",
    ),
}


def fictions(variables: dict[str, Any]) -> list[FictionRead]:
    """The fiction the ticker detected and no official has decided on yet."""
    found = variables.get("fiktion_festgestellt")
    if not isinstance(found, dict) or not found.get("frist_endete_am"):
        return []
    rule = str(found.get("regel", ""))
    return [
        FictionRead(
            rule=rule,
            period_ended_on=date.fromisoformat(str(found["frist_endete_am"])[:10]),
            legal_basis=str(found.get("rechtsgrundlage", "")),
            label=FICTION_LABELS.get(rule, Label(de=rule, en=rule)),
        )
    ]


def deadline_read(d: ProcessDeadline) -> DeadlineRead:
    """API shape of a deadline row."""
    return DeadlineRead(
        id=d.id,
        kind=d.kind,
        label=Label(de=d.label_de, en=d.label_en),
        legal_basis=d.legal_basis,
        anchor=d.anchor,
        due=d.due,
        status=d.status,
        public=d.public,
        on_expiry=list(d.on_expiry or []),
        unrolled_due=d.unrolled_due,
        fixed_end=bool(d.fixed_end),
        why_moved=why_moved(d.due, d.unrolled_due),
    )


def participation_read(p: Participation) -> ParticipationRead:
    """API shape of a participation row."""
    return ParticipationRead(
        id=p.id,
        kind=p.kind,
        party=p.party,
        agency_sub=p.agency_sub,
        requested_on=p.requested_on,
        arrived_on=p.arrived_on,
        due=p.due,
        on_silence=p.on_silence,
        status=p.status,
        answer=p.answer,
        statement=p.statement,
        received_on=p.received_on,
        answered_on_claimed=p.answered_on_claimed,
        late=p.late,
        claim_contradicts_arrival=bool(
            p.late and p.answered_on_claimed is not None and p.answered_on_claimed <= p.due
        ),
    )


def transition_read(t: ProcessTransition) -> TransitionRead:
    """API shape of a transition row."""
    return TransitionRead(
        seq=t.seq,
        procedure=t.definition_id,
        action=t.action,
        label=Label(de=t.label_de, en=t.label_en),
        from_state=t.from_state,
        to_state=t.to_state,
        actor=t.actor,
        actor_name=t.actor_name,
        at=t.at,
        input=t.input or {},
        public=t.public,
        legal_basis=t.legal_basis,
        xbau=t.xbau,
        deadline=t.deadline,
    )


async def process_view(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> ProcessRead:
    """State, the caller's available actions, deadlines, participations and history."""
    case = await get_case(session, principal, case_id)
    row = await instance_for(session, case)
    prepared = await prepare(session, case, row, principal.sub)
    definition, instance, context = prepared.definition, prepared.instance, prepared.context
    roles = engine_principal(Actor.of(principal)).roles
    actions = [
        AvailableAction(
            id=a.action.id,
            label=_label(a.action.label),
            allowed=a.enabled,
            blocked_reasons=[BlockedReason(code=r.code, de=r.de, en=r.en) for r in a.reasons],
            input_fields=[
                InputFieldRead(
                    name=f.name, type=str(f.type), required=f.required, label=_label(f.label)
                )
                for f in a.action.inputs
            ],
            public=a.action.public,
            xbau=a.action.xbau,
            legal_basis=a.action.legal_basis or "",
            issues_document=next(
                (str(e.params.get("kind")) for e in a.action.effects if e.type == "issue_document"),
                None,
            ),
        )
        for a in wf.available_actions(definition, instance, roles, context, local_today())
    ]
    deadlines = await session.scalars(
        select(ProcessDeadline)
        .where(ProcessDeadline.case_id == case.id)
        .order_by(ProcessDeadline.started_at, ProcessDeadline.kind)
    )
    participations = await session.scalars(
        select(Participation)
        .where(Participation.case_id == case.id)
        .order_by(Participation.created_at)
    )
    transitions = await session.scalars(
        select(ProcessTransition)
        .where(ProcessTransition.case_id == case.id)
        .order_by(ProcessTransition.seq)
    )
    state = definition.state(row.state)
    assert state is not None
    if not principal.has_any(CASE_READ_ROLES):
        # an agency (Fachstelle) asked in a Beteiligung sees its own request and the public
        # deadlines, never the internal variables (Vermerk, draft), history or other parties
        return ProcessRead(
            case_id=case.id,
            procedure=definition.id,
            procedure_version=definition.version,
            state=row.state,
            state_label=_label(state.label),
            state_since=row.state_since,
            final=state.final,
            revision=row.revision,
            flags=[],
            variables={},
            available_actions=[],
            fictions=[],
            deadlines=[deadline_read(d) for d in deadlines if d.public],
            participations=[
                participation_read(p) for p in participations if p.agency_sub == principal.sub
            ],
            transitions=[],
        )
    return ProcessRead(
        case_id=case.id,
        procedure=definition.id,
        procedure_version=definition.version,
        state=row.state,
        state_label=_label(state.label),
        state_since=row.state_since,
        final=state.final,
        revision=row.revision,
        flags=list(row.flags or []),
        variables=dict(row.variables or {}),
        available_actions=actions,
        fictions=fictions(dict(row.variables or {})),
        deadlines=[deadline_read(d) for d in deadlines],
        participations=[participation_read(p) for p in participations],
        transitions=[transition_read(t) for t in transitions],
    )
