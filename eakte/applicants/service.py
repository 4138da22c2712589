"""The applicant's side: submit, prove access, read status, answer a Nachforderung."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.applicants.errors import (
    ApplicationNotFound,
    NoOpenNachforderung,
    TooManyAttempts,
    UnknownDocuments,
)
from eakte.applicants.models import ApplicationAccess
from eakte.applicants.ratelimit import FailureLimiter
from eakte.applicants.schemas import (
    ApplicantDeadline,
    ApplicationCreate,
    ApplicationStatus,
    ApplicationSummary,
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
from eakte.process.context import running_deadlines
from eakte.process.definitions import definitions, get_definition
from eakte.process.errors import UnknownProcedure
from eakte.process.models import ProcessInstance, ProcessTransition
from eakte.process.service import Actor, apply_action, local_today, open_case
from eakte.tenants.models import Tenant
from eakte.tenants.service import get_tenant

ISSUED_KINDS = frozenset({"bescheid"})
NACHFORDERUNG_STATES = frozenset({"nachforderung", "unterlagen_unvollstaendig"})
FIKTION = "genehmigungsfiktion"
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
    procedure_input: dict[str, object] = {}
    if data.procedure == "baybo-71":
        if not data.questions:
            raise UnknownProcedure("a Vorbescheid (baybo-71) needs at least one question")
        procedure_input["fragen"] = data.questions
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


def _limit_keys(tenant: str, file_number: str, client: str) -> tuple[str, str]:
    return f"fn:{tenant}:{file_number}", f"addr:{client}"


async def resolve(
    session: AsyncSession,
    limiter: FailureLimiter,
    *,
    tenant: str,
    file_number: str,
    client: str,
    principal: Principal | None,
    access_code: str | None,
    limits: tuple[int, int],
) -> Access:
    """The application if the owner token or access code fits; else the same 404 for all."""
    per_file, per_address = _limit_keys(tenant, file_number, client)
    wait = await limiter.retry_after([(per_file, limits[0]), (per_address, limits[1])])
    if wait is not None:
        error = TooManyAttempts(f"too many failed attempts; retry in {wait} s")
        error.headers["Retry-After"] = str(wait)
        raise error
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
    stored = row.access_code_sha256 if row is not None else _DUMMY_DIGEST
    by_code = access_code is not None and hmac.compare_digest(code_digest(access_code), stored)
    owner = (
        row is not None
        and principal is not None
        and Role.applicant in principal.roles
        and hmac.compare_digest(principal.sub.encode(), row.owner_sub.encode())
    )
    if found is None or row is None or not (by_code or owner):
        await limiter.fail([per_file, per_address])
        raise ApplicationNotFound(f"no application {file_number} at {tenant} for these credentials")
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
    state = definition.state(row.state)
    assert state is not None
    running = await running_deadlines(session, case.id)
    missing = None
    if row.state in NACHFORDERUNG_STATES:
        variables = row.variables or {}
        items = variables.get("nachgefordert") or variables.get("fehlende_unterlagen") or []
        due = next((d.due for d in running if d.kind == "nachforderungsfrist"), None)
        missing = Missing(
            items=[str(i) for i in items],
            deadline=due,
            withdrawal_warning=bool(variables.get("hinweis_ruecknahmefiktion")),
        )
    deadlines = [
        ApplicantDeadline(
            kind=d.kind,
            label_de=d.label_de,
            label_en=d.label_en,
            due=d.due,
            effective_from=d.due + timedelta(days=1) if d.kind == FIKTION else None,
        )
        for d in running
        if d.public
    ]
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
            label_de=state.public_label.de,
            label_en=state.public_label.en,
            since=row.state_since,
            final=state.final,
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


def uploads_open(case_state: str, initial_state: str) -> bool:
    """Bauvorlagen may be sent before completeness is confirmed or while a Nachforderung runs."""
    return case_state == initial_state or case_state in NACHFORDERUNG_STATES


async def respond(
    session: AsyncSession,
    principal: Principal,
    found: Access,
    data: NachforderungResponse,
    *,
    now: datetime | None = None,
) -> None:
    """Answer the open Nachforderung: the procedure resumes (unterlagen_nachreichen)."""
    case = found.case
    row = await session.get(ProcessInstance, case.id, populate_existing=True)
    assert row is not None
    if row.state not in NACHFORDERUNG_STATES:
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
    await apply_action(
        session,
        case,
        Actor.of(principal),
        action="unterlagen_nachreichen",
        expected_state=row.state,
        input={"nachgereicht_am": local_today(now).isoformat()},
        now=now,
    )
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="application.nachforderung_answered",
        case_id=case.id,
        payload={"documents": sorted(str(d) for d in wanted), "message": data.message},
        at=now or utcnow(),
    )
