"""The one token check of every way in (REST bearer header, co-editing WebSocket)."""

from __future__ import annotations

from typing import Any

from eakte.auth.principal import Principal, Role
from eakte.auth.tokens import LEEWAY_SECONDS, TokenVerifier
from eakte.errors import Forbidden, Unauthenticated

SUBPROTOCOL = "eakte-collab"  # what the server answers when the token came as a subprotocol
TOKEN_SUBPROTOCOL_PREFIX = "bearer."  # browsers cannot set headers: `bearer.<jwt>`


async def authenticate(state: Any, token: str) -> Principal:
    """Verify `token` and check that its tenant exists (app.state holds verifier and tenants)."""
    verifier: TokenVerifier = state.verifier
    principal = await verifier.verify(token)
    if not await state.tenants.contains(principal.tenant):
        if principal.roles == {Role.applicant}:
            # citizen accounts are not per city: an applicant is simply not an official
            raise Forbidden("this API is for officials; applicants use /api/v1/authorities")
        raise Unauthenticated("token names an unknown tenant")
    return principal


def valid_until(principal: Principal) -> float | None:
    """Unix time after which the REST API refuses the token (its `exp` plus the leeway)."""
    exp = principal.claims.get("exp")
    return float(exp) + LEEWAY_SECONDS if isinstance(exp, int | float) else None


def websocket_token(query: Any, headers: Any) -> tuple[str | None, bool]:
    """The bearer token of a WebSocket upgrade and whether it came as a subprotocol.

    Accepted in the `Sec-WebSocket-Protocol` header as `bearer.<jwt>` (what a browser can
    send), in `Authorization: Bearer`, or as the `token` query parameter (y-websocket's
    `params`; decoded, so `%74oken=` is the same key).
    """
    offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
    for protocol in offered:
        if protocol.startswith(TOKEN_SUBPROTOCOL_PREFIX):
            return protocol[len(TOKEN_SUBPROTOCOL_PREFIX) :], True
    header = headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    return query.get("token") or None, False
