"""Signed download links (issue 19): the API authorises, the web server sends the bytes.

Format 2 (nginx checks it in C, without a script per request): the link's path below the
base URL is

    MAC "/" EXPIRY "/" base64url(media type) "/" base64url(Content-Disposition) "/" KEY

EXPIRY Unix seconds in ten digits, KEY the object key (`{tenant}/{case}/{document}/{version}`:
the tenant is its first segment, and the version is named too), the Content-Disposition
header as `download.content_disposition` makes it (RFC 6266), and
MAC = base64url(HMAC-SHA256(K, "eakte-dl-2." + everything after the first "/")). K is derived
from the configured secret (`derived_key`), so the web server holds a key that makes links
and nothing else, in a form nginx's configuration can carry whatever characters the secret
has. nginx checks the link with `deploy/nginx/eakte-downloads*.conf` (modules set-misc and
ndk; njs only to word a refusal) and serves the file from the filesystem store;
`GET /api/v1/dl/{token}` checks it in the app (deployments without nginx, and the S3 store
behind signed links). No database, no clock but `now`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache

from eakte.documents.errors import DownloadLinkExpired, DownloadLinkForged, DownloadLinkInvalid
from storage import InvalidKey
from storage.keys import validate_key

DOMAIN = b"eakte-dl-2."  # what the HMAC covers besides the signed part: the format's version
KEY_LABEL = b"eakte download links, web server key, format 2"
MAX_TOKEN_CHARS = 4096
# the same expression as the nginx location in deploy/nginx/eakte-downloads.conf
_TOKEN = re.compile(
    r"^(?P<mac>[A-Za-z0-9_-]{43})/(?P<signed>(?P<expires>[0-9]{10})"
    r"/(?P<media_type>[A-Za-z0-9_-]{1,400})/(?P<disposition>[A-Za-z0-9_-]{1,2700})"
    r"/(?P<key>[a-z][a-z0-9-]{1,39}(?:/[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}){1,16}))$"
)
_TENANT = re.compile(r"[a-z][a-z0-9-]{1,39}")
_HEADER = re.compile(r"[!-~][ -~]{0,1999}")  # printable ASCII, no line breaks
MIN_EXPIRY, MAX_EXPIRY = 10**9, 10**10 - 1  # ten digits (nginx compares them as text)


@dataclass(frozen=True)
class Grant:
    """What a valid link allows: one object of one tenant until `expires` (Unix seconds)."""

    tenant: str
    key: str
    expires: int
    media_type: str
    disposition: str


@lru_cache(maxsize=16)
def derived_key(secret: bytes) -> bytes:
    """The web server's signing key: HMAC-SHA256(secret, KEY_LABEL) as 64 hex digits."""
    return hmac.new(secret, KEY_LABEL, hashlib.sha256).hexdigest().encode("ascii")


def nginx_key_config(secret: bytes) -> str:
    """The nginx `http`-level snippet that gives nginx the derived key (keep it 0640)."""
    return (
        "# E-Akte download-link key (issue 19), derived from EAKTE_DOWNLOAD_LINK_SECRET by\n"
        "# `eakte download-links nginx-key`; it makes links only. Write it again after\n"
        "# rotating the secret, then `nginx -s reload`.\n"
        f'map $host $eakte_dl_hkey {{ default "{derived_key(secret).decode()}"; }}\n'
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, signed: str) -> str:
    key = derived_key(secret)
    return _b64(hmac.new(key, DOMAIN + signed.encode("ascii"), hashlib.sha256).digest())


def _valid(grant: Grant) -> bool:
    """Whether the fields fit the format (what nginx's expression accepts)."""
    try:
        validate_key(grant.key)
    except InvalidKey:
        return False
    return (
        _TENANT.fullmatch(grant.tenant) is not None
        and grant.key.startswith(f"{grant.tenant}/")
        and MIN_EXPIRY <= grant.expires <= MAX_EXPIRY
        and _HEADER.fullmatch(grant.media_type) is not None
        and _HEADER.fullmatch(grant.disposition) is not None
    )


def sign(secret: bytes, grant: Grant) -> str:
    """The token for `grant` (a path); its key must start with the tenant."""
    if not _valid(grant):
        raise ValueError(f"cannot sign a link for {grant!r}: a field does not fit the format")
    token = encode(secret, grant)
    if _TOKEN.match(token) is None:  # e.g. a key deeper than nginx's expression allows
        raise ValueError(f"cannot sign a link for {grant!r}: too long or too deep")
    return token


def encode(secret: bytes, grant: Grant) -> str:
    """The token of `grant`, unchecked: `sign` checks it (the verifiers' tests also sign
    what `sign` refuses, to see nginx and the app refuse it)."""
    media_type, disposition = _b64(grant.media_type.encode()), _b64(grant.disposition.encode())
    signed = f"{grant.expires}/{media_type}/{disposition}/{grant.key}"
    return f"{_mac(secret, signed)}/{signed}"


def verify(secret: bytes, token: str, *, now: float) -> Grant:
    """The grant of a genuine, unexpired token; else 404 (malformed) or 403 (forged, expired).

    The signature is checked before anything in the token is believed."""
    match = _TOKEN.match(token) if len(token) <= MAX_TOKEN_CHARS else None
    if match is None:
        raise DownloadLinkInvalid(
            "the download link is malformed",
            detail_de="Der Download-Link ist fehlerhaft oder unvollständig",
        )
    if not hmac.compare_digest(match["mac"], _mac(secret, match["signed"])):
        raise DownloadLinkForged(
            "the download link's signature is not valid",
            detail_de="Die Signatur des Download-Links ist ungültig",
        )
    key = match["key"]
    try:
        grant = Grant(
            tenant=key.split("/", 1)[0],
            key=key,
            expires=int(match["expires"]),
            media_type=_unb64(match["media_type"]).decode("ascii"),
            disposition=_unb64(match["disposition"]).decode("ascii"),
        )
    except (binascii.Error, ValueError) as exc:  # signed, but not by us
        raise DownloadLinkForged(
            "the download link's content is not valid",
            detail_de="Der Inhalt des Download-Links ist ungültig",
        ) from exc
    if not _valid(grant):
        raise DownloadLinkForged(
            "the download link names no valid object of its tenant",
            detail_de="Der Download-Link nennt kein gültiges Objekt seiner Behörde",
        )
    if now >= grant.expires:
        raise DownloadLinkExpired(
            "the download link has expired; ask the E-Akte for a new one",
            detail_de="Der Download-Link ist abgelaufen; bitte in der E-Akte neu anfordern",
        )
    return grant
