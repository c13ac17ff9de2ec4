"""Signing in to the console: the API's own JWT, kept in an HttpOnly cookie.

The console reads the token from its cookie and verifies it exactly as the API verifies a bearer
token (:meth:`api.auth.Identity.authenticate`: same keys, claims, expiry and revocations); no
token or a bad one is 401, which the console answers with its sign-in page. Signing out revokes
the token on the server (``store.revocations``), so a copy of the cookie is worth nothing after.

Role gates are the API's own. :meth:`ConsoleAllow.like` copies the roles of the ``Allow`` an API
route declares (``ConsoleAllow.like(inbox.Anyone, action="inbox")``), so a console form
admits exactly whom the JSON endpoint admits, and a refused role is a 403 audited by the same code
(:class:`api.deps.Allow`) under the same action name. ``ConsoleAllow`` is an ``Allow``, so
:func:`api.app.check_access_declared` sees every console route's rule.

Forms post with the cookie, so the cookie is ``SameSite=Strict``, every form post (sign-in and
sign-out included) must come from the console's own origin (its ``Origin`` header, else its
``Referer``: :func:`check_origin`), and every form of a signed-in page also carries a CSRF token:
an HMAC of the session's token under the JWT secret (double submit, nothing stored on the
server), checked before any command is sent.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any, get_args
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.params import Depends as DependsParam
from starlette.responses import Response

from api.auth import unauthorized
from api.deps import Allow, ServicesDep
from api.services import Services
from domain.models import Actor
from settings import Settings

__all__ = [
    "COOKIE",
    "ConsoleActorDep",
    "ConsoleAllow",
    "check_origin",
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


async def console_actor(request: Request, services: ServicesDep) -> Actor:
    """The signed-in caller, from the cookie; 401 without a valid token."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise unauthorized("not signed in / 未登录")
    return await services.identity.authenticate(token)


ConsoleActorDep = Annotated[Actor, Depends(console_actor)]


async def optional_actor(request: Request, services: Services) -> Actor | None:
    """The signed-in caller or None (for pages that render either way, such as errors)."""
    try:
        return await console_actor(request, services)
    except HTTPException:
        return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def own_origin(request: Request, settings: Settings) -> str:
    """The console's own origin: ``public_origin`` when set (behind a proxy), else the origin
    the request was addressed to."""
    return _origin(settings.public_origin) or _origin(str(request.base_url))


def check_origin(request: Request, settings: Settings) -> None:
    """403 unless a form post comes from the console's own pages: its ``Origin`` (every current
    browser sends one on a POST), or without it its ``Referer``, must be the console's origin.
    Neither header: refused too (a browser that sends neither cannot be told from a forgery)."""
    sent = request.headers.get("origin") or ""
    if not sent or sent == "null":
        sent = _origin(request.headers.get("referer") or "")
    if _origin(sent) != own_origin(request, settings):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "表单来自其他网站，已拒绝 / the form was posted from another origin: refused",
        )


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
        settings.jwt_secret.encode("utf-8"),
        b"console-csrf\x00" + token.encode("utf-8"),
        hashlib.sha256,
    )
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
