"""The rules of case files: create, read, list, change, history."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from eakte.audit import service as audit
from eakte.audit.models import AuditEvent
from eakte.audit.wording import sentence
from eakte.auth.principal import CASE_READ_ROLES, Principal, Role
from eakte.cases.models import Case, CaseGrant
from eakte.cases.schemas import (
    Applicant,
    AssignmentUpdate,
    CaseCreate,
    CaseRead,
    CaseUpdate,
    HistoryEntry,
    Official,
    Site,
)
from eakte.db import utcnow
from eakte.documents.visibility import agency_view
from eakte.errors import (
    AssignmentConflict,
    BadRequest,
    CaseNotFound,
    PreconditionFailed,
    ValidationFailed,
)
from eakte.records.guard import ensure_writable
from eakte.search.index import matching_case_ids, terms
from eakte.tenants import members as directory
from eakte.tenants.service import get_tenant, next_file_number

SEARCHED = ("file_number", "title", "site_address", "applicant_name")
MIN_INDEXED_TERM = 3


def search_text(values: dict[str, Any]) -> str:
    """The case-folded text that `q` searches (file number, title, address, applicant)."""
    return "\n".join(str(values[k]).casefold() for k in SEARCHED if values.get(k))


class UnknownOfficial(ValidationFailed):
    slug = "unknown-official"
    title = "Unbekannte Sachbearbeiterin oder unbekannter Sachbearbeiter / Unknown official"


def _official(sub: str | None, name: str | None) -> Official | None:
    return Official(sub=sub, name=name or sub) if sub else None


def to_read(case: Case) -> CaseRead:
    """Map the ORM row to the API shape."""
    return CaseRead(
        id=case.id,
        tenant=case.tenant_id,
        file_number=case.file_number,
        title=case.title,
        procedure=case.procedure,
        state=case.state,
        site=Site(
            address=case.site_address,
            gemarkung=case.site_gemarkung,
            flurstueck=case.site_flurstueck,
        ),
        applicant=Applicant(name=case.applicant_name, email=case.applicant_email),
        description=case.description,
        housing=bool((case.attributes or {}).get("housing")),
        revision=case.revision,
        assignee=_official(case.assignee_sub, case.assignee_name),
        deputy=_official(case.deputy_sub, case.deputy_name),
        assignment_tag=assignment_tag(case),
        created_by=case.created_by,
        created_at=case.created_at,
        updated_at=case.updated_at,
    )


def visibility(principal: Principal) -> ColumnElement[bool]:
    """The cases a principal may see: its tenant's, and only if its role reads cases."""
    if principal.has_any(CASE_READ_ROLES):
        return Case.tenant_id == principal.tenant
    if Role.agency in principal.roles:
        # an agency sees only the cases it was granted (asked in a Beteiligung)
        granted = select(CaseGrant.case_id).where(
            CaseGrant.tenant_id == principal.tenant,
            CaseGrant.subject == principal.sub,
        )
        return and_(Case.tenant_id == principal.tenant, Case.id.in_(granted))
    return false()


async def grant_access(
    session: AsyncSession, case: Case, subject: str, *, reason: str, now: datetime | None = None
) -> None:
    """Let `subject` (e.g. an agency's token sub) see this one case; idempotent."""
    exists = await session.scalar(
        select(CaseGrant.id).where(CaseGrant.case_id == case.id, CaseGrant.subject == subject)
    )
    if exists is None:
        session.add(
            CaseGrant(
                tenant_id=case.tenant_id,
                case_id=case.id,
                subject=subject,
                reason=reason,
                created_at=now or utcnow(),
            )
        )
        await session.flush()


async def create_case(
    session: AsyncSession,
    principal: Principal,
    data: CaseCreate,
    *,
    initial_state: str,
    applicant_sub: str | None = None,
    tenant_slug: str | None = None,
) -> Case:
    """Create a case with the tenant's next file number and record it in the audit trail.

    The caller (the procedure service) checked the procedure and gives its first state.
    """
    state = initial_state
    tenant = await get_tenant(session, tenant_slug or principal.tenant)
    now = utcnow()
    file_number, seq = await next_file_number(session, tenant, now.year)
    case = Case(
        id=uuid.uuid4(),
        tenant_id=tenant.slug,
        file_number=file_number,
        year=now.year,
        seq=seq,
        title=data.title,
        procedure=data.procedure,
        state=state,
        description=data.description,
        site_address=data.site.address,
        site_gemarkung=data.site.gemarkung,
        site_flurstueck=data.site.flurstueck,
        applicant_name=data.applicant.name,
        applicant_email=data.applicant.email,
        applicant_sub=applicant_sub,
        attributes={"housing": data.housing},
        revision=1,
        created_by=principal.sub,
        created_at=now,
        updated_at=now,
    )
    if Role.clerk in principal.roles and applicant_sub is None:
        # a clerk who records a case is its Sachbearbeiter until someone reassigns it
        case.assignee_sub, case.assignee_name = principal.sub, principal.name or principal.sub
        await directory.remember(session, principal)
    case.search_text = search_text({k: getattr(case, k) for k in SEARCHED})
    session.add(case)
    await session.flush()
    await audit.record(
        session,
        tenant=tenant.slug,
        actor=principal,
        action="case.created",
        case_id=case.id,
        payload={"file_number": file_number, "case": to_read(case).model_dump(mode="json")},
        at=now,
    )
    return case


async def get_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> Case:
    """The case if the principal may see it; otherwise CaseNotFound (never 403)."""
    case = await session.scalar(select(Case).where(Case.id == case_id, visibility(principal)))
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


def encode_cursor(case: Case) -> str:
    """An opaque cursor after `case` in list order."""
    raw = json.dumps([case.created_at.isoformat(), str(case.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Parse a cursor from `encode_cursor` or raise BadRequest."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, ident = json.loads(raw)
        return datetime.fromisoformat(created), uuid.UUID(ident)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise BadRequest("invalid cursor") from exc


def site_filters(*, gemarkung: str | None, flurstueck: str | None) -> list[ColumnElement[bool]]:
    """Structured filters on the site: Gemarkung (case-insensitive) and Flurstück (exact)."""
    conditions = []
    if gemarkung and gemarkung.strip():
        conditions.append(func.lower(Case.site_gemarkung) == gemarkung.strip().casefold())
    if flurstueck and flurstueck.strip():
        conditions.append(Case.site_flurstueck == flurstueck.strip())
    return conditions


def _metadata_match(q: str) -> ColumnElement[bool]:
    conditions = []
    for term in q.casefold().split():
        # a term shorter than a trigram cannot use the trigram index on PostgreSQL (0006)
        # and would make it read the whole index: match it on an unindexed expression
        haystack = Case.search_text if len(term) >= MIN_INDEXED_TERM else Case.search_text + ""
        conditions.append(
            or_(
                haystack.like(f"%{_like_escape(term)}%", escape="\\"),
                Case.site_flurstueck == term,
                func.lower(Case.site_gemarkung) == term,
            )
        )
    return and_(*conditions)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_cases(
    session: AsyncSession,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None = None,
    state: str | None = None,
    procedure: str | None = None,
    q: str | None = None,
    gemarkung: str | None = None,
    flurstueck: str | None = None,
) -> tuple[list[Case], str | None]:
    """One page of the principal's cases, newest first, with filters and full-text `q`.

    `q` finds a case by its metadata (every word) or by the text of its documents.
    """
    stmt = select(Case).where(
        visibility(principal), *site_filters(gemarkung=gemarkung, flurstueck=flurstueck)
    )
    if state:
        stmt = stmt.where(Case.state == state)
    if procedure:
        stmt = stmt.where(Case.procedure == procedure)
    if q and q.strip():
        if terms(q):
            # an agency's `q` looks only into the documents it may read (issue 16)
            in_documents = matching_case_ids(session, q, principal.tenant, agency_view(principal))
            stmt = stmt.where(or_(_metadata_match(q), Case.id.in_(in_documents)))
        else:  # punctuation only: nothing for the text index to match
            stmt = stmt.where(_metadata_match(q))
    if cursor:
        created, ident = decode_cursor(cursor)
        stmt = stmt.where(
            # the redundant `<=` lets the (tenant_id, created_at, id) index start at the cursor
            # instead of filtering every newer case (deep pages cost what the first one does)
            Case.created_at <= created,
            or_(
                Case.created_at < created,
                and_(Case.created_at == created, Case.id < ident),
            ),
        )
    stmt = stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit + 1)
    rows = list((await session.scalars(stmt)).all())
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _changes(case: Case, data: CaseUpdate) -> dict[str, tuple[Any, Any]]:
    wanted: dict[str, Any] = {}
    if "title" in data.model_fields_set and data.title is not None:
        wanted["title"] = data.title
    if "description" in data.model_fields_set and data.description is not None:
        wanted["description"] = data.description
    if data.site is not None:
        for name in data.site.model_fields_set:
            value = getattr(data.site, name)
            if value is not None:
                wanted[f"site_{name}"] = value
    if data.applicant is not None:
        wanted["applicant_name"] = data.applicant.name
        wanted["applicant_email"] = data.applicant.email
    return {
        key: (getattr(case, key), value)
        for key, value in wanted.items()
        if getattr(case, key) != value
    }


async def update_case(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    data: CaseUpdate,
    *,
    expected_revision: int,
    action: str = "case.updated",
) -> Case:
    """Apply a partial change if the case is still at `expected_revision` (else 412)."""
    case = await get_case(session, principal, case_id)
    await ensure_writable(session, case.id)
    if case.revision != expected_revision:
        raise PreconditionFailed(
            f"case is at revision {case.revision}, not {expected_revision}",
            current_revision=case.revision,
        )
    changes = _changes(case, data)
    if not changes:
        return case
    values: dict[str, Any] = {key: new for key, (_, new) in changes.items()}
    values["updated_at"] = utcnow()
    values["revision"] = Case.revision + 1
    current = {k: getattr(case, k) for k in SEARCHED}
    values["search_text"] = search_text({**current, **values})
    result = await session.execute(
        update(Case)
        .where(Case.id == case.id, Case.revision == expected_revision)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed("the case was changed concurrently; reload and retry")
    await session.refresh(case)
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action=action,
        case_id=case.id,
        payload={
            "revision": case.revision,
            "changes": {k: {"old": old, "new": new} for k, (old, new) in changes.items()},
        },
        at=values["updated_at"],
    )
    return case


async def _clerk(
    session: AsyncSession, tenant: str, sub: str | None, field: str
) -> Official | None:
    if sub is None:
        return None
    found = await directory.member(session, tenant, sub)
    if found is None or Role.clerk.value not in (found.roles or []):
        raise UnknownOfficial(
            f"{sub!r} ist keine Sachbearbeiterin/kein Sachbearbeiter dieser Behörde, die sich "
            f"schon angemeldet hat / {sub!r} is not a clerk of this authority who has signed in",
            field=field,
        )
    return Official(sub=found.sub, name=found.name)


def assignment_tag(case: Case) -> str:
    """An entity tag of who is assigned (Sachbearbeitung, Vertretung): changes with them only."""
    who = f"{case.assignee_sub or ''}\n{case.deputy_sub or ''}".encode()
    return f'"a-{hashlib.sha256(who).hexdigest()[:16]}"'


async def assign_case(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    data: AssignmentUpdate,
    *,
    if_match: str | None = None,
) -> Case:
    """Set the Sachbearbeiter and the Vertretung (clerks of the tenant's directory); audited.

    Assignment is not a change of the case's content: the revision stays, so an open
    co-editing session or a PATCH in flight is not invalidated by a reassignment."""
    case = await get_case(session, principal, case_id)
    await ensure_writable(session, case.id)
    if if_match is not None and if_match.strip() != assignment_tag(case):
        raise AssignmentConflict(
            "Die Zuständigkeit wurde inzwischen geändert – bitte neu laden / "
            "the assignment was changed meanwhile; reload and try again"
        )
    assignee = await _clerk(session, case.tenant_id, data.assignee, "assignee")
    deputy = await _clerk(session, case.tenant_id, data.deputy, "deputy")
    if assignee is not None and deputy is not None and assignee.sub == deputy.sub:
        raise UnknownOfficial(
            "Vertretung und Sachbearbeitung müssen verschiedene Personen sein / "
            "the deputy must be someone other than the responsible official",
            field="deputy",
        )
    before = {"assignee": case.assignee_sub, "deputy": case.deputy_sub}
    case.assignee_sub = assignee.sub if assignee else None
    case.assignee_name = assignee.name if assignee else None
    case.deputy_sub = deputy.sub if deputy else None
    case.deputy_name = deputy.name if deputy else None
    after = {"assignee": case.assignee_sub, "deputy": case.deputy_sub}
    if before == after:
        return case
    now = utcnow()
    await session.flush()
    await audit.record(
        session,
        tenant=case.tenant_id,
        actor=principal,
        action="case.assigned",
        case_id=case.id,
        payload={"old": before, "new": after},
        at=now,
    )
    return case


async def history(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> list[HistoryEntry]:
    """The case's audit events, oldest first."""
    case = await get_case(session, principal, case_id)
    events = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.tenant_id == case.tenant_id, AuditEvent.case_id == case.id)
        .order_by(AuditEvent.seq)
    )
    rows = list(events)
    # some events carry only the subject (workspace edits): name it as the others of the case do
    names = {e.actor: e.actor_name for e in rows if e.actor_name}
    return [
        HistoryEntry(
            seq=e.seq,
            at=e.occurred_at,
            actor=e.actor,
            actor_name=e.actor_name,
            action=e.action,
            text=sentence(e.actor, e.actor_name or names.get(e.actor), e.action, e.payload),
            details=e.payload,
        )
        for e in rows
    ]
