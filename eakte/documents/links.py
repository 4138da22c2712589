"""Signed download links (issue 19): the API authorises, the web server sends the bytes.

A token is `base64url(payload) "." base64url(HMAC-SHA256(secret, "eakte-dl-1." payload))`,
the payload a JSON object: `t` tenant, `k` object key (`{tenant}/{case}/{document}/{version}`,
so the version is named too), `e` expiry (Unix seconds), `m` media type, `d` the
Content-Disposition header (RFC 6266, made by `download.content_disposition`).
nginx checks the same token with `deploy/nginx/eakte-downloads.js` and serves the file from
the filesystem store; `GET /api/v1/dl/{token}` checks it in the app (deployments without
nginx, and the S3 store behind signed links). No database, no clock but `now`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from eakte.documents.errors import DownloadLinkExpired, DownloadLinkForged, DownloadLinkInvalid
from storage import InvalidKey
from storage.keys import validate_key

DOMAIN = b"eakte-dl-1."  # what the HMAC covers besides the payload: the format's version
MAX_TOKEN_CHARS = 4096
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{1,4000})\.([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Grant:
    """What a valid link allows: one object of one tenant until `expires` (Unix seconds)."""

    tenant: str
    key: str
    expires: int
    media_type: str
    disposition: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, DOMAIN + payload.encode("ascii"), hashlib.sha256).digest())


def sign(secret: bytes, grant: Grant) -> str:
    """The token for `grant`; its key must start with the tenant (checked again on use)."""
    if not grant.key.startswith(f"{grant.tenant}/"):
        raise ValueError(f"object key {grant.key!r} is not of tenant {grant.tenant!r}")
    body = {
        "t": grant.tenant,
        "k": grant.key,
        "e": grant.expires,
        "m": grant.media_type,
        "d": grant.disposition,
    }
    payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: bytes, token: str, *, now: float) -> Grant:
    """The grant of a genuine, unexpired token; else 404 (malformed) or 403 (forged, expired).

    The signature is checked before anything in the payload is believed."""
    match = _TOKEN.match(token) if len(token) <= MAX_TOKEN_CHARS else None
    if match is None:
        raise DownloadLinkInvalid(
            "the download link is malformed",
            detail_de="Der Download-Link ist fehlerhaft oder unvollständig",
        )
    payload, mac = match.groups()
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise DownloadLinkForged(
            "the download link's signature is not valid",
            detail_de="Die Signatur des Download-Links ist ungültig",
        )
    try:
        body = json.loads(_unb64(payload))
        grant = Grant(
            tenant=str(body["t"]),
            key=str(body["k"]),
            expires=int(body["e"]),
            media_type=str(body["m"]),
            disposition=str(body["d"]),
        )
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:  # signed, but not by us
        raise DownloadLinkForged(
            "the download link's content is not valid",
            detail_de="Der Inhalt des Download-Links ist ungültig",
        ) from exc
    try:
        validate_key(grant.key)
    except InvalidKey:
        valid_key = False
    else:
        valid_key = grant.key.startswith(f"{grant.tenant}/")
    if not valid_key:
        raise DownloadLinkForged(
            "the download link names another tenant's object",
            detail_de="Der Download-Link nennt ein Objekt einer anderen Behörde",
        )
    if now >= grant.expires:
        raise DownloadLinkExpired(
            "the download link has expired; ask the E-Akte for a new one",
            detail_de="Der Download-Link ist abgelaufen; bitte in der E-Akte neu anfordern",
        )
    return grant
