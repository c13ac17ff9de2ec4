"""Signing in to the console: the API's own JWT, kept in an HttpOnly cookie.

The console reads the token from its cookie and verifies it exactly as the API verifies a bearer
token (:func:`api.auth.authenticate_token`: same secret, algorithm, claims and expiry); no token or
a bad one is 401, which the console answers with its sign-in page.

Role gates are the API's own. :meth:`ConsoleAllow.like` copies the roles of the ``Allow`` an API
route declares (``ConsoleAllow.like(inbox.Anyone, action="inbox")``), so a console form
admits exactly whom the JSON endpoint admits, and a refused role is a 403 audited by the same code
(:class:`api.deps.Allow`) under the same action name. ``ConsoleAllow`` is an ``Allow``, so
:func:`api.app.check_access_declared` sees every console route's rule.

Forms post with the cookie, so the cookie is ``SameSite=Strict`` and every form also carries a
CSRF token: an HMAC of the session's token under the JWT secret (double submit, nothing stored on
the server), checked before any command is sent.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any, get_args

from fastapi import Depends, HTTPException, Request, status
from fastapi.params import Depends as DependsParam
from starlette.responses import Response

from api.auth import authenticate_token, unauthorized
from api.deps import Allow, ServicesDep, SettingsDep
from domain.models import Actor
from settings import Settings

__all__ = [
    "COOKIE",
    "ConsoleActorDep",
    "ConsoleAllow",
    "clear_session",
    "console_actor",
    "csrf_token",
    "optional_actor",
    "start_session",
    "verify_csrf",
]

COOKIE = "reviewchain_console"
COOKIE_PATH = "/console"
#: Longest token the sign-in form accepts (a JWT with the three claims is ~250 characters).
MAX_TOKEN = 4096


def console_actor(request: Request, settings: SettingsDep) -> Actor:
    """The signed-in caller, from the cookie; 401 without a valid token."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise unauthorized("not signed in / 未登录")
    return authenticate_token(token, settings)


ConsoleActorDep = Annotated[Actor, Depends(console_actor)]


def optional_actor(request: Request, settings: Settings) -> Actor | None:
    """The signed-in caller or None (for pages that render either way, such as errors)."""
    try:
        return console_actor(request, settings)
    except HTTPException:
        return None


class ConsoleAllow(Allow):
    """The API's role gate, with the caller taken from the console's cookie."""

    async def __call__(  # the caller comes from the cookie, the rest is Allow's own
        self, request: Request, actor: ConsoleActorDep, services: ServicesDep
    ) -> Actor:
        return await super().__call__(request, actor, services)

    @classmethod
    def like(cls, alias: Any, *, action: str) -> ConsoleAllow:
        """The gate of an API route's actor alias (``Annotated[Actor, Depends(Allow(...))]``),
        auditing a refusal under ``action`` (the API endpoint's name, as the API audits it)."""
        return cls(*sorted(roles_of(alias)), action=action)


def roles_of(alias: Any) -> frozenset[str]:
    """The roles an API route's actor alias admits."""
    for meta in get_args(alias)[1:]:
        if isinstance(meta, DependsParam) and isinstance(meta.dependency, Allow):
            return meta.dependency.roles
    raise TypeError(f"{alias!r} carries no Allow gate")


def csrf_token(settings: Settings, token: str) -> str:
    digest = hmac.new(
        settings.jwt_secret.encode("utf-8"), b"console-csrf\x00" + token.encode("utf-8"),
        hashlib.sha256,
    )  # fmt: skip
    return digest.hexdigest()


def session_csrf(request: Request, settings: Settings) -> str:
    """The CSRF token forms of this session carry ("" when signed out)."""
    token = request.cookies.get(COOKIE)
    return csrf_token(settings, token) if token else ""


def verify_csrf(request: Request, settings: Settings, sent: str) -> None:
    expected = session_csrf(request, settings)
    if not expected or not hmac.compare_digest(expected, sent):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "表单已失效，请刷新页面后重试 / the form is stale or forged: reload the page",
        )


def start_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
