"""One error family, rendered as RFC 9457 problem JSON by one handler."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("eakte.errors")

PROBLEM_BASE = "urn:eakte:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class DomainError(Exception):
    """Base of every error a service raises; knows its problem type and status."""

    slug: ClassVar[str] = "error"
    title: ClassVar[str] = "Error"
    status: ClassVar[int] = 400

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra
        self.headers: dict[str, str] = {}

    @classmethod
    def type_uri(cls) -> str:
        """The stable problem type URI."""
        return PROBLEM_BASE + cls.slug


class BadRequest(DomainError):
    slug, title, status = "bad-request", "Bad request", 400


class MalformedBody(DomainError):
    slug, title, status = "malformed-body", "The request body is not valid JSON", 400


class ValidationFailed(DomainError):
    slug, title, status = "validation-failed", "The request is not valid", 422


class Unauthenticated(DomainError):
    slug, title, status = "unauthenticated", "Authentication required", 401

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["WWW-Authenticate"] = 'Bearer realm="eakte"'


class Forbidden(DomainError):
    slug, title, status = "forbidden", "Not allowed for your role", 403


class NotFound(DomainError):
    slug, title, status = "not-found", "Not found", 404


class CaseNotFound(NotFound):
    slug, title = "case-not-found", "Case not found"


class TenantNotFound(NotFound):
    slug, title = "tenant-not-found", "Tenant not found"


class MethodNotAllowed(DomainError):
    slug, title, status = "method-not-allowed", "Method not allowed", 405


class Conflict(DomainError):
    slug, title, status = "conflict", "Conflict", 409


class PreconditionFailed(DomainError):
    slug, title, status = "revision-conflict", "The case was changed by someone else", 412


class PreconditionRequired(DomainError):
    slug, title, status = "precondition-required", "If-Match header required", 428


class PayloadTooLarge(DomainError):
    slug, title, status = "payload-too-large", "Request body too large", 413


class UnsupportedMediaType(DomainError):
    slug, title, status = "unsupported-media-type", "Unsupported media type", 415


class ServiceUnavailable(DomainError):
    slug, title, status = "service-unavailable", "Service temporarily unavailable", 503


class InternalError(DomainError):
    slug, title, status = "internal-error", "Internal server error", 500


def problem_response(
    *,
    type_uri: str,
    title: str,
    status: int,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Build an `application/problem+json` response."""
    body: dict[str, Any] = {"type": type_uri, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def error_response(error: DomainError, request: Request | None = None) -> JSONResponse:
    """Render a domain error as problem JSON."""
    return problem_response(
        type_uri=error.type_uri(),
        title=error.title,
        status=error.status,
        detail=error.detail,
        instance=request.url.path if request is not None else None,
        headers=error.headers or None,
        **error.extra,
    )


_STATUS_ERRORS: dict[int, type[DomainError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    428: PreconditionRequired,
    503: ServiceUnavailable,
}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        errors.append(
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return errors


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, including framework ones, as problem JSON."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return error_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            error: DomainError = MalformedBody("The request body could not be parsed as JSON")
            error.extra = {"errors": errors}
            return error_response(error, request)
        detail = (
            "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5]) or "invalid request"
        )
        return error_response(ValidationFailed(detail, errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = _STATUS_ERRORS.get(exc.status_code)
        detail = str(exc.detail) if exc.detail else None
        if cls is None:
            response = problem_response(
                type_uri="about:blank",
                title=detail or "Error",
                status=exc.status_code,
                detail=detail or "Error",
                instance=request.url.path,
            )
        else:
            response = error_response(cls(detail), request)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(InternalError("An internal error occurred; it has been logged"))
