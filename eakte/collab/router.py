"""The co-editing WebSocket (y-websocket protocol) and the workspace's HTTP view."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, WebSocket
from starlette.websockets import WebSocketDisconnect

from eakte.auth.bearer import SUBPROTOCOL, authenticate, valid_until, websocket_token
from eakte.auth.principal import CASE_READ_ROLES, Principal
from eakte.cases.models import Case
from eakte.cases.service import get_case
from eakte.collab import crdt, history
from eakte.collab.connection import (
    CASE_CLOSED_REASON,
    CLOSE_FORBIDDEN,
    CLOSE_INTERNAL,
    CLOSE_NOT_FOUND,
    CLOSE_POLICY,
    CLOSE_RESTART,
    CLOSE_TOO_BIG,
    CLOSE_UNAUTHENTICATED,
    CLOSE_UNSUPPORTED,
    READ_ROLES,
    WRITE_ROLES,
    CloseConnection,
    Connection,
    Limits,
)
from eakte.collab.hub import CollabHub
from eakte.collab.projection import field_errors
from eakte.collab.room import Room
from eakte.collab.schemas import (
    FieldReason,
    FieldsCheck,
    FieldsChecked,
    HistoryEntry,
    HistoryList,
    HistoryView,
    RestoreResult,
    VersionCreate,
    VersionList,
    VersionRead,
    WorkspaceRead,
)
from eakte.collab.versions import create_version, list_versions
from eakte.collab.wsprotocol import message_receiver
from eakte.config import Settings
from eakte.deps import ReadSessionDep, require_roles
from eakte.errors import CaseNotFound, Forbidden, Unauthenticated
from eakte.openapi import problems
from eakte.records.errors import CaseClosed
from eakte.records.guard import ensure_writable

log = logging.getLogger("eakte.collab")

router = APIRouter(tags=["collab"])
# not agencies: the workspace holds the internal Vermerk and the decision draft (issue 16)
Reader = Annotated[Principal, Depends(require_roles(*CASE_READ_ROLES))]
Writer = Annotated[Principal, Depends(require_roles(*WRITE_ROLES))]


def _hub(app: object) -> CollabHub:
    return app.state.collab  # type: ignore[attr-defined,no-any-return]


async def _authorize(websocket: WebSocket, case_id: str) -> tuple[Principal, Case, bool, bool]:
    """Token, tenant and case check; raises CloseConnection with the code to close with.

    Returns the principal, the case, whether the token came as a subprotocol and whether
    the case is closed (abgeschlossen: read-only for every role, Art. 33 BayDiG).
    """
    app = websocket.app
    token, as_subprotocol = websocket_token(websocket.query_params, websocket.headers)
    if not token:
        raise CloseConnection(CLOSE_UNAUTHENTICATED, "missing token")
    try:
        principal = await authenticate(app.state, token)
    except Unauthenticated as exc:
        raise CloseConnection(CLOSE_UNAUTHENTICATED, exc.detail[:100]) from exc
    except Forbidden as exc:
        raise CloseConnection(CLOSE_FORBIDDEN, exc.detail[:100]) from exc
    if not principal.has_any(READ_ROLES):
        raise CloseConnection(CLOSE_FORBIDDEN, "this role may not open the workspace")
    if not principal.has_any(CASE_READ_ROLES):
        # an agency (Fachstelle) reads the Bauvorlagen and its request, never the internal
        # workspace (Vermerk, decision draft): a Y.Doc cannot be synced in part, so none of it
        raise CloseConnection(CLOSE_FORBIDDEN, "agencies do not see the internal workspace")
    try:
        ident = uuid.UUID(case_id)
        async with app.state.db.session(write=False) as session:
            case = await get_case(session, principal, ident)
            try:
                await ensure_writable(session, case.id)
                closed = False
            except CaseClosed:
                closed = True
    except (ValueError, CaseNotFound) as exc:
        raise CloseConnection(CLOSE_NOT_FOUND, "case not found") from exc
    return principal, case, as_subprotocol, closed


def limits(settings: Settings) -> Limits:
    """The per-connection limits of the settings."""
    return Limits(
        max_messages_per_second=settings.collab_max_messages_per_second,
        max_updates_per_second=settings.collab_max_updates_per_second,
        max_outbox_bytes=settings.collab_max_outbox_bytes,
        max_pending_bytes=settings.collab_max_pending_bytes,
        pending_seconds=settings.collab_pending_seconds,
        query_awareness_per_second=settings.collab_query_awareness_per_second,
    )


@router.websocket("/api/v1/collab/{case_id}")
async def collab_socket(websocket: WebSocket, case_id: str) -> None:
    """y-websocket endpoint: `new WebsocketProvider(url, caseId, doc, {params: {token}})`."""
    hub = _hub(websocket.app)
    settings = websocket.app.state.settings
    try:
        principal, case, as_subprotocol, closed = await _authorize(websocket, case_id)
    except CloseConnection as refusal:
        # checked before accepting; accepted only to deliver the close code to the client
        offered = websocket.headers.get("sec-websocket-protocol", "")
        await websocket.accept(SUBPROTOCOL if SUBPROTOCOL in offered else None)
        await websocket.close(refusal.code, refusal.reason)
        log.info("collab: refused case %s: %d %s", case_id, refusal.code, refusal.reason)
        return
    subprotocol = SUBPROTOCOL if as_subprotocol else None
    if hub.stopping:
        await websocket.accept(subprotocol)
        await websocket.close(CLOSE_RESTART, "server shutting down")
        return
    await websocket.accept(subprotocol)
    conn = Connection(websocket, principal, limits(settings))
    if closed:
        conn.make_read_only(CASE_CLOSED_REASON)
    until = valid_until(principal)
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(conn.run())
        room = await hub.join(case, conn)
        try:
            deadline = (
                None if until is None else asyncio.get_running_loop().time() + (until - time.time())
            )
            async with asyncio.timeout_at(deadline):
                await _receive(websocket, conn, room, settings.collab_max_message_bytes)
        except TimeoutError:
            log.info("collab: token of %s expired on case %s", principal.sub, case.id)
            conn.close(CLOSE_UNAUTHENTICATED, "token expired")
        except CloseConnection as exc:
            _closing(conn, room, exc)
            conn.close(exc.code, exc.reason)
        except WebSocketDisconnect:
            pass
        finally:
            room.leave(conn)
            conn.stop()


async def _receive(websocket: WebSocket, conn: Connection, room: Room, limit: int) -> None:
    """Handle the client's messages until it disconnects or the room closes the connection.

    Under `eakte serve` the server hands binary messages straight to `_deliver` as it reads
    them (eakte/collab/wsprotocol); what still arrives here is the disconnect and whatever
    the server queues instead (another ASGI server, text frames, messages read before).
    """
    receiver = message_receiver(websocket.scope)
    if receiver is not None:
        receiver(functools.partial(_deliver, conn, room, limit))
    try:
        # closed from inside the room (e.g. a held update was refused): nothing it sent after
        # that is handled, whether it was read before or after the close
        while not conn.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect" or conn.closed:
                return
            data = message.get("bytes")
            if data is None:
                raise CloseConnection(CLOSE_UNSUPPORTED, "text frames are not part of the protocol")
            _handle(conn, room, data, limit)
    finally:
        if receiver is not None:
            receiver(None)


def _handle(conn: Connection, room: Room, data: bytes, limit: int) -> None:
    if len(data) > limit:
        raise CloseConnection(CLOSE_TOO_BIG, f"message larger than {limit} bytes")
    if not conn.allow_message():
        raise CloseConnection(CLOSE_POLICY, "too many messages per second")
    room.receive(conn, data)


def _deliver(conn: Connection, room: Room, limit: int, data: bytes) -> None:
    """One message handed over by the server: handled as `_receive` would, errors close it."""
    if conn.closed:  # closing: the client's close frame (or the server's timeout) ends it
        return
    try:
        _handle(conn, room, data, limit)
    except CloseConnection as exc:
        _closing(conn, room, exc)
        conn.close(exc.code, exc.reason)
    except Exception:
        log.exception("collab: message of %s on case %s failed", conn.principal.sub, room.case_id)
        conn.close(CLOSE_INTERNAL, "internal error")


def _closing(conn: Connection, room: Room, exc: CloseConnection) -> None:
    log.warning(
        "collab: closing %s on case %s: %d %s",
        conn.principal.sub,
        room.case_id,
        exc.code,
        exc.reason,
    )


@router.get(
    "/api/v1/cases/{case_id}/workspace",
    response_model=WorkspaceRead,
    responses=problems(401, 403, 404, 422),
)
async def read_workspace(
    request: Request, case_id: uuid.UUID, principal: Reader, session: ReadSessionDep
) -> WorkspaceRead:
    """The co-edited workspace of the case as JSON (committed state)."""
    case = await get_case(session, principal, case_id)
    state, seq = await _hub(request.app).committed_state(case)
    return WorkspaceRead(case_id=case.id, seq=seq, **crdt.Workspace(state).to_json())


@router.post(
    "/api/v1/cases/{case_id}/workspace/fields/check",
    response_model=FieldsChecked,
    responses=problems(401, 403, 404, 422),
)
async def check_fields(
    case_id: uuid.UUID, body: FieldsCheck, principal: Writer, session: ReadSessionDep
) -> FieldsChecked:
    """Check co-edited fields as you type: the reason a value would not reach the case record.

    The same rules as the projection of the workspace into the case (eakte/collab/projection),
    so the field can say why, e.g., "kein-email" is kept out of the record.
    """
    await get_case(session, principal, case_id)
    reasons = field_errors(dict(body.fields))
    return FieldsChecked(errors={k: FieldReason(**v) for k, v in reasons.items()})


@router.post(
    "/api/v1/cases/{case_id}/workspace/versions",
    response_model=VersionRead,
    status_code=201,
    responses=problems(401, 403, 404, 422),
)
async def freeze_version(
    request: Request,
    case_id: uuid.UUID,
    body: VersionCreate,
    principal: Writer,
    session: ReadSessionDep,
) -> VersionRead:
    """Freeze the current workspace into a named version (a document plus the Yjs state)."""
    case = await get_case(session, principal, case_id)
    await session.close()
    hub = _hub(request.app)
    room = hub.rooms.get(case.id)
    if room is not None:
        await room.settle()
    state, seq = await hub.committed_state(case)
    return await create_version(
        request.app.state.db,
        request.app.state.store,
        principal,
        case.id,
        name=body.name,
        state=state,
        seq=seq,
    )


@router.get(
    "/api/v1/cases/{case_id}/workspace/versions",
    response_model=VersionList,
    responses=problems(401, 403, 404, 422),
)
async def read_versions(
    case_id: uuid.UUID, principal: Reader, session: ReadSessionDep
) -> VersionList:
    """The named versions of the workspace, oldest first."""
    case = await get_case(session, principal, case_id)
    return VersionList(items=await list_versions(session, case.id))


@router.get(
    "/api/v1/cases/{case_id}/workspace/history",
    response_model=HistoryList,
    responses=problems(401, 403, 404, 422),
)
async def read_history(
    request: Request,
    case_id: uuid.UUID,
    principal: Reader,
    session: ReadSessionDep,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
) -> HistoryList:
    """Who changed the workspace when: one entry per user and time window, oldest first."""
    case = await get_case(session, principal, case_id)
    await session.close()
    rows = await history.list_entries(
        request.app.state.db, _hub(request.app), case, since=since, until=until, actor=actor
    )
    return HistoryList(items=[HistoryEntry.model_validate(r, from_attributes=True) for r in rows])


@router.get(
    "/api/v1/cases/{case_id}/workspace/history/{entry_id}",
    response_model=HistoryView,
    responses=problems(401, 403, 404, 422),
)
async def read_history_entry(
    request: Request,
    case_id: uuid.UUID,
    entry_id: uuid.UUID,
    principal: Reader,
    session: ReadSessionDep,
) -> HistoryView:
    """What one user changed in one window: Vermerk, decision draft etc. before and after."""
    case = await get_case(session, principal, case_id)
    await session.close()
    found = await history.view_entry(request.app.state.db, _hub(request.app), case, entry_id)
    return HistoryView(
        entry=HistoryEntry.model_validate(found["entry"], from_attributes=True),
        before=found["before"],
        after=found["after"],
        at_window_end=found["at_window_end"],
    )


@router.post(
    "/api/v1/cases/{case_id}/workspace/history/{entry_id}/restore",
    response_model=RestoreResult,
    responses=problems(401, 403, 404, 422),
)
async def restore_history_point(
    request: Request,
    case_id: uuid.UUID,
    entry_id: uuid.UUID,
    principal: Writer,
    session: ReadSessionDep,
) -> RestoreResult:
    """Bring the workspace back to the point right after that entry, as a new attributed edit."""
    case = await get_case(session, principal, case_id)
    await session.close()
    changed, seq, digest = await history.restore(
        request.app.state.db, _hub(request.app), principal, case, history_id=entry_id
    )
    return RestoreResult(changed=changed, seq=seq, restored_sha256=digest)


@router.post(
    "/api/v1/cases/{case_id}/workspace/versions/{version_id}/restore",
    response_model=RestoreResult,
    responses=problems(401, 403, 404, 422),
)
async def restore_version(
    request: Request,
    case_id: uuid.UUID,
    version_id: uuid.UUID,
    principal: Writer,
    session: ReadSessionDep,
) -> RestoreResult:
    """Bring the workspace back to a named version, as a new attributed edit."""
    case = await get_case(session, principal, case_id)
    await session.close()
    changed, seq, digest = await history.restore(
        request.app.state.db, _hub(request.app), principal, case, version_id=version_id
    )
    return RestoreResult(changed=changed, seq=seq, restored_sha256=digest)
