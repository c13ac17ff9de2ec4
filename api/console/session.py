"""Signing in and out, each role's home page, and the console's static files."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.responses import RedirectResponse, Response

from api.auth import authenticate_token
from api.console.auth import MAX_TOKEN, ConsoleAllow, clear_session, optional_actor, start_session
from api.console.forms import FormDep
from api.console.render import HERE, console_router, render, safe_next
from api.deps import PUBLIC, SettingsDep
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
    request: Request, settings: SettingsDep, next: str = "", expired: bool = False
) -> Response:
    return render(request, "login.html", optional_actor(request, settings), next=safe_next(next),
                expired=expired, error=None)  # fmt: skip


@router.post("/login", dependencies=[Depends(PUBLIC)])
async def login(request: Request, form: FormDep, settings: SettingsDep) -> Response:
    """Verify the pasted token as the API would, then keep it in the HttpOnly cookie."""
    token = form.get("token").removeprefix("Bearer ").strip()
    target = safe_next(form.get("next"))
    try:
        if not token or len(token) > MAX_TOKEN:
            raise HTTPException(401, "请粘贴访问令牌 / paste a token")
        actor = authenticate_token(token, settings)
    except HTTPException as err:
        return render(request, "login.html", None, status_code=401, next=target, expired=False,
                    error=f"令牌无效，未登录 / {err.detail}")  # fmt: skip
    response = RedirectResponse(target if target != "/console" else home_of(actor), 303)
    start_session(response, request, token)
    return response


@router.post("/logout", dependencies=[Depends(PUBLIC)])
async def logout() -> Response:
    """Forget the cookie (nothing is kept on the server)."""
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
        path, media_type=media or "application/octet-stream",
        headers={"Cache-Control": "public, max-age=3600"},
    )  # fmt: skip
