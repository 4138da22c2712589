"""Problem types of the XBau interface (subclasses of the shared error family)."""

from __future__ import annotations

from eakte.errors import (
    BadRequest,
    Conflict,
    DomainError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)


class XBauMalformed(BadRequest):
    slug, title = (
        "xbau-malformed",
        "Die XBau-Nachricht ist kein wohlgeformtes XML / not well-formed XML",
    )


class XBauForbiddenMarkup(BadRequest):
    slug, title = (
        "xbau-forbidden-markup",
        "DTDs und Entitäten sind in XBau-Nachrichten nicht erlaubt / DTDs and entities are refused",
    )


class XBauTooLarge(PayloadTooLarge):
    slug, title = (
        "xbau-too-large",
        "Die XBau-Nachricht ist zu groß / the XBau message is too large",
    )


class XBauSchemaInvalid(ValidationFailed):
    slug, title = (
        "xbau-schema-invalid",
        "Die Nachricht verletzt das XBau-2.6-Schema / the message violates the XBau 2.6 schema",
    )


class XBauRuleViolated(ValidationFailed):
    slug, title = (
        "xbau-rule-violated",
        "Die Nachricht verletzt eine XBau-Geschäftsregel / the message violates an XBau rule",
    )


class XBauUnsupportedMessage(ValidationFailed):
    slug, title = (
        "xbau-unsupported-message",
        "Dieser XBau-Nachrichtentyp wird nicht angenommen / this XBau message type is not accepted",
    )


class XBauUnknownAuthority(NotFound):
    slug, title = (
        "xbau-unknown-authority",
        "Unbekannte empfangende Behörde / unknown receiving authority",
    )


class XBauIncomplete(ValidationFailed):
    slug, title = (
        "xbau-incomplete",
        "Der Nachricht fehlen Angaben oder Anlagen / the message lacks data or attachments",
    )


class XBauAttachmentRejected(UnsupportedMediaType):
    slug, title = (
        "xbau-attachment-rejected",
        "Eine Anlage entspricht nicht ihrem Typ / an attachment does not match its type",
    )


class XBauReferenceNotFound(NotFound):
    slug, title = (
        "xbau-reference-not-found",
        "Der Vorgang, auf den sich die Nachricht bezieht, ist unbekannt / unknown referenced case",
    )


class XBauOutgoingInvalid(DomainError):
    """An outgoing message we generated fails its schema: an operator error, never queued."""

    slug, title, status = (
        "xbau-outgoing-invalid",
        "Erzeugte XBau-Nachricht ist ungültig (Betrieb verständigen) / generated message invalid",
        500,
    )


class XBauMessageNotFound(NotFound):
    slug, title = "xbau-message-not-found", "XBau-Nachricht nicht gefunden / message not found"


class XBauStateConflict(Conflict):
    slug, title = (
        "xbau-state-conflict",
        "Die Nachricht passt nicht zum Stand des Verfahrens / message does not fit the procedure",
    )


class XBauNoAddress(Conflict):
    slug, title = (
        "xbau-no-address",
        "Für diese Behörde ist keine XBau-Kennung eingetragen / this authority has no XBau address",
    )


class XBauPushNotConfigured(NotFound):
    slug, title = (
        "xbau-push-not-configured",
        "Für diesen Mandanten ist kein XBau-Push-Endpunkt eingerichtet / no XBau push endpoint",
    )


class XBauUnknownCode(XBauSchemaInvalid):
    """A code outside a code list the XBau 2.6 package carries (the XSD enumerations)."""

    slug, title = (
        "xbau-unknown-code",
        "Ein Code steht nicht in seiner XBau-Codeliste / a code is not in its XBau code list",
    )


class XBauCaseClosed(Conflict):
    slug, title = (
        "xbau-case-closed",
        "Der Vorgang ist abgeschlossen oder entschieden; Änderungen werden nicht angenommen / "
        "the case is closed or decided; changes are not accepted",
    )
