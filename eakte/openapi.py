"""OpenAPI helpers: declare problem responses on routes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, expired or invalid token",
    403: "Role not allowed",
    404: "Not found (also for other tenants' ids)",
    408: "The upload stalled or arrived too slowly",
    409: "Conflict",
    412: "Stale revision (If-Match)",
    413: "Body too large",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    422: "Validation failed",
    428: "If-Match required",
    429: "Too many requests",
    431: "Request headers too large",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """RFC 9457 problem details; `title` and `detail` in the language of `Accept-Language`."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    detail_en: str | None = Field(
        default=None, description="the English detail, where the German one is less specific"
    )


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


def document_generic_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the problems any operation can answer, whatever its route declares.

    A body that is not UTF-8 or not JSON is a 400 before the route runs, a lost
    database is a 503 on every route that reads or writes, and oversized headers are a 431.
    """
    problem = problems(400, 431, 503)
    for path, operations in schema.get("paths", {}).items():
        for _method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if "requestBody" in operation and "400" not in responses:
                responses["400"] = _schema_entry(problem[400])
            if path != "/healthz" and "503" not in responses:
                responses["503"] = _schema_entry(problem[503])
            if "431" not in responses:  # eakte.limits: before any route runs
                responses["431"] = _schema_entry(problem[431])
    return schema


def _schema_entry(entry: dict[str, Any]) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Problem"}
    return {
        "description": entry["description"],
        "content": {"application/problem+json": {"schema": ref}},
    }


def install_generic_problems(app: FastAPI) -> None:
    """Make `app.openapi()` include `document_generic_problems`."""
    build = app.openapi

    def _openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_generic_problems(build())
        return app.openapi_schema

    app.openapi = _openapi  # type: ignore[method-assign]
