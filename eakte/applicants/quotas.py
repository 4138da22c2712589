"""Quotas of the applicant API (issue 18): uploads per application, submissions per address.

Both are configurable (`EAKTE_UPLOADS_PER_APPLICATION`, `EAKTE_SUBMISSIONS_PER_ADDRESS_PER_HOUR`).
The upload count is checked before the body is read; concurrent uploads of one applicant
are bounded separately (`EAKTE_UPLOADS_PER_PRINCIPAL`), so the quota is exceeded by at most
that many.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.applicants.ratelimit import FailureLimiter, Throttled
from eakte.documents.models import Document, DocumentVersion
from eakte.errors import DomainError


class QuotaExceeded(DomainError):
    slug, title, status = "quota-exceeded", "Quota exceeded", 429


async def check_upload_quota(session: AsyncSession, case_id: uuid.UUID, limit: int) -> None:
    """429 when the application already holds `limit` uploaded versions."""
    count = await session.scalar(
        select(func.count(DocumentVersion.id))
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.case_id == case_id)
    )
    if (count or 0) >= limit:
        raise QuotaExceeded(
            f"this application already holds {limit} uploaded files; contact the authority"
        )


async def count_submission(limiter: FailureLimiter, client: str, limit: int) -> None:
    """Count one submission from `client`; 429 when the hourly quota is used up."""
    try:
        await limiter.attempt([(f"submit:{client}", limit)])
    except Throttled as exc:
        error = QuotaExceeded(
            f"at most {limit} applications per hour from one address; retry in {exc.retry_after} s"
        )
        error.headers["Retry-After"] = str(exc.retry_after)
        raise error from exc
