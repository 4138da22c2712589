"""Outbox errors (problem types urn:eakte:problem:outbox-*)."""

from eakte.errors import Conflict, NotFound


class OutboxMessageNotFound(NotFound):
    slug, title = "outbox-message-not-found", "Outbox message not found"


class WebhookNotFound(NotFound):
    slug, title = "webhook-not-found", "Webhook endpoint not found"


class NotDeadLetter(Conflict):
    slug, title = "outbox-not-dead-letter", "Only dead letters can be requeued"
