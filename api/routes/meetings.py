"""``POST /campaigns/{id}/meetings``: the committee records a review meeting (评审会议) in bulk,
one vote per declaration, each taken by that declaration's own workflow (docs/rules.md §2.8, §10.3;
see :mod:`api.meetings`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from api.deps import Allow, ServicesDep
from api.meetings import record_meeting
from api.openapi import problems
from api.routes.campaigns import campaign_for
from domain.campaign_ops import CommitteeMeetingInput
from domain.models import Actor

router = APIRouter(prefix="/campaigns", tags=["meetings"])

Committee = Annotated[Actor, Depends(Allow("committee"))]


@router.post(
    "/{campaign_id}/meetings",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the same meeting, sent again: nothing new recorded"},
        **problems(409, s409="the meeting id is taken by another meeting"),
    },
)
async def record_committee_meeting(
    campaign_id: str,
    body: CommitteeMeetingInput,
    actor: Committee,
    services: ServicesDep,
    response: Response,
) -> dict[str, Any]:
    """``{"meeting_id", "held_at", "members_present": [ids], "votes": [{"declaration_id",
    "in_favor", "against", "abstain", "recused": [ids]}]}``. Each declaration's attendance is the
    members present less those recused for it. Answers per declaration: ``passed``,
    ``not_passed`` or ``refused`` with the workflow's reason. 201 when recorded, 200 when the
    same meeting is sent again; 409 when its id is taken by another meeting; 422 on a member
    listed twice, a recused member not present, or a declaration voted on twice; 403 for another
    committee's campaign. The quorum counts the committee's registered members (§11)."""
    campaign = await campaign_for(services, actor, campaign_id, action="record_committee_meeting")
    answer = await record_meeting(services, actor, campaign, body)
    if not answer.created:
        response.status_code = status.HTTP_200_OK
    return answer.body
