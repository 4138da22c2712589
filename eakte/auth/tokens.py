"""Issue dev tokens (HS256) and verify bearer tokens (HS256 or OIDC JWKS)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import jwt
from jwt import PyJWK

from eakte.auth.claims import FLAT, ClaimMapping, IssuerRegistry, TenantIssuers, configured_issuers
from eakte.auth.principal import Principal, Role
from eakte.config import Settings
from eakte.errors import Unauthenticated

DEV_AUDIENCE = "eakte"
JWKS_CACHE_SECONDS = 300
LEEWAY_SECONDS = 30


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
    """Fetches and caches the OIDC provider's signing keys (http(s) or file URL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self) -> dict[str, Any]:
        parsed = urlparse(self.url)
        if parsed.scheme == "file":
            return json.loads(await asyncio.to_thread(Path(parsed.path).read_text))
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(self.url)
            response.raise_for_status()
            return response.json()

    async def refresh(self) -> None:
        """Reload the key set."""
        document = await self._fetch()
        keys: dict[str, PyJWK] = {}
        for jwk in document.get("keys", []):
            if jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[jwk.get("kid", "")] = PyJWK(jwk)
            except jwt.PyJWKError:
                continue
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def key(self, kid: str | None) -> PyJWK:
        """The key for `kid`, refreshing once if unknown or stale."""
        async with self._lock:
            stale = time.monotonic() - self._fetched_at > JWKS_CACHE_SECONDS
            if stale or (kid or "") not in self._keys:
                try:
                    await self.refresh()
                except (httpx.HTTPError, OSError, ValueError) as exc:
                    if not self._keys:
                        raise Unauthenticated("signing keys could not be loaded") from exc
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        found = self._keys.get(kid or "")
        if found is None:
            raise Unauthenticated("token signed with an unknown key")
        return found


class TokenVerifier:
    """Turns a bearer token into a Principal or raises Unauthenticated."""

    def __init__(self, settings: Settings, tenant_issuers: TenantIssuers | None = None) -> None:
        self.settings = settings
        self.jwks = JWKSCache(settings.oidc_jwks_url) if settings.oidc_jwks_url else None
        # issue 19: several issuers (installation-wide and per tenant), one key cache each
        self.issuers = IssuerRegistry(configured_issuers(settings), tenant_issuers)
        self._key_sets: dict[str, JWKSCache] = {}
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
            elif alg in self.settings.oidc_algorithms and self.issuers:
                unverified = jwt.decode(token, options={"verify_signature": False})
                issuer = await self.issuers.find(unverified.get("iss"))
                if issuer is None or alg not in issuer.algorithms:
                    raise Unauthenticated("token of an unknown issuer")
                keys = self._key_sets.setdefault(issuer.jwks_url, JWKSCache(issuer.jwks_url))
                key = await keys.key(header.get("kid"))
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=list(issuer.algorithms),
                    audience=issuer.audience,
                    issuer=issuer.issuer,
                    leeway=LEEWAY_SECONDS,
                    options={"require": ["exp", "sub", "iss", "aud"]},
                )
                return principal_from_claims(claims, issuer.mapping)
            else:
                raise Unauthenticated(f"token algorithm {alg!r} is not accepted")
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        return principal_from_claims(claims)


def principal_from_claims(claims: dict[str, Any], mapping: ClaimMapping = FLAT) -> Principal:
    """Validate `sub` and `name`; roles and tenant as the issuer's `mapping` says."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 200:
        raise Unauthenticated("token has no valid 'sub' claim")
    tenant = mapping.tenant_of(claims)
    known = mapping.roles(claims)
    name = claims.get("name")
    return Principal(
        sub=sub,
        tenant=tenant,
        roles=known,
        name=name if isinstance(name, str) and name else sub,
        claims=claims,
    )
