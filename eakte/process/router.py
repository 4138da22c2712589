"""HTTP endpoints of procedures, a case's process, its actions and participations."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

import workflows as wf
from eakte.auth.principal import CASE_READ_ROLES, CASE_WRITE_ROLES, Principal, Role
from eakte.cases.router import etag
from eakte.cases.schemas import CaseCreate, CaseRead
from eakte.cases.service import get_case, to_read
from eakte.deps import CurrentPrincipal, ReadSessionDep, SessionDep, require_roles
from eakte.openapi import problems
from eakte.process import participations, service, view
from eakte.process.definitions import definitions, get_definition
from eakte.process.schemas import (
    ActionRequest,
    BekanntgabeRead,
    BekanntgabeRequest,
    Label,
    ParticipationAnswer,
    ParticipationCreate,
    ParticipationPreview,
    ParticipationRead,
    ProcedureList,
    ProcedureSummary,
    ProcessRead,
)

router = APIRouter(prefix="/api/v1", tags=["process"])

Reader = Annotated[Principal, Depends(require_roles(*(CASE_READ_ROLES | {Role.agency})))]
Actor = Annotated[Principal, Depends(require_roles(Role.clerk, Role.approver, Role.admin))]
Requester = Annotated[Principal, Depends(require_roles(Role.clerk, Role.admin))]
Answerer = Annotated[Principal, Depends(require_roles(Role.clerk, Role.admin, Role.agency))]
CaseWriter = Annotated[Principal, Depends(require_roles(*CASE_WRITE_ROLES))]


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseRead,
    responses=problems(401, 403, 413, 422),
    summary="Create a case file",
    tags=["cases"],
)
async def create_case(
    data: CaseCreate, session: SessionDep, principal: CaseWriter, response: Response
) -> CaseRead:
    """Create a case; the file number is the tenant's next one for this year. Its procedure
    starts at receipt, pinned to the version in force on `received_on`.

    (Served here, not by `eakte.cases`, so that cases never import the procedure code.)"""
    case = await service.open_case(session, principal, data)
    response.headers["ETag"] = etag(case.revision)
    response.headers["Location"] = f"/api/v1/cases/{case.id}"
    return to_read(case)


class ProcedureDetail(BaseModel):
    """A procedure definition as data, with its Mermaid state diagram."""

    id: str
    version: int
    definition: dict[str, Any]
    mermaid: str


@router.get("/procedures", response_model=ProcedureList, responses=problems(401))
async def list_procedures(principal: CurrentPrincipal) -> ProcedureList:
    """The BayBO procedures this installation runs."""
    return ProcedureList(
        items=[
            ProcedureSummary(
                id=d.id,
                version=d.version,
                title=Label(de=d.title.de, en=d.title.en),
                legal_basis=d.legal_basis,
            )
            for d in sorted(definitions().values(), key=lambda d: d.id)
        ]
    )


@router.get(
    "/procedures/{procedure_id}", response_model=ProcedureDetail, responses=problems(401, 404)
)
async def get_procedure(procedure_id: str, principal: CurrentPrincipal) -> ProcedureDetail:
    """One procedure: states, actions, deadlines, participations, legal basis, diagram."""
    definition = get_definition(procedure_id)
    markdown = wf.render_markdown([definition])
    start = markdown.find("```mermaid")
    end = markdown.find("```", start + 3)
    mermaid = markdown[start + len("```mermaid") : end].strip() if start >= 0 else ""
    return ProcedureDetail(
        id=definition.id,
        version=definition.version,
        definition=wf.definition_to_dict(definition),
        mermaid=mermaid,
    )


@router.get(
    "/cases/{case_id}/process", response_model=ProcessRead, responses=problems(401, 403, 404, 422)
)
async def get_process(
    case_id: uuid.UUID, session: ReadSessionDep, principal: Reader
) -> ProcessRead:
    """State, the actions you may take (with why blocked), deadlines, participations, history."""
    return await view.process_view(session, principal, case_id)


@router.post(
    "/cases/{case_id}/process/actions",
    response_model=ProcessRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def take_action(
    case_id: uuid.UUID, data: ActionRequest, session: SessionDep, principal: Actor
) -> ProcessRead:
    """Take an action; 409 when `expected_state` is stale or another action won the race."""
    await service.take_action(
        session,
        principal,
        case_id,
        action=data.action,
        expected_state=data.expected_state,
        input=data.input,
    )
    return await view.process_view(session, principal, case_id)


@router.get(
    "/cases/{case_id}/participations/preview",
    response_model=ParticipationPreview,
    responses=problems(401, 403, 404, 422),
)
async def preview_participations(
    case_id: uuid.UUID,
    session: ReadSessionDep,
    principal: Requester,
    arrived_on: Annotated[
        date | None, Query(description="day the request will arrive (default: today)")
    ] = None,
) -> ParticipationPreview:
    """The Beteiligung kinds of the case's procedure with the deadline each would get."""
    return await participations.preview_participations(
        session, principal, case_id, arrived_on=arrived_on
    )


@router.post(
    "/cases/{case_id}/participations",
    status_code=201,
    response_model=ParticipationRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def request_participation(
    case_id: uuid.UUID, data: ParticipationCreate, session: SessionDep, principal: Requester
) -> ParticipationRead:
    """Ask the municipality, an authority or an agency; its deadline starts on `requested_on`."""
    created = await participations.request_participation(session, principal, case_id, data)
    return view.participation_read(created)


@router.post(
    "/cases/{case_id}/participations/{participation_id}/answer",
    response_model=ParticipationRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def answer_participation(
    case_id: uuid.UUID,
    participation_id: uuid.UUID,
    data: ParticipationAnswer,
    session: SessionDep,
    principal: Answerer,
) -> ParticipationRead:
    """Record consent, refusal or a statement; late answers are kept and flagged."""
    answered = await participations.answer_participation(
        session, principal, case_id, participation_id, data
    )
    return view.participation_read(answered)


@router.post(
    "/cases/{case_id}/process/bekanntgabe",
    response_model=BekanntgabeRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def record_bekanntgabe(
    case_id: uuid.UUID, data: BekanntgabeRequest, session: SessionDep, principal: Requester
) -> BekanntgabeRead:
    """Compute when the decision counts as made known (post/electronic: the 4th day after
    sending, [nv] see docs/legal-rules.md; provision: the day after retrieval; a proven
    later receipt) and record it; `preview` only computes. 409 if no decision awaits it."""
    case = await get_case(session, principal, case_id)
    result = await service.record_bekanntgabe(
        session,
        case,
        service.Actor.of(principal),
        expected_state=data.expected_state,
        method=data.method,
        sent_on=data.sent_on,
        retrieved_on=data.retrieved_on,
        proven_receipt_on=data.proven_receipt_on,
        preview=data.preview,
    )
    return BekanntgabeRead(
        bekanntgabe_on=result.computed.on,
        rule=result.computed.rule,
        method=str(result.computed.method),
        sent_on=result.computed.sent_on,
        recorded_by_action=result.action,
        process=None if data.preview else await view.process_view(session, principal, case_id),
    )
