"""OpenAPI helpers: declare problem responses on routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, expired or invalid token",
    403: "Role not allowed",
    404: "Not found (also for other tenants' ids)",
    409: "Conflict",
    412: "Stale revision (If-Match)",
    413: "Body too large",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    422: "Validation failed",
    428: "If-Match required",
    429: "Too many requests",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the given problem status codes."""
    return {
        code: {
            "model": Problem,
            "description": _DESCRIPTIONS.get(code, "Error"),
            "content": {"application/problem+json": {}},
        }
        for code in codes
    }
