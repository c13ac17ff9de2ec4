"""Identity (docs/rules.md §14): ``Authorization: Bearer <JWT>``, HS256 signed with ``jwt_secret``,
claims ``sub``, ``role``, ``org`` and optionally ``exp``.

No token, a bad signature, an expired or malformed token: 401 with ``WWW-Authenticate: Bearer``.
The caller becomes a :class:`domain.models.Actor`, the same actor the workflow audits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import jwt
from fastapi import HTTPException, status
from pydantic import ValidationError

from domain.models import Actor, Role
from settings import Settings

__all__ = ["ALGORITHM", "ROLES", "authenticate_token", "mint_token", "unauthorized"]

ALGORITHM = "HS256"
ROLES: tuple[str, ...] = get_args(Role)
#: Clock skew tolerated on ``exp``.
LEEWAY_SECONDS = 10


def unauthorized(detail: str, *, error: str | None = None) -> HTTPException:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": challenge}
    )


def authenticate_token(token: str, settings: Settings) -> Actor:
    """The actor a token names, or 401."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "role"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as err:
        raise unauthorized("token expired", error="invalid_token") from err
    except jwt.InvalidTokenError as err:
        raise unauthorized("invalid token", error="invalid_token") from err
    if claims.get("role") not in ROLES:
        raise unauthorized("unknown role in token", error="invalid_token")
    try:
        return Actor(id=claims["sub"], role=claims["role"], org=claims.get("org") or "")
    except ValidationError as err:
        raise unauthorized("malformed claims in token", error="invalid_token") from err


def mint_token(
    settings: Settings,
    sub: str,
    role: str,
    org: str = "",
    ttl: timedelta | None = timedelta(hours=8),
) -> str:
    """A signed token for local use (the CLI, tests). ``ttl=None``: no ``exp`` claim."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    Actor.model_validate({"id": sub, "role": role, "org": org})  # 100-char limits
    claims: dict[str, Any] = {"sub": sub, "role": role, "org": org}
    if ttl is not None:
        claims["exp"] = datetime.now(UTC) + ttl
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)
