"""Signing in and out, each role's home page, and the console's static files."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.responses import RedirectResponse, Response

from api.console.auth import (
    COOKIE,
    MAX_TOKEN,
    ConsoleAllow,
    check_origin,
    clear_session,
    optional_actor,
    start_session,
    verify_csrf,
)
from api.console.forms import FormDep
from api.console.render import HERE, console_router, render, safe_next
from api.deps import PUBLIC, ServicesDep, SettingsDep
from api.policy import ALL_ROLES
from domain.models import Actor

router = console_router()

STATIC = HERE / "static"
#: Where each role starts.
HOME: dict[str, str] = {
    "committee": "/console/campaigns",
    "admin": "/console/campaigns",
    "auditor": "/console/audit",
}

Anyone = Annotated[Actor, Depends(ConsoleAllow(*ALL_ROLES, action="console"))]


def home_of(actor: Actor) -> str:
    return HOME.get(actor.role, "/console/inbox")


@router.get("/login", dependencies=[Depends(PUBLIC)])
async def login_form(
    request: Request, services: ServicesDep, next: str = "", expired: bool = False
) -> Response:
    actor = await optional_actor(request, services)
    return render(request, "login.html", actor, next=safe_next(next), expired=expired, error=None)


@router.post("/login", dependencies=[Depends(PUBLIC)])
async def login(
    request: Request, form: FormDep, settings: SettingsDep, services: ServicesDep
) -> Response:
    """Verify the pasted token as the API would, then keep it in the HttpOnly cookie. Only
    from the console's own sign-in page (Origin check): another site cannot sign a browser in
    with a token of its choosing."""
    check_origin(request, settings)
    token = form.get("token").removeprefix("Bearer ").strip()
    target = safe_next(form.get("next"))
    try:
        if not token or len(token) > MAX_TOKEN:
            raise HTTPException(401, "请粘贴访问令牌 / paste a token")
        actor = await services.identity.authenticate(token)
    except HTTPException as err:
        return render(
            request,
            "login.html",
            None,
            status_code=401,
            next=target,
            expired=False,
            error=f"令牌无效，未登录 / {err.detail}",
        )
    response = RedirectResponse(target if target != "/console" else home_of(actor), 303)
    start_session(response, request, token)
    return response


@router.post("/logout", dependencies=[Depends(PUBLIC)])
async def logout(
    request: Request, form: FormDep, settings: SettingsDep, services: ServicesDep
) -> Response:
    """End the session: the token is revoked on the server until it expires (a copy of the
    cookie, or the same token sent as a bearer, is refused from now on), and the cookie is
    dropped. Like every form post, only from the console's own origin and with the session's
    CSRF token (403 otherwise: another site cannot sign a reviewer out)."""
    check_origin(request, settings)
    token = request.cookies.get(COOKIE)
    if token:
        verify_csrf(request, settings, form.get("csrf"))
        await services.identity.revoke(token)
    response = RedirectResponse("/console/login", 303)
    clear_session(response)
    return response


@router.get("")
async def home(actor: Anyone) -> Response:
    return RedirectResponse(home_of(actor), 303)


@router.get("/static/{name}", dependencies=[Depends(PUBLIC)])
async def static(name: str) -> Response:
    """The console's own css and js (no CDN: the service may run without internet access)."""
    path = (STATIC / name).resolve()
    if path.parent != STATIC or not path.is_file():
        raise HTTPException(404, "not found")
    media, _ = mimetypes.guess_type(path.name)
    return FileResponse(
        path,
        media_type=media or "application/octet-stream",
        headers={"Cache-Control": "public, max-age=3600"},
    )
