"""``GET /inbox``: what waits on the caller's role and organisation (api.md §3), soonest due
first and, among equals, the declarations at risk (§10.2) first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import Allow, ServicesDep
from api.policy import ALL_ROLES
from api.queries import inbox_page
from api.routes.declarations import present_many
from api.schemas import Page
from api.services import in_session
from domain.models import Actor

router = APIRouter(tags=["inbox"])

Anyone = Annotated[Actor, Depends(Allow(*ALL_ROLES))]


@router.get("/inbox")
async def inbox(
    actor: Anyone,
    services: ServicesDep,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page:
    rows = await in_session(
        services.store,
        lambda s: inbox_page(s, actor, page=page, page_size=page_size),
        readonly=True,
    )
    items = await present_many(services, actor, rows.views)
    return Page(items=items, page=page, page_size=page_size, total=rows.total)
