"""Campaigns (年度评审工作): create, read, and move their deadlines (延期) (api.md §3)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.deps import Allow, ServicesDep
from api.fanout import fan_out
from api.policy import ALL_ROLES
from api.queries import open_declarations
from api.refusals import Refusals
from api.schemas import CreatedCampaign, DeadlinesBody
from api.services import in_session
from domain.models import Actor, Campaign, CampaignDeadlines, DeadlineChangeCommand
from store.campaigns import add_campaign, get_campaign, replace_campaign

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

Admin = Annotated[Actor, Depends(Allow("admin"))]
Reader = Annotated[Actor, Depends(Allow(*ALL_ROLES))]
DeadlineSetter = Annotated[Actor, Depends(Allow("admin", "committee"))]


def unknown_campaign(campaign_id: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND, f"没有编号为 {campaign_id} 的评审工作 / unknown campaign"
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_campaign(
    campaign: Campaign, actor: Admin, services: ServicesDep
) -> CreatedCampaign:
    """422 unless the windows are in order and every level has a fee; 409 when the id exists."""
    now = await services.clock()
    added = await in_session(services.store, lambda s: add_campaign(s, campaign, at=now))
    if not added:
        reason = f"评审工作 {campaign.id} 已存在 / the campaign id exists"
        await Refusals(services).on_campaign(
            actor, campaign.id, action="create_campaign", reason=reason, status=409
        )
        raise HTTPException(status.HTTP_409_CONFLICT, reason)
    return CreatedCampaign(id=campaign.id)


@router.get("/{campaign_id}")
async def read_campaign(campaign_id: str, actor: Reader, services: ServicesDep) -> dict[str, Any]:
    campaign = await in_session(
        services.store, lambda s: get_campaign(s, campaign_id), readonly=True
    )
    if campaign is None:
        raise unknown_campaign(campaign_id)
    return campaign.model_dump(mode="json")


@router.post("/{campaign_id}/deadlines")
async def change_deadlines(
    campaign_id: str, body: DeadlinesBody, actor: DeadlineSetter, services: ServicesDep
) -> dict[str, Any]:
    """Move the campaign's deadlines, then every open declaration re-arms its timers (§3: one
    moved earlier takes effect no earlier than 24 hours after the change). Answers how many
    declarations were addressed and updated, and which refused."""
    campaign = await in_session(
        services.store, lambda s: get_campaign(s, campaign_id), readonly=True
    )
    if campaign is None:
        raise unknown_campaign(campaign_id)
    changes = body.model_dump(include=body.model_fields_set)
    try:
        moved = Campaign.model_validate({**campaign.model_dump(), **changes})
    except ValidationError as err:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])}
             for e in err.errors(include_url=False, include_context=False)]
        ) from err  # fmt: skip
    now = await services.clock()
    await in_session(services.store, lambda s: replace_campaign(s, moved, at=now))
    ids = await in_session(
        services.store, lambda s: open_declarations(s, campaign_id), readonly=True
    )
    cmd = DeadlineChangeCommand(actor=actor, deadlines=CampaignDeadlines.of(moved), changed_at=now)
    result = await fan_out(services, actor, ids, "change_deadlines", cmd)
    return {
        "campaign_id": campaign_id,
        "deadlines": cmd.deadlines.model_dump(mode="json"),
        **result.model_dump(),
    }
