"""Issue dev tokens (HS256) and verify bearer tokens (HS256 or OIDC JWKS)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import jwt
from jwt import PyJWK

from eakte.auth.claims import FLAT, ClaimMapping, IssuerRegistry, TenantIssuers, configured_issuers
from eakte.auth.principal import Principal, Role
from eakte.config import Settings
from eakte.errors import ServiceUnavailable, Unauthenticated

log = logging.getLogger("eakte.auth")

DEV_AUDIENCE = "eakte"
JWKS_FETCH_TIMEOUT_SECONDS = 5
LEEWAY_SECONDS = 30
# the service's own actors (deadline ticker, workspace seeding): no token may claim them
RESERVED_SUBJECT = "system"
MAX_SUB_CHARS = 200
MAX_TENANT_CHARS = 63
MAX_ROLES = 32


def issue_token(
    settings: Settings,
    *,
    tenant: str,
    sub: str,
    roles: list[str],
    name: str | None = None,
    ttl_seconds: int = 8 * 3600,
) -> str:
    """Sign an HS256 token with the local secret (dev mode and tests)."""
    unknown = [r for r in roles if r not in Role.__members__]
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(unknown)}")
    now = int(time.time())
    claims = {
        "sub": sub,
        "tenant": tenant,
        "roles": roles,
        "name": name or sub,
        "iss": settings.jwt_issuer,
        "aud": DEV_AUDIENCE,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, settings.resolved_jwt_secret(), algorithm="HS256")


class JWKSCache:
    """Fetches and caches the OIDC provider's signing keys (http(s) or file URL).

    Tokens whose `kid` is cached never wait for a fetch. The key set is reloaded when it is
    older than `refresh_seconds`, and a token naming an unknown `kid` forces a reload at most
    once per `min_refetch_seconds` (for all tokens together); a `kid` still unknown after a
    reload is remembered as missing until the next scheduled one. So a flood of tokens with
    made-up `kid`s costs one fetch per interval, not one per token.
    """

    MAX_MISSES = 4096

    def __init__(
        self,
        url: str,
        *,
        refresh_seconds: float = 300,
        min_refetch_seconds: float = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self.fetches = 0
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._misses: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def _fetch(self) -> dict[str, Any]:
        parsed = urlparse(self.url)
        if parsed.scheme == "file":
            return json.loads(await asyncio.to_thread(Path(parsed.path).read_text))
        async with httpx.AsyncClient(timeout=JWKS_FETCH_TIMEOUT_SECONDS) as client:
            response = await client.get(self.url)
            response.raise_for_status()
            return response.json()  # type: ignore[no-any-return]

    async def refresh(self) -> None:
        """Reload the key set."""
        self._attempted_at = self.clock()
        self.fetches += 1
        document = await self._fetch()
        keys: dict[str, PyJWK] = {}
        for jwk in document.get("keys", []):
            if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[str(jwk.get("kid", ""))] = PyJWK(jwk)
            except jwt.PyJWKError:
                continue
        self._keys = keys
        self._misses.clear()
        self._fetched_at = self.clock()

    def _lookup(self, kid: str | None) -> PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid or "")

    async def key(self, kid: str | None) -> PyJWK:
        """The key for `kid`; see the class docstring for when the set is reloaded."""
        now = self.clock()
        stale = now - self._fetched_at > self.refresh_seconds
        found = self._lookup(kid)
        if found is not None and not stale:
            return found
        missed = self._misses.get(kid or "")
        if found is None and not stale and missed is not None and missed >= self._fetched_at:
            raise Unauthenticated("token signed with an unknown key")
        async with self._lock:
            now = self.clock()
            if now - self._attempted_at >= self.min_refetch_seconds or (
                not self._keys and self._attempted_at == -math.inf
            ):
                try:
                    await self.refresh()
                except (httpx.HTTPError, OSError, ValueError) as exc:
                    log.warning("JWKS %s could not be loaded: %s", self.url, exc)
            if not self._keys:
                raise ServiceUnavailable(
                    "the identity provider's signing keys could not be loaded; retry later"
                )
        found = self._lookup(kid)
        if found is None:
            if len(self._misses) >= self.MAX_MISSES:
                self._misses.clear()
            self._misses[kid or ""] = self._fetched_at
            raise Unauthenticated("token signed with an unknown key")
        return found


class TokenVerifier:
    """Turns a bearer token into a Principal or raises Unauthenticated."""

    def __init__(self, settings: Settings, tenant_issuers: TenantIssuers | None = None) -> None:
        self.settings = settings
        self.jwks = (
            JWKSCache(
                settings.oidc_jwks_url,
                refresh_seconds=settings.jwks_refresh_seconds,
                min_refetch_seconds=settings.jwks_min_refetch_seconds,
            )
            if settings.oidc_jwks_url
            else None
        )
        # issue 19: several issuers (installation-wide and per tenant), one key cache each
        self.issuers = IssuerRegistry(configured_issuers(settings), tenant_issuers)
        self._key_sets: dict[str, JWKSCache] = {}
        if self.jwks is not None:  # the installation-wide issuer shares its cache
            self._key_sets[self.jwks.url] = self.jwks
        self.hs_secret = (
            settings.resolved_jwt_secret()
            if settings.jwt_secret or (settings.dev_mode and not self.jwks)
            else None
        )

    async def verify(self, token: str) -> Principal:
        """Check signature, expiry, issuer and audience; map the claims."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("malformed token") from exc
        alg = header.get("alg")
        try:
            if alg == "HS256" and self.hs_secret:
                claims = jwt.decode(
                    token,
                    self.hs_secret,
                    algorithms=["HS256"],
                    audience=DEV_AUDIENCE,
                    issuer=self.settings.jwt_issuer,
                    leeway=LEEWAY_SECONDS,
                    options={"require": ["exp", "sub", "iss", "aud"]},
                )
                mapping = FLAT
            elif alg in self.settings.oidc_algorithms and self.issuers:
                unverified = jwt.decode(token, options={"verify_signature": False})
                issuer = await self.issuers.find(unverified.get("iss"))
                if issuer is None or alg not in issuer.algorithms:
                    raise Unauthenticated("token of an unknown issuer")
                key = await self._keys_of(issuer.jwks_url).key(header.get("kid"))
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=list(issuer.algorithms),
                    audience=issuer.audience,
                    issuer=issuer.issuer,
                    leeway=LEEWAY_SECONDS,
                    options={"require": ["exp", "sub", "iss", "aud"]},
                )
                mapping = issuer.mapping
            else:
                raise Unauthenticated(f"token algorithm {alg!r} is not accepted")
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        check_lifetime(claims, self.settings.max_token_lifetime_seconds)
        return principal_from_claims(
            claims, mapping, max_name_chars=self.settings.max_claim_chars
        )

    def _keys_of(self, jwks_url: str) -> JWKSCache:
        """One key cache per JWKS URL, with the configured refetch policy."""
        if jwks_url not in self._key_sets:
            self._key_sets[jwks_url] = JWKSCache(
                jwks_url,
                refresh_seconds=self.settings.jwks_refresh_seconds,
                min_refetch_seconds=self.settings.jwks_min_refetch_seconds,
            )
        return self._key_sets[jwks_url]


def check_lifetime(claims: dict[str, Any], max_seconds: int) -> None:
    """Refuse tokens valid for longer than `max_seconds` (from `iat`, or from now)."""
    exp = claims.get("exp")
    iat = claims.get("iat")
    if not isinstance(exp, int | float):
        raise Unauthenticated("token has no valid 'exp' claim")
    start = iat if isinstance(iat, int | float) else time.time()
    if (
        exp - start > max_seconds + LEEWAY_SECONDS
        or exp - time.time() > max_seconds + LEEWAY_SECONDS
    ):
        raise Unauthenticated(f"token lifetime exceeds the allowed {max_seconds} s")


def _clean(text: str, limit: int) -> str:
    """Drop control characters, normalise, and cut to `limit` characters."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C").strip()
    return text[:limit].rstrip()


def principal_from_claims(
    claims: dict[str, Any], mapping: ClaimMapping = FLAT, *, max_name_chars: int = 200
) -> Principal:
    """Validate `sub` and `name`; roles and tenant as the issuer's `mapping` says.

    The single place where claims become a Principal. `sub` and `tenant` are identifiers and
    are refused when malformed; `name` is display text and is cleaned and cut to fit.
    """
    sub = claims.get("sub")
    if (
        not isinstance(sub, str)
        or not sub
        or len(sub) > MAX_SUB_CHARS
        or _clean(sub, MAX_SUB_CHARS) != sub
    ):
        raise Unauthenticated("token has no valid 'sub' claim")
    lowered = sub.lower()
    if lowered == RESERVED_SUBJECT or lowered.startswith(RESERVED_SUBJECT + ":"):
        raise Unauthenticated(f"the subject {sub!r} is reserved for the service itself")
    tenant = mapping.tenant_of(claims)
    if len(tenant) > MAX_TENANT_CHARS:
        raise Unauthenticated("token has no valid 'tenant' claim")
    known = mapping.roles(claims)
    name = claims.get("name")
    cleaned = _clean(name, min(max_name_chars, 200)) if isinstance(name, str) else ""
    return Principal(
        sub=sub,
        tenant=tenant,
        roles=known,
        name=cleaned or sub,
        claims=claims,
    )
