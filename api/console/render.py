"""Pages: the Jinja2 environment, its filters, and the route class that turns every error a
console route meets into a page.

:class:`ConsoleRoute` wraps each console endpoint: a 401 (no cookie, an expired or bad token)
sends a browser to the sign-in page; any other ``HTTPException`` (the API's own 403, 404, 409 …)
and a 422 render the error page with the API's message and status. The API's JSON routes are
untouched: only routers built by :func:`console_router` use it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.console import labels
from api.console.auth import COOKIE, clear_session, optional_actor, session_csrf
from api.console.labels import ROLE_LABELS, action_label, reason_label
from api.console.present import actor_role, coded, detail_items, value, yes_no
from api.problems import problem_type
from domain.calendar import BEIJING
from domain.models import Actor
from domain.reminders import notice_time
from settings import Settings

__all__ = [
    "TIME_FORMAT",
    "ConsoleRoute",
    "bj",
    "console_router",
    "deadline",
    "parse_time",
    "render",
    "safe_next",
    "signin_redirect",
    "validation_messages",
]

HERE = Path(__file__).resolve().parent

#: Which pages each role finds in the navigation bar: (path, label, roles).
NAVIGATION: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("/console/inbox", "待办 inbox", frozenset(ROLE_LABELS)),
    ("/console/campaigns", "评审工作 campaigns", frozenset({"committee", "admin", "auditor"})),
    ("/console/audit", "审计 audit", frozenset({"auditor", "admin"})),
    ("/console/organisations", "机构 organisations", frozenset({"admin"})),
)


def _instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# How the console writes a time, everywhere: Beijing time on a 24-hour clock, ``YYYY-MM-DD HH:MM``
# (TIME_FORMAT). A deadline is written as the notices write it: an instant at midnight is the end
# of the day before, ``2024-10-10 24:00``, never ``2024-10-11 00:00`` (docs/rules.md §1, Time). A
# field for a time is a plain text field in that same form, prefilled exactly as the page writes
# the time beside it, and :func:`parse_time` reads it back, ``24:00`` included. The browser's
# ``datetime-local`` picker is not used: many locales draw it on a 12-hour clock, and it cannot
# show 24:00, so a clerk read "2024-10-10 24:00" beside a field showing "10/11/2024, 12:00 AM".
TIME_FORMAT = "%Y-%m-%d %H:%M"
#: What a time field accepts: the date, a space (or ISO's ``T``) and a 24-hour time (the
#: field's ``pattern`` says the same to the browser).
TIME_PATTERN = r"\s*\d{4}-\d{2}-\d{2}[ T]+\d{1,2}:\d{2}\s*"
_TYPED_TIME = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[ T]+(\d{1,2}):(\d{2})\s*$")


def bj(value: Any, fmt: str = TIME_FORMAT) -> str:
    """An instant (datetime or ISO text) in Beijing time."""
    at = _instant(value)
    return "" if at is None else at.astimezone(BEIJING).strftime(fmt)


def deadline(value: Any) -> str:
    """A deadline in Beijing time, the way notices write it: an instant at midnight is the end
    of the day before (``2024-10-11 00:00`` → ``2024-10-10 24:00``)."""
    at = _instant(value)
    return "" if at is None else notice_time(at)


def parse_time(text: str) -> datetime:
    """A time typed in a console field (``2024-10-10 24:00``, ``2024-10-11 00:00``,
    ``2024-10-10 18:00``) as a Beijing instant; ValueError for anything else."""
    found = _TYPED_TIME.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not YYYY-MM-DD HH:MM")
    day, hour, minute = found.group(1), int(found.group(2)), int(found.group(3))
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=BEIJING)
    if hour == 24 and minute == 0:
        return start + timedelta(days=1)
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day")
    return start.replace(hour=hour, minute=minute)


def remaining(value: Any, now: datetime | None) -> str:
    """How long until ``value`` from ``now``: 剩 3 天 4 小时, or 已逾期."""
    at = _instant(value)
    if at is None or now is None:
        return ""
    seconds = int((at - now).total_seconds())
    if seconds <= 0:
        return "已到期 / due"
    days, rest = divmod(seconds, 86400)
    hours = rest // 3600
    if days:
        return f"剩 {days} 天 {hours} 小时"
    return f"剩 {hours} 小时 {rest % 3600 // 60} 分"


def brief(text: Any, limit: int = 300) -> str:
    """A text on one line, cut at ``limit`` (an error message of the outbox); — for none."""
    line = "—" if text is None else " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _shown(item: Any) -> Any:
    """What ``{{ … }}`` prints: never a Python ``None``, ``True`` or ``False`` (—, 是, 否)."""
    if item is None or isinstance(item, bool):
        return yes_no(item)
    return item


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )
    env.filters["bj"] = bj
    env.filters["remaining"] = remaining
    env.filters["deadline"] = deadline
    env.filters["action_label"] = action_label
    env.filters["reason_label"] = reason_label
    env.filters["brief"] = brief
    env.filters["coded"] = coded
    env.filters["yes_no"] = yes_no
    env.filters["detail_items"] = detail_items
    env.filters["actor_role"] = actor_role
    env.globals["value"] = value
    env.globals["TIME_PATTERN"] = TIME_PATTERN
    env.globals.update({name: getattr(labels, name) for name in labels.__all__ if name.isupper()})
    return env


TEMPLATES = Jinja2Templates(env=_environment())


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.services.settings
    return settings


def render(
    request: Request,
    template: str,
    actor: Actor | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with what every page shows: the caller, their navigation and the
    CSRF token their forms carry."""
    nav = [] if actor is None else [(p, t) for p, t, roles in NAVIGATION if actor.role in roles]
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "actor": actor,
            "nav": nav,
            "csrf": session_csrf(request, _settings(request)) if actor else "",
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def signin_redirect(request: Request, *, expired: bool = False) -> RedirectResponse:
    target = request.url.path
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    if request.method != "GET":  # after signing in, come back to the page the form was on
        target = request.headers.get("referer", "") or "/console"
    url = f"/console/login?next={quote(_local(target), safe='')}"
    if expired:
        url += "&expired=1"
    response = RedirectResponse(url, status_code=303)
    clear_session(response)
    return response


def _local(target: str) -> str:
    """Only a console path may be a redirect target (no open redirect)."""
    if "://" in target:
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    if not target.startswith("/console") or target.startswith("//"):
        return "/console"
    return target


def validation_messages(errors: Any) -> list[str]:
    out = []
    for error in errors:
        loc = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body",))
        out.append(f"{loc}: {error.get('msg', '')}" if loc else str(error.get("msg", "")))
    return out


T = TypeVar("T")


async def attempt(
    call: Callable[[], Awaitable[T]], page: Callable[..., Awaitable[Response]]
) -> tuple[Response | None, T | None]:
    """Run ``call``: ``(None, its result)``, or, when the service refuses it, ``(the page that
    shows why, None)``: ``page(status_code=422, errors=…)`` for invalid fields,
    ``page(status_code=…, refusal=…)`` for a refusal. 401 and 404 are raised, as the API's."""
    try:
        return None, await call()
    except RequestValidationError as err:
        return await page(status_code=422, errors=validation_messages(err.errors())), None
    except HTTPException as err:
        if err.status_code in (401, 404):
            raise
        return await page(status_code=err.status_code, refusal=str(err.detail)), None


async def error_page(request: Request, status_code: int, detail: Any) -> HTMLResponse:
    actor = await optional_actor(request, request.app.state.services)
    messages = validation_messages(detail) if isinstance(detail, list) else [str(detail)]
    kind = problem_type(status_code).rpartition("/")[2]
    return render(
        request,
        "error.html",
        actor,
        status_code=status_code,
        messages=messages,
        status=status_code,
        problem=kind,
    )


class ConsoleRoute(APIRoute):
    """Errors become pages; 401 becomes the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except StarletteHTTPException as err:
                if err.status_code == 401:
                    return signin_redirect(request, expired=COOKIE in request.cookies)
                return await error_page(request, err.status_code, err.detail)
            except RequestValidationError as err:
                return await error_page(request, 422, err.errors())

        return console_handler


def console_router() -> APIRouter:
    """A router under ``/console`` whose routes render their errors as pages."""
    return APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


def safe_next(target: str | None) -> str:
    return _local(target or "/console")
