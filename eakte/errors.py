"""One error family, rendered as RFC 9457 problem JSON by one handler.

Problems speak German or English (issue 16): `title` and `detail` follow the request's
`Accept-Language`; without a preference, applicant routes and the web app answer in German,
the officials' API in English. The `type` URI never changes with the language. German titles
come from `TITLES_DE` below (one place for every problem type), German details from the raise
site (`detail_de=`), from German `reasons`, or, failing those, the German title; the English
detail is then kept as `detail_en` so nothing a caller relied on is lost.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar, Literal

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

    def __init__(
        self, detail: str | None = None, *, detail_de: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.detail_de = detail_de
        self.extra = extra
        self.headers: dict[str, str] = {}

    @classmethod
    def type_uri(cls) -> str:
        """The stable problem type URI."""
        return PROBLEM_BASE + cls.slug

    @classmethod
    def titles(cls) -> tuple[str, str]:
        """The title in German and in English."""
        if " / " in cls.title:  # older bilingual titles: "Deutsch / English"
            de, en = cls.title.split(" / ", 1)
            return de, en
        return TITLES_DE.get(cls.slug, cls.title), cls.title


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


class AssignmentConflict(PreconditionFailed):
    slug, title = "assignment-conflict", "The assignment was changed by someone else"


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


Language = Literal["de", "en"]
_LANGUAGE = re.compile(
    r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]{1,5}))?\s*$"
)
GERMAN_BY_DEFAULT = ("/api/v1/applications", "/api/v1/authorities", "/app")


def negotiate_language(accept_language: str | None, path: str = "") -> Language:
    """German or English by `Accept-Language` (q-values honoured), else by the route."""
    best: tuple[float, int, Language] | None = None
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        match = _LANGUAGE.match(part)
        if not match or match.group(1).lower() not in {"de", "en"}:
            continue
        try:
            q = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        lang: Language = "de" if match.group(1).lower() == "de" else "en"
        if q > 0 and (best is None or (q, -position) > (best[0], best[1])):
            best = (q, -position, lang)
    if best is not None:
        return best[2]
    return "de" if path.startswith(GERMAN_BY_DEFAULT) else "en"


def request_language(request: Request | None) -> Language:
    """The language of the problem answers to `request` (English without a request)."""
    if request is None:
        return "en"
    return negotiate_language(request.headers.get("accept-language"), request.url.path)


def scope_language(scope: Any) -> Language:
    """The problem language for a raw ASGI scope (middleware answering before routing)."""
    headers = dict(scope.get("headers") or [])
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    return negotiate_language(accept or None, str(scope.get("path", "")))


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


def _german_detail(error: DomainError, title_de: str) -> str:
    if error.detail_de:
        return error.detail_de
    reasons = error.extra.get("reasons")
    if isinstance(reasons, list):
        german = [str(r["de"]) for r in reasons if isinstance(r, dict) and r.get("de")]
        if german:
            return " ".join(german)
    return title_de


def error_response(
    error: DomainError, request: Request | None = None, *, language: Language | None = None
) -> JSONResponse:
    """Render a domain error as problem JSON in the request's language."""
    lang = language or request_language(request)
    title_de, title_en = type(error).titles()
    extra = dict(error.extra)
    if lang == "de":
        title, detail = title_de, _german_detail(error, title_de)
        if error.detail not in (detail, error.title, title_en):
            extra.setdefault("detail_en", error.detail)
    else:
        title = title_en
        detail = title_en if error.detail == error.title else error.detail
    headers = dict(error.headers)
    headers["Content-Language"] = lang
    headers["Vary"] = "Accept-Language"
    return problem_response(
        type_uri=error.type_uri(),
        title=title,
        status=error.status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        headers=headers,
        **extra,
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
                "msg_de": validation_message_de(str(err.get("type", "")), str(err.get("msg", ""))),
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
            error: DomainError = MalformedBody(
                "The request body could not be parsed as JSON",
                detail_de="Der Inhalt der Anfrage ist kein lesbares JSON",
            )
            error.extra = {"errors": errors}
            return error_response(error, request)
        detail = (
            "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5]) or "invalid request"
        )
        detail_de = "; ".join(f"{'.'.join(e['loc'])}: {e['msg_de']}" for e in errors[:5])
        return error_response(
            ValidationFailed(detail, detail_de=detail_de or None, errors=errors), request
        )

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
        return error_response(
            InternalError(
                "An internal error occurred; it has been logged",
                detail_de="Ein interner Fehler ist aufgetreten; er wurde protokolliert",
            ),
            request,
        )


# German titles of every problem type (slug -> title); bilingual titles ("de / en") need none.
TITLES_DE: dict[str, str] = {
    "notification-not-found": "Benachrichtigung nicht gefunden",
    "postroom-blocked": "Dieser Schritt der Poststelle ist jetzt nicht möglich",
    "print-batch-not-found": "Druckstapel nicht gefunden",
    "error": "Fehler",
    "bad-request": "Ungültige Anfrage",
    "malformed-body": "Der Inhalt der Anfrage ist kein gültiges JSON",
    "validation-failed": "Die Angaben sind nicht gültig",
    "unauthenticated": "Anmeldung erforderlich",
    "forbidden": "Für Ihre Rolle nicht erlaubt",
    "not-found": "Nicht gefunden",
    "case-not-found": "Vorgang nicht gefunden",
    "tenant-not-found": "Behörde nicht gefunden",
    "method-not-allowed": "Methode nicht erlaubt",
    "conflict": "Konflikt",
    "revision-conflict": "Der Vorgang wurde inzwischen von jemand anderem geändert",
    "assignment-conflict": "Die Zuständigkeit wurde inzwischen von jemand anderem geändert",
    "precondition-required": "If-Match-Header erforderlich",
    "payload-too-large": "Die Anfrage ist zu groß",
    "unsupported-media-type": "Nicht unterstütztes Dateiformat",
    "service-unavailable": "Der Dienst ist vorübergehend nicht erreichbar",
    "internal-error": "Interner Fehler",
    "headers-too-large": "Die Kopfzeilen der Anfrage sind zu groß",
    # documents
    "document-not-found": "Dokument nicht gefunden",
    "version-not-found": "Dokumentversion nicht gefunden",
    "media-type-not-allowed": "Dieser Dateityp wird nicht angenommen",
    "extension-mismatch": "Der Inhalt der Datei passt nicht zu ihrer Dateiendung",
    "multipart-required": "Bitte als multipart/form-data hochladen",
    "upload-too-slow": "Die Datei wurde zu langsam übertragen",
    "upload-too-large": "Die Datei überschreitet die zulässige Größe",
    "empty-upload": "Die hochgeladene Datei ist leer",
    "malformed-upload": "Die Übertragung ist fehlerhaft oder unvollständig",
    "range-not-satisfiable": "Der angefragte Bereich liegt außerhalb der Datei",
    "content-unavailable": "Der gespeicherte Inhalt dieser Version ist nicht verfügbar",
    "storage-unavailable": "Der Dokumentenspeicher ist nicht erreichbar",
    "download-link-invalid": "Der Download-Link ist fehlerhaft",
    "download-link-forged": "Der Download-Link ist nicht echt",
    "download-link-expired": "Der Download-Link ist abgelaufen",
    "download-links-unavailable": "Download-Links sind nicht eingerichtet",
    "polyglot-file": "Die Datei ist zugleich ein Archiv (Polyglott-Datei)",
    "active-content": "Die Datei enthält HTML- oder Skriptinhalte",
    "archive-bomb": "Das Archiv der Datei würde sich übermäßig entpacken",
    "too-many-uploads": "Zu viele gleichzeitige Uploads",
    "upload-capacity-exhausted": "Alle Upload-Plätze sind belegt",
    # applicants
    "application-not-found": "Antrag nicht gefunden",
    "uploads-closed": "Unterlagen können jetzt nicht eingereicht werden",
    "no-open-nachforderung": "Es ist keine Nachforderung offen",
    "too-many-attempts": "Zu viele fehlgeschlagene Versuche",
    "quota-exceeded": "Kontingent ausgeschöpft",
    "fiction-waiver-not-possible": "Auf die Genehmigungsfiktion kann jetzt nicht verzichtet werden",
    "unknown-documents": "Unbekannte Dokumente",
    # process
    "action-blocked": "Die Voraussetzungen für diesen Schritt sind nicht erfüllt",
    "action-forbidden": "Ihre Rolle darf diesen Schritt nicht ausführen",
    "invalid-action-input": "Die Angaben zu diesem Schritt sind nicht gültig",
    "unknown-action": "Das Verfahren kennt diesen Schritt nicht",
    "state-conflict": "Der Vorgang ist nicht mehr im erwarteten Zustand",
    "procedure-error": "Die Verfahrenssteuerung ist fehlgeschlagen",
    "procedure-not-found": "Verfahren nicht gefunden",
    "procedure-version-missing": "Die Verfahrensversion des Vorgangs ist nicht installiert",
    "unknown-procedure": "Unbekanntes Verfahren",
    "participation-closed": "Die Beteiligung ist bereits abgeschlossen",
    "participation-not-found": "Beteiligung nicht gefunden",
    "unknown-participation-kind": "Unbekannte Art der Beteiligung",
    # issuing
    "issued-document-not-found": "Bescheid nicht gefunden",
    "unknown-letter-type": "Unbekannte Schreibenart",
    "template-invalid": "Die Vorlage ist nicht gültig",
    "issuing-blocked": "Das Schreiben kann nicht erstellt werden",
    "issued-document-state": "Das Schreiben ist nicht im dafür nötigen Zustand",
    "four-eyes": "Wer entworfen hat, darf nicht zeichnen (Vier-Augen-Prinzip)",
    "seal-unavailable": "Kein verwendbares Siegelzertifikat",
    "text-not-printable": "Der Text enthält Zeichen, die das Schreiben nicht darstellen kann",
    # outbox, collab
    "outbox-message-not-found": "Nachricht im Postausgang nicht gefunden",
    "outbox-not-dead-letter": "Nur gescheiterte Nachrichten können erneut gesendet werden",
    "webhook-not-found": "Webhook nicht gefunden",
    "workspace-history-not-found": "Eintrag oder Version des Arbeitsstands nicht gefunden",
}

# German wording of pydantic's validation error types (the app's own messages, issue 16)
_VALIDATION_DE: dict[str, str] = {
    "missing": "Angabe fehlt",
    "string_too_short": "ist zu kurz",
    "string_too_long": "ist zu lang",
    "too_short": "hat zu wenige Einträge",
    "too_long": "hat zu viele Einträge",
    "string_pattern_mismatch": "hat nicht das erwartete Format",
    "string_type": "muss ein Text sein",
    "extra_forbidden": "ist hier nicht vorgesehen",
    "uuid_parsing": "ist keine gültige Kennung",
    "uuid_type": "ist keine gültige Kennung",
    "int_parsing": "muss eine ganze Zahl sein",
    "int_type": "muss eine ganze Zahl sein",
    "greater_than_equal": "ist zu klein",
    "less_than_equal": "ist zu groß",
    "bool_parsing": "muss ja oder nein sein",
    "date_from_datetime_parsing": "ist kein gültiges Datum",
    "date_parsing": "ist kein gültiges Datum",
    "datetime_parsing": "ist kein gültiger Zeitpunkt",
    "datetime_from_date_parsing": "ist kein gültiger Zeitpunkt",
    "enum": "ist kein zulässiger Wert",
    "literal_error": "ist kein zulässiger Wert",
    "dict_type": "muss ein Objekt sein",
    "list_type": "muss eine Liste sein",
    "model_attributes_type": "muss ein Objekt sein",
    "json_invalid": "ist kein gültiges JSON",
    "value_error": "ist nicht gültig",
}


def validation_message_de(error_type: str, msg: str) -> str:
    """A pydantic error in German (the e-mail check is a value_error of its own)."""
    if error_type == "value_error" and "email" in msg.lower():
        return "ist keine gültige E-Mail-Adresse"
    if error_type == "value_error" and "control character" in msg.lower():
        return "enthält unzulässige Steuerzeichen"
    return _VALIDATION_DE.get(error_type, "ist nicht gültig")
