"""Delivery channels: one per message kind. A new kind (e.g. XBau) is one more `Channel`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import anyio
import httpx

from eakte.config import Settings

if TYPE_CHECKING:
    from eakte.db import Database

EMAIL = "email"
WEBHOOK = "webhook"
FILE = "file"
FILE_CHUNK = 1024 * 1024


class DeliveryFailed(Exception):
    """The attempt failed; `permanent` ones go to the dead letter state at once."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class Delivery:
    """What a channel gets: the row's stable key, its payload and a resolved secret if any."""

    idempotency_key: str
    event: str
    payload: dict[str, Any]
    secret: str | None = None


class Channel(Protocol):
    """Delivers one message or raises `DeliveryFailed`; must be safe to repeat with one key."""

    kind: ClassVar[str]

    async def deliver(self, delivery: Delivery) -> None: ...


# A channel may also define `async def settled(session, delivery, status)`: called in the
# transaction that records the attempt's outcome (e.g. XBau marks its own row delivered there).


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`, hex; sent as `v1=<hex>`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(key: str, timestamp: str, signature: str) -> dict[str, str]:
    """The headers every signed delivery carries: the stable key (twice: Standard Webhooks and
    the plain idempotency header), the timestamp and the HMAC signature over it."""
    return {
        "Webhook-Id": key,
        "Idempotency-Key": key,
        "Webhook-Timestamp": timestamp,
        "Webhook-Signature": signature,
        "User-Agent": "eakte-outbox",
    }


def raise_for_status(response: httpx.Response) -> None:
    """2xx is delivered; 4xx other than 408/429 will not get better by retrying (permanent)."""
    if response.status_code >= 300:
        permanent = 400 <= response.status_code < 500 and response.status_code not in {408, 429}
        raise DeliveryFailed(f"HTTP {response.status_code}", permanent=permanent)


class WebhookChannel:
    """POST JSON to a tenant's endpoint with Webhook-Id/-Timestamp/-Signature headers."""

    kind: ClassVar[str] = WEBHOOK

    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.webhook_timeout_seconds

    async def deliver(self, delivery: Delivery) -> None:
        url = str(delivery.payload["url"])
        if delivery.secret is None:
            raise DeliveryFailed("the webhook endpoint was removed", permanent=True)
        body = json.dumps(
            {
                "id": delivery.idempotency_key,
                "event": delivery.event,
                "data": delivery.payload.get("data", {}),
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            **signed_headers(
                delivery.idempotency_key, timestamp, sign(delivery.secret, timestamp, body)
            ),
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{exc.__class__.__name__}: {exc}") from exc
        raise_for_status(response)


def _file_digests(path: Path, secret: str, timestamp: str) -> tuple[str, str]:
    """sha256 of the file and the HMAC-SHA256 over `timestamp.` + file, in one read."""
    digest = hashlib.sha256()
    mac = hmac.new(secret.encode(), timestamp.encode() + b".", hashlib.sha256)
    with path.open("rb") as fh:
        while chunk := fh.read(FILE_CHUNK):
            digest.update(chunk)
            mac.update(chunk)
    return digest.hexdigest(), "v1=" + mac.hexdigest()


class FileChannel:
    """POST a file by reference (a path the service wrote, e.g. an xdomea package) to an endpoint.

    The file is streamed, never loaded whole: a 0503 package holds every version of every case.
    Headers as for webhooks (`Webhook-Id`, `-Timestamp`, `-Signature` = HMAC over
    `timestamp.` + the bytes), plus `Content-Digest` (RFC 9530) and the file name. The bytes must
    still have the sha256 recorded when the message was queued; a changed or vanished file is a
    permanent failure (dead letter), since sending something else would be worse than nothing.
    """

    kind: ClassVar[str] = FILE

    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.webhook_timeout_seconds

    async def deliver(self, delivery: Delivery) -> None:
        p = delivery.payload
        if delivery.secret is None:
            raise DeliveryFailed("the endpoint was removed", permanent=True)
        path = Path(str(p["path"]))
        timestamp = str(int(time.time()))
        try:
            digest, signature = await anyio.to_thread.run_sync(
                _file_digests, path, delivery.secret, timestamp
            )
        except OSError as exc:
            raise DeliveryFailed(f"file unreadable: {exc}", permanent=True) from exc
        if digest != p["sha256"]:
            raise DeliveryFailed(f"{path.name}: not the bytes that were queued", permanent=True)

        async def body() -> AsyncIterator[bytes]:
            async with await anyio.open_file(path, "rb") as fh:
                while chunk := await fh.read(FILE_CHUNK):
                    yield chunk

        headers = {
            "Content-Type": str(p.get("media_type", "application/octet-stream")),
            "Content-Length": str(path.stat().st_size),
            "Content-Digest": "sha-256=:" + base64.b64encode(bytes.fromhex(digest)).decode() + ":",
            "Content-Disposition": f'attachment; filename="{path.name}"',
            "X-Eakte-Event": delivery.event,
            **signed_headers(delivery.idempotency_key, timestamp, signature),
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.post(str(p["url"]), content=body(), headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{exc.__class__.__name__}: {exc}") from exc
        raise_for_status(response)


class EmailChannel:
    """SMTP with optional STARTTLS and AUTH; Message-ID derived from the idempotency key."""

    kind: ClassVar[str] = EMAIL

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def message(self, delivery: Delivery) -> EmailMessage:
        """The e-mail for a delivery (also used by tests and the preview)."""
        p = delivery.payload
        msg = EmailMessage()
        msg["From"] = self.settings.smtp_from
        msg["To"] = str(p["to"])
        msg["Subject"] = str(p["subject"])
        msg["Date"] = formatdate(localtime=False)
        domain = self.settings.smtp_from.rsplit("@", 1)[-1].strip("> ") or "eakte.invalid"
        # the same key gives the same Message-ID, so a re-sent mail is recognisable as one
        msg["Message-ID"] = f"<{delivery.idempotency_key}@{domain}>"
        msg["X-Eakte-Idempotency-Key"] = delivery.idempotency_key
        text = str(p["body"])
        if p.get("link_path"):
            text += f"\nStand Ihres Verfahrens: {self.settings.public_base_url}{p['link_path']}\n"
        msg.set_content(text)
        return msg

    def _send(self, msg: EmailMessage) -> None:
        s = self.settings
        if not s.smtp_host:
            raise DeliveryFailed("no SMTP server configured (EAKTE_SMTP_HOST)")
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
                smtp.ehlo()
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password or "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{exc.__class__.__name__}: {exc}") from exc

    async def deliver(self, delivery: Delivery) -> None:
        msg = self.message(delivery)
        await anyio.to_thread.run_sync(self._send, msg)


def build_channels(
    settings: Settings, db: Database | None = None, store: Any = None
) -> dict[str, Channel]:
    """The channels of this process, by message kind (XBau push needs the database)."""
    channels: dict[str, Channel] = {
        EMAIL: EmailChannel(settings),
        WEBHOOK: WebhookChannel(settings),
        FILE: FileChannel(settings),
    }
    if db is not None:
        from eakte.xbau.push import XBauChannel  # issue 14

        channels[XBauChannel.kind] = XBauChannel(settings, db, store)
    return channels
