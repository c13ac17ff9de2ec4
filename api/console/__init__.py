"""The console: server-rendered pages over the API for committee staff, reviewers and auditors
(Jinja2 templates, plain forms and a little vanilla JS; nothing loaded from a CDN).

Sign-in takes the API's own JWT and keeps it in an HttpOnly cookie (``api.console.auth``). Every
page reads, and every form decides, through the JSON routes' own functions, behind the API routes'
own role gates, so the console has exactly the API's validation, refusal messages and audit.

``create_app`` mounts :data:`router` under ``/console``; it is left out of the OpenAPI schema.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.console import (
    actions,
    auditor,
    committee,
    materials,
    organisations,
    reminders,
    reviewer,
    session,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
for module in (session, reviewer, actions, materials, committee, auditor, organisations, reminders):
    router.include_router(module.router)
