"""Named versions: freeze the workspace into a document version (Markdown) plus its Yjs state."""

from __future__ import annotations

import hashlib
import io
import re
import uuid

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.audit import service as audit
from eakte.auth.principal import Principal
from eakte.cases.service import get_case
from eakte.collab import crdt
from eakte.collab.models import CollabVersion
from eakte.collab.schemas import VersionRead
from eakte.db import Database
from eakte.documents import service as documents
from eakte.documents.kinds import DocumentKind
from eakte.documents.schemas import DocumentFields
from eakte.documents.streaming import StoredFile, remove_object
from storage import ObjectStore

MEDIA_TYPE = "text/markdown"


def version_read(version: CollabVersion, document_version: int = 1) -> VersionRead:
    """Map a row to the API shape."""
    return VersionRead(
        id=version.id,
        case_id=version.case_id,
        name=version.name,
        seq=version.seq,
        document_id=version.document_id,
        content_url=documents.content_url(version.case_id, version.document_id, document_version),
        state_size=len(version.state),
        created_by=version.created_by,
        created_by_name=version.created_by_name,
        created_at=version.created_at,
    )


def _filename(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60] or "version"
    return f"arbeitsstand-{slug}.md"


async def create_version(
    db: Database,
    store: ObjectStore,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    name: str,
    state: bytes,
    seq: int,
) -> VersionRead:
    """Render `state`, store it as a new document (version 1) and record the Yjs state."""
    rendered = crdt.render_markdown(crdt.Workspace(state).to_json(), title=f"Arbeitsstand: {name}")
    body = rendered.encode("utf-8")
    async with db.session(write=False) as session:
        case, _ = await documents.upload_target(session, principal, case_id)
    document_id, version_id = uuid.uuid4(), uuid.uuid4()
    key = documents.object_key(case.tenant_id, case.id, document_id, version_id)
    info = await anyio.to_thread.run_sync(
        lambda: store.put(key, io.BytesIO(body), len(body), MEDIA_TYPE)
    )
    try:
        async with db.session(write=True) as session:
            case = await get_case(session, principal, case_id)
            await documents.create_document(
                session,
                principal,
                case,
                document_id=document_id,
                version_id=version_id,
                data=DocumentFields(
                    title=f"Arbeitsstand: {name}"[:300],
                    kind=DocumentKind.sonstiges,
                    comment="Co-editing workspace, frozen as a named version",
                ),
                file=StoredFile(
                    key=key, info=info, filename=_filename(name), media_type=MEDIA_TYPE
                ),
            )
            version = CollabVersion(
                tenant_id=case.tenant_id,
                case_id=case.id,
                name=name,
                seq=seq,
                state=state,
                document_id=document_id,
                created_by=principal.sub,
                created_by_name=principal.name,
            )
            session.add(version)
            await session.flush()
            await audit.record(
                session,
                tenant=case.tenant_id,
                actor=principal,
                action="workspace.version_created",
                case_id=case.id,
                payload={
                    "version_id": str(version.id),
                    "name": name,
                    "seq": seq,
                    "document_id": str(document_id),
                    "state_sha256": hashlib.sha256(state).hexdigest(),
                },
            )
            result = version_read(version)
    except BaseException:
        await remove_object(store, key)
        raise
    return result


async def list_versions(session: AsyncSession, case_id: uuid.UUID) -> list[VersionRead]:
    """The case's named versions, oldest first (the caller has checked access)."""
    rows = await session.scalars(
        select(CollabVersion)
        .where(CollabVersion.case_id == case_id)
        .order_by(CollabVersion.created_at, CollabVersion.id)
    )
    return [version_read(v) for v in rows]
