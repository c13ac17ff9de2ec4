"""``GET /inbox``: what waits on the caller's role and organisation (docs/rules.md §15), soonest due
first and, among equals, the declarations at risk (§10.2) first.

Beside the page, ``at_risk`` lists (all pages together, up to :data:`AT_RISK_LIMIT`, the
earliest at risk first) the declarations waiting on the caller whose remaining time before the
declaration deadline is shorter than what the chain still needs, each with the instant it became
at risk and its due time; ``at_risk_total`` counts them all."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from api.deps import Allow, ServicesDep
from api.policy import ALL_ROLES
from api.routes.declarations import present_many
from api.schemas import MAX_PAGE, Page
from api.services import in_session
from domain.models import Actor
from store.queries.declarations import at_risk_in_inbox, inbox_page

router = APIRouter(tags=["inbox"])

Anyone = Annotated[Actor, Depends(Allow(*ALL_ROLES))]

AT_RISK_LIMIT = 50


class InboxPage(Page):
    at_risk: list[dict[str, Any]] = Field(default_factory=list)
    at_risk_total: int = 0


def _at_risk_entry(view: dict[str, Any]) -> dict[str, Any]:
    pending = view.get("pending") or {}
    return {
        "id": view["id"],
        "campaign_id": view["campaign_id"],
        "level": view["level"],
        "state": view["state"],
        "action": pending.get("action"),
        "org": pending.get("org"),
        "due_at": pending.get("due_at"),
        "at_risk_from": view.get("at_risk_from"),
        "declaration_deadline": view["deadlines"]["declaration"],
    }


@router.get("/inbox")
async def inbox(
    actor: Anyone,
    services: ServicesDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InboxPage:
    rows = await in_session(
        services.store,
        lambda s: inbox_page(s, actor, page=page, page_size=page_size),
        readonly=True,
    )
    risky = await in_session(
        services.store, lambda s: at_risk_in_inbox(s, actor, limit=AT_RISK_LIMIT), readonly=True
    )
    items = await present_many(services, actor, rows.views)
    at_risk = [_at_risk_entry(v) for v in await present_many(services, actor, risky.views)]
    return InboxPage(
        items=items,
        page=page,
        page_size=page_size,
        total=rows.total,
        at_risk=at_risk,
        at_risk_total=risky.total,
    )
