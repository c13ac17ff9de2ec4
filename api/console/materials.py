"""The declaration page's materials (docs/rules.md §19): the upload form's target and the view
of one file, through :mod:`api.materials`' own functions, so the console uploads, refuses and
audits exactly as the API does.

- ``POST /console/declarations/{id}/materials``: the page's upload form (``multipart/form-data``;
  its CSRF token is checked before anything is kept); success returns to the page, a refusal
  shows the page with the reason;
- ``GET /console/declarations/{id}/materials/{material_id}``: the file inline in the browser,
  always with the reader's watermark, and audited as read.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response

from api.console.auth import ConsoleAllow, verify_csrf
from api.console.render import attempt, console_router
from api.console.reviewer import declaration_page
from api.deps import ServicesDep
from api.materials import download, upload
from api.routes import materials
from domain.models import Actor

__all__ = ["router"]

router = console_router()

Uploader = Annotated[
    Actor, Depends(ConsoleAllow.like(materials.Uploader, action="upload_material"))
]
Reader = Annotated[Actor, Depends(ConsoleAllow.like(materials.Reader, action="read_material"))]


@router.post("/declarations/{declaration_id}/materials")
async def upload_form(
    request: Request, declaration_id: str, actor: Uploader, services: ServicesDep
) -> Response:
    def verify(fields: dict[str, str]) -> None:
        verify_csrf(request, services.settings, fields.get("csrf", ""))

    shown, _ = await attempt(
        lambda: upload(services, actor, declaration_id, request, verify=verify),
        partial(declaration_page, request, actor, services, declaration_id),
    )
    if shown is not None:
        return shown
    return RedirectResponse(
        f"/console/declarations/{quote(declaration_id, safe='')}?done=upload_material#materials",
        303,
    )


@router.get("/declarations/{declaration_id}/materials/{material_id}")
async def view_material(
    declaration_id: str, material_id: str, actor: Reader, services: ServicesDep
) -> Response:
    return await download(
        services, actor, declaration_id, material_id, watermark=True, via="console"
    )
