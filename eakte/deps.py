"""Shared FastAPI dependencies: sessions, the current principal, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from eakte.auth.bearer import authenticate
from eakte.auth.principal import Principal, Role
from eakte.config import Settings
from eakte.db import Database
from eakte.errors import Forbidden, Unauthenticated

bearer = HTTPBearer(auto_error=False, description="JWT with claims sub, tenant, roles, name")


def get_db(request: Request) -> Database:
    """The process's database."""
    return request.app.state.db  # type: ignore[no-any-return]


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings  # type: ignore[no-any-return]


async def write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for a request that writes: commits on success, rolls back on error."""
    async with get_db(request).session(write=True) as session:
        # letters drafted from procedure effects need the store (eakte.issuing.effects)
        session.info["store"] = request.app.state.store
        yield session


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for a request that only reads."""
    async with get_db(request).session(write=False) as session:
        yield session


# scope="function": commit (and close) before the response is sent, so that a client never
# sees a 2xx for a write that a crash or a failed commit then loses. (FastAPI's default,
# "request", runs the exit code of a yield dependency only after the response went out.)
SessionDep = Annotated[AsyncSession, Depends(write_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(read_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Verify the bearer token and check that its tenant exists."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing bearer token")
    principal = await authenticate(request.app.state, credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits only principals holding one of `roles`."""
    allowed = frozenset(roles)

    async def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(allowed):
            raise Forbidden(
                "this action needs one of the roles: " + ", ".join(sorted(r.value for r in allowed))
            )
        return principal

    return _check
