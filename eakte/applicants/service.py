"""The applicant's side: submit, prove access, read status, answer a Nachforderung."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import workflows as wf
from eakte.applicants.errors import (
    ApplicationNotFound,
    FictionWaiverNotPossible,
    NoOpenNachforderung,
    TooManyAttempts,
    UnknownDocuments,
)
from eakte.applicants.models import ApplicationAccess
from eakte.applicants.ratelimit import FailureLimiter, Throttled
from eakte.applicants.schemas import (
    ApplicantDeadline,
    ApplicationCreate,
    ApplicationStatus,
    ApplicationSummary,
    FictionWaiver,
    IssuedDocument,
    Labelled,
    Missing,
    NachforderungResponse,
    StatusState,
    TimelineEntry,
)
from eakte.audit import service as audit
from eakte.auth.principal import Principal, Role
from eakte.cases.models import Case
from eakte.cases.schemas import Applicant, CaseCreate, Site
from eakte.db import utcnow
from eakte.documents.models import Document
from eakte.issuing import queries as issuing_queries
from eakte.process.context import running_deadlines, to_instance
from eakte.process.definitions import definitions, get_definition
from eakte.process.errors import UnknownProcedure
from eakte.process.models import ProcessInstance, ProcessTransition
from eakte.process.service import Actor, apply_action, local_today, open_case
from eakte.process.view import why_moved
from eakte.tenants.models import Tenant
from eakte.tenants.service import get_tenant

_DUMMY_DIGEST = hashlib.sha256(b"no application").hexdigest()


def new_access_code() -> str:
    """A random access code: 120 bits, base32, grouped for reading aloud."""
    raw = base64.b32encode(secrets.token_bytes(15)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def code_digest(code: str) -> str:
    """The stored form of an access code (codes carry 120 random bits, so sha256 suffices)."""
    normal = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normal.encode()).hexdigest()


def offered_procedures(tenant: Tenant) -> list[str]:
    """Procedures the authority accepts (tenant setting `procedures`, default: all installed)."""
    configured = (tenant.settings or {}).get("procedures")
    installed = sorted(definitions())
    if isinstance(configured, list):
        return [p for p in installed if p in configured]
    return installed


def start_input_from(definition: wf.Definition, data: ApplicationCreate) -> dict[str, object]:
    """The start inputs the definition declares as filled by the applicant (`applicant_field`)."""
    values: dict[str, object] = {}
    for spec in definition.start.inputs:
        if spec.applicant_field is None:
            continue
        value = getattr(data, spec.applicant_field, None)
        if value:
            values[spec.name] = value
        elif spec.required:
            raise UnknownProcedure(
                f"{definition.id} needs {spec.applicant_field!r} ({spec.label.en})"
            )
    return values


def status_url(tenant: str, file_number: str) -> str:
    """Where the applicant reads the status."""
    return f"/api/v1/authorities/{tenant}/applications/{file_number}"


async def submit(
    session: AsyncSession, principal: Principal, tenant_slug: str, data: ApplicationCreate
) -> tuple[Case, str]:
    """Create the case in its procedure's first state; returns it and the one-time access code."""
    tenant = await get_tenant(session, tenant_slug)
    if data.procedure not in offered_procedures(tenant):
        raise UnknownProcedure(f"{tenant.name} does not offer the procedure {data.procedure!r}")
    procedure_input = start_input_from(get_definition(data.procedure), data)
    first_line = data.description.strip().splitlines()[0]
    title = first_line if len(first_line) <= 120 else first_line[:119] + "…"
    case = await open_case(
        session,
        principal,
        CaseCreate(
            title=title,
            procedure=data.procedure,
            site=Site(**data.site.model_dump()),
            applicant=Applicant(name=data.applicant.name, email=data.applicant.email),
            description=data.description,
            housing=data.housing,
            received_on=local_today(),
            procedure_input=procedure_input,
        ),
        applicant_sub=principal.sub,
        tenant_slug=tenant.slug,
    )
    case.attributes = {
        **(case.attributes or {}),
        "applicant_contact": data.applicant.model_dump(mode="json"),
        "designer": data.designer.model_dump(mode="json"),
    }
    code = new_access_code()
    session.add(
        ApplicationAccess(
            case_id=case.id,
            tenant_id=tenant.slug,
            file_number=case.file_number,
            owner_sub=principal.sub,
            access_code_sha256=code_digest(code),
            submitted_at=case.created_at,
        )
    )
    await session.flush()
    await audit.record(
        session,
        tenant=tenant.slug,
        actor=principal,
        action="application.submitted",
        case_id=case.id,
        payload={"file_number": case.file_number, "received_on": local_today().isoformat()},
    )
    return case, code


@dataclass(frozen=True)
class Access:
    """A resolved application the caller may see, with what its status needs."""

    case: Case
    access: ApplicationAccess
    owner: bool
    instance: ProcessInstance
    tenant: Tenant
    issued_stamp: tuple[int, str] = (0, "")

    def version(self) -> tuple[object, ...]:
        """Changes whenever the applicant's status representation may change."""
        return (
            self.instance.revision,
            self.instance.updated_at,
            self.tenant.name,
            self.issued_stamp,
        )


def _limit_keys(tenant: str, file_number: str, client: str) -> tuple[str, str, str]:
    return f"fnaddr:{tenant}:{file_number}:{client}", f"addr:{client}", f"fn:{tenant}:{file_number}"


async def resolve(
    session: AsyncSession,
    limiter: FailureLimiter,
    *,
    tenant: str,
    file_number: str,
    client: str,
    principal: Principal | None,
    access_code: str | None,
    limits: tuple[int, int, int],
) -> Access:
    """The application if the owner token or access code fits; else the same 404 for all.

    Separate budgets (issue 18): the owner's token is never throttled; code attempts are
    counted per (file number, address), per address and, with a much larger budget, per
    file number, so a stranger's wrong codes do not lock out the owner's correct code from
    another device. The check and the count are one atomic step (`FailureLimiter.attempt`).
    """
    # issue 13: only documents bekanntgegeben to the applicant (never drafts or mere tags)
    issued_count, issued_newest = issuing_queries.applicant_stamp(ApplicationAccess.case_id)
    found = (
        await session.execute(
            select(
                ApplicationAccess,
                Case,
                ProcessInstance,
                Tenant,
                issued_count.correlate(ApplicationAccess).scalar_subquery(),
                issued_newest.correlate(ApplicationAccess).scalar_subquery(),
            )
            .join(Case, Case.id == ApplicationAccess.case_id)
            .join(ProcessInstance, ProcessInstance.case_id == ApplicationAccess.case_id)
            .join(Tenant, Tenant.slug == ApplicationAccess.tenant_id)
            .where(
                ApplicationAccess.tenant_id == tenant,
                ApplicationAccess.file_number == file_number,
            )
        )
    ).one_or_none()
    row = found[0] if found is not None else None
    owner = (
        row is not None
        and principal is not None
        and Role.applicant in principal.roles
        and hmac.compare_digest(principal.sub.encode(), row.owner_sub.encode())
    )
    if not owner:
        keys = _limit_keys(tenant, file_number, client)
        try:
            attempt = await limiter.attempt(list(zip(keys, limits, strict=True)))
        except Throttled as exc:
            error = TooManyAttempts(f"too many failed attempts; retry in {exc.retry_after} s")
            error.headers["Retry-After"] = str(exc.retry_after)
            raise error from exc
        stored = row.access_code_sha256 if row is not None else _DUMMY_DIGEST
        by_code = access_code is not None and hmac.compare_digest(code_digest(access_code), stored)
        if found is None or row is None or not by_code:
            raise ApplicationNotFound(
                f"no application {file_number} at {tenant} for these credentials"
            )
        await limiter.succeeded(list(keys), attempt)
    assert found is not None and row is not None
    return Access(
        case=found[1],
        access=row,
        owner=owner,
        instance=found[2],
        tenant=found[3],
        issued_stamp=(int(found[4] or 0), str(found[5] or "")),
    )


async def status(session: AsyncSession, found: Access) -> ApplicationStatus:
    """The applicant's view: public state, what is missing, deadlines, timeline, documents."""
    case, tenant, row = found.case, found.tenant, found.instance
    definition = get_definition(row.definition_id, row.definition_version)
    view = wf.applicant_view(
        definition, to_instance(row, await running_deadlines(session, case.id))
    )
    missing = None
    if view.nachforderung is not None:
        missing = Missing(
            items=list(view.nachforderung.items),
            received=list(view.nachforderung.received),
            outstanding=list(view.nachforderung.outstanding),
            deadline=view.nachforderung.deadline,
            withdrawal_warning=view.nachforderung.withdrawal_warning,
        )
    deadlines = []
    for d in view.deadlines:
        moved = why_moved(d.due, d.unrolled)
        deadlines.append(
            ApplicantDeadline(
                kind=d.kind,
                label_de=d.label.de,
                label_en=d.label.en,
                due=d.due,
                effective_from=d.effective_from,
                moved_from=d.unrolled if moved else None,
                why_moved_de=moved.de if moved else None,
                why_moved_en=moved.en if moved else None,
            )
        )
    transitions = await session.scalars(
        select(ProcessTransition)
        .where(ProcessTransition.case_id == case.id, ProcessTransition.public.is_(True))
        .order_by(ProcessTransition.seq)
    )
    timeline = [
        TimelineEntry(
            at=t.at, action=t.action, state=t.to_state, label_de=t.label_de, label_en=t.label_en
        )
        for t in transitions
    ]
    issued = await issuing_queries.applicant_documents(session, case.id)
    url = status_url(case.tenant_id, case.file_number)
    return ApplicationStatus(
        file_number=case.file_number,
        authority=tenant.slug,
        authority_name=tenant.name,
        procedure=definition.id,
        procedure_title=Labelled(label_de=definition.title.de, label_en=definition.title.en),
        submitted_at=found.access.submitted_at,
        status=StatusState(
            state=row.state,
            label_de=view.label.de,
            label_en=view.label.en,
            since=row.state_since,
            final=view.final,
        ),
        missing=missing,
        deadlines=deadlines,
        timeline=timeline,
        documents=[
            IssuedDocument(
                id=d.document_id,
                title=d.title,
                kind=d.kind,
                issued_at=d.issued_at,
                download_url=f"{url}/documents/{d.document_id}/content",
            )
            for d in issued
        ],
    )


class StatusCache:
    """Rendered status bodies per case, valid while `Access.version()` is unchanged.

    A status read then costs one query; every change that shows in the status bumps the
    process instance's revision, the tenant's name or the issued documents' stamp.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[object, tuple[tuple[object, ...], bytes, str]] = OrderedDict()

    def get(self, key: object, version: tuple[object, ...]) -> tuple[bytes, str] | None:
        """The cached body and ETag if still current."""
        hit = self._items.get(key)
        if hit is None or hit[0] != version:
            return None
        self._items.move_to_end(key)
        return hit[1], hit[2]

    def put(self, key: object, version: tuple[object, ...], body: bytes, etag: str) -> None:
        """Remember a rendered body."""
        self._items[key] = (version, body, etag)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


async def status_body(
    session: AsyncSession, found: Access, cache: StatusCache
) -> tuple[bytes, str]:
    """The status as JSON bytes and its strong ETag (rendered once per change)."""
    version = found.version()
    hit = cache.get(found.case.id, version)
    if hit is not None:
        return hit
    body = (await status(session, found)).model_dump_json().encode()
    etag = etag_of(body)
    cache.put(found.case.id, version, body, etag)
    return body, etag


def etag_of(body: bytes) -> str:
    """A strong ETag over the exact bytes of the status representation."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


async def my_applications(session: AsyncSession, principal: Principal) -> list[ApplicationSummary]:
    """The caller's applications at every authority, newest first."""
    rows = await session.execute(
        select(ApplicationAccess, ProcessInstance)
        .join(ProcessInstance, ProcessInstance.case_id == ApplicationAccess.case_id)
        .where(ApplicationAccess.owner_sub == principal.sub)
        .order_by(ApplicationAccess.submitted_at.desc())
        .limit(500)
    )
    items = []
    for access, instance in rows:
        definition = get_definition(instance.definition_id, instance.definition_version)
        state = definition.state(instance.state)
        assert state is not None
        items.append(
            ApplicationSummary(
                authority=access.tenant_id,
                file_number=access.file_number,
                procedure=instance.definition_id,
                state=instance.state,
                label_de=state.public_label.de,
                label_en=state.public_label.en,
                submitted_at=access.submitted_at,
                status_url=status_url(access.tenant_id, access.file_number),
            )
        )
    return items


def uploads_open(definition: wf.Definition, instance: ProcessInstance) -> bool:
    """Whether the applicant may send documents now (states tagged `applicant_uploads`)."""
    state = definition.state(instance.state)
    return state is not None and "applicant_uploads" in state.tags


def _fill_dates(action: wf.Action, today: str) -> dict[str, object]:
    """Required date inputs of an applicant action default to today (electronic receipt)."""
    return {f.name: today for f in action.inputs if f.required and str(f.type) == "date"}


async def respond(
    session: AsyncSession,
    principal: Principal,
    found: Access,
    data: NachforderungResponse,
    *,
    now: datetime | None = None,
) -> None:
    """Answer the open Nachforderung: the named items (default: all outstanding) are recorded
    as arrived today; the procedure resumes only once every requested item has arrived
    (Art. 68 Abs. 2 S. 1 BayBO: a partial answer does not restart the Fiktion clock)."""
    case = found.case
    row = await session.get(ProcessInstance, case.id, populate_existing=True)
    assert row is not None
    definition = get_definition(row.definition_id, row.definition_version)
    instance = to_instance(row, await running_deadlines(session, case.id))
    view = wf.applicant_view(definition, instance)
    if view.nachforderung is None or view.answer_action is None:
        raise NoOpenNachforderung("there is no open request for documents on this application")
    wanted = set(data.documents)
    own = set(
        await session.scalars(
            select(Document.id).where(
                Document.case_id == case.id,
                Document.id.in_(wanted),
                Document.created_by == principal.sub,
                Document.deleted_at.is_(None),
            )
        )
    )
    if own != wanted:
        unknown = ", ".join(sorted(str(d) for d in wanted - own))
        raise UnknownDocuments(
            f"these documents were not uploaded by you to this application: {unknown}"
        )
    today = local_today(now).isoformat()
    actor = Actor.of(principal)
    outstanding = list(view.nachforderung.outstanding)
    answered = list(data.items) if data.items else outstanding
    if view.record_items_action is not None and answered:
        await apply_action(
            session,
            case,
            actor,
            action=view.record_items_action.id,
            expected_state=row.state,
            input={"unterlagen": answered, "eingegangen_am": today},
            now=now,
        )
        outstanding = [i for i in outstanding if i not in answered]
    if not outstanding or view.record_items_action is None:
        await apply_action(
            session,
            case,
            actor,
            action=view.answer_action.id,
            expected_state=row.state,
            input=_fill_dates(view.answer_action, today),
            now=now,
        )
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="application.nachforderung_answered",
        case_id=case.id,
        payload={
            "documents": sorted(str(d) for d in wanted),
            "items": answered,
            "outstanding": outstanding,
            "message": data.message,
        },
        at=now or utcnow(),
    )


async def waive_fiction(
    session: AsyncSession,
    principal: Principal,
    found: Access,
    data: FictionWaiver,
    *,
    now: datetime | None = None,
) -> None:
    """Record the applicant's waiver of the Genehmigungsfiktion (Art. 68 Abs. 2 S. 2 BayBO):
    the action tagged `waive_fiction` in the current state; the clock stops."""
    case = found.case
    row = await session.get(ProcessInstance, case.id, populate_existing=True)
    assert row is not None
    definition = get_definition(row.definition_id, row.definition_version)
    view = wf.applicant_view(
        definition, to_instance(row, await running_deadlines(session, case.id))
    )
    if view.waive_action is None or (row.variables or {}).get("fiktion_verzicht"):
        raise FictionWaiverNotPossible(
            "this application has no approval by silence that could be waived now"
        )
    await apply_action(
        session,
        case,
        Actor.of(principal),
        action=view.waive_action.id,
        expected_state=row.state,
        input={"erklaert_am": local_today(now).isoformat(), "erklaerung": data.declaration},
        now=now,
    )
