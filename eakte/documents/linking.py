"""Issue download links for the versions a principal may read (issue 19).

The issuance is the authorised access: the same case visibility, agency view and withdrawal
rules as the download routes (`service.get_version`, `service.list_documents`). The bytes
then go out without the app: nginx checks a signed link (`links.py`), or the S3 store a
presigned URL. Applicants get no links: their first download of a document provided for
retrieval is its Bekanntgabe (Art. 41 Abs. 2a BayVwVfG), recorded by the applicant route,
which a link would bypass.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.auth.principal import Principal
from eakte.cases.service import get_case
from eakte.config import Settings
from eakte.documents import links
from eakte.documents.download import content_disposition
from eakte.documents.errors import ContentUnavailable, DocumentNotFound, DownloadLinksUnavailable
from eakte.documents.models import VERSION_OK, Document, DocumentVersion
from eakte.documents.schemas import DownloadLink, DownloadLinkList
from eakte.documents.visibility import agency_view
from storage import ObjectStore, StorageError

log = logging.getLogger("eakte.documents")


@dataclass(frozen=True)
class LinkIssuer:
    """Makes the links of one process: signed (HMAC) or presigned by the S3 store."""

    mode: str
    secret: bytes | None
    ttl_seconds: int
    base_url: str
    store: ObjectStore

    @classmethod
    def from_settings(cls, settings: Settings, store: ObjectStore) -> LinkIssuer:
        """The issuer the settings describe (`EAKTE_DOWNLOAD_LINK*`)."""
        secret = settings.resolved_download_link_secret()
        base = settings.download_link_base_url or f"{settings.public_base_url}/api/v1/dl"
        return cls(
            mode=settings.download_links,
            secret=secret.encode() if secret else None,
            ttl_seconds=settings.download_link_ttl_seconds,
            base_url=base.rstrip("/"),
            store=store,
        )

    def expiry(self, now: float) -> int:
        """The Unix second at which links made at `now` stop working."""
        return int(now) + self.ttl_seconds

    def url(self, version: DocumentVersion, expires: int, now: float) -> str:
        """The link of one version (blocking for presigned URLs: call in a thread)."""
        if self.mode == "presigned":
            try:
                return self.store.presigned_get(  # type: ignore[attr-defined,no-any-return]
                    version.object_key,
                    timedelta(seconds=expires - int(now)),
                    content_type=version.media_type,
                    content_disposition=content_disposition(version.filename),
                )
            except StorageError as exc:
                log.error("cannot presign %s: %s", version.object_key, exc)
                raise ContentUnavailable("the object store cannot make links now") from exc
        if self.secret is None:
            raise DownloadLinksUnavailable(
                "set EAKTE_DOWNLOAD_LINK_SECRET(_FILE) to issue download links",
                detail_de="Für Download-Links muss EAKTE_DOWNLOAD_LINK_SECRET gesetzt sein",
            )
        grant = links.Grant(
            tenant=version.tenant_id,
            key=version.object_key,
            expires=expires,
            media_type=version.media_type,
            disposition=content_disposition(version.filename),
        )
        return f"{self.base_url}/{links.sign(self.secret, grant)}"


def check_usable(document: Document, version: DocumentVersion) -> None:
    if version.status != VERSION_OK:
        raise ContentUnavailable(
            f"the stored content of document {document.id} version {version.number} failed "
            f"the integrity check (marked {version.status}); restore it from backup"
        )


def make_link(
    issuer: LinkIssuer, document: Document, version: DocumentVersion, expires: int, now: float
) -> DownloadLink:
    return DownloadLink(
        document_id=document.id,
        number=version.number,
        filename=version.filename,
        media_type=version.media_type,
        size=version.size,
        sha256=version.sha256,
        url=issuer.url(version, expires, now),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


async def newest_versions(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    document_ids: list[uuid.UUID] | None,
) -> list[tuple[Document, DocumentVersion]]:
    """The newest version of each listed document (all if None) the principal sees."""
    case = await get_case(session, principal, case_id)
    stmt = (
        select(Document, DocumentVersion)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(
            Document.case_id == case.id,
            Document.tenant_id == case.tenant_id,
            Document.deleted_at.is_(None),
            DocumentVersion.number == Document.version_count,
        )
    )
    if (restricted := agency_view(principal)) is not None:
        stmt = stmt.where(restricted)
    if document_ids is not None:
        stmt = stmt.where(Document.id.in_(set(document_ids)))
    rows = [
        (d, v) for d, v in (await session.execute(stmt.order_by(Document.created_at, Document.id)))
    ]
    if document_ids is not None:
        found = {d.id for d, _ in rows}
        missing = [i for i in dict.fromkeys(document_ids) if i not in found]
        if missing:
            raise DocumentNotFound(
                f"no document {missing[0]} in case {case.id}",
                detail_de=f"Das Dokument {missing[0]} gehört nicht zu diesem Vorgang",
            )
        order = {i: n for n, i in enumerate(dict.fromkeys(document_ids))}
        rows.sort(key=lambda row: order[row[0].id])
    return rows


def bulk_links(
    issuer: LinkIssuer, rows: list[tuple[Document, DocumentVersion]], *, explicit: bool
) -> DownloadLinkList:
    """Links for `rows`, one expiry for all; broken versions refused when asked for by id,
    left out of a whole-case list (blocking for presigned URLs: call in a thread)."""
    now = time.time()
    expires = issuer.expiry(now)
    items = []
    for document, version in rows:
        if version.status != VERSION_OK and not explicit:
            continue
        check_usable(document, version)
        items.append(make_link(issuer, document, version, expires, now))
    return DownloadLinkList(expires_at=datetime.fromtimestamp(expires, UTC), items=items)
