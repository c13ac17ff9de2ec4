"""Closing a campaign's review (docs/rules.md §3): ``POST /campaigns/{id}/close-review``.

Where a notice sets no correction window and the campaign has no ``review_closes_at``, a
returned declaration may be corrected until the committee closes the review; closing it ends
every declaration still waiting in ``returned`` as ``not_accepted``, durably, through the
``campaign-close-review`` fan-out. It answers like a deadline change: 200 once every declaration
has answered, else 202 with where to follow it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status

from api.answers import JSONAnswer
from api.commands import require_client
from api.deps import Allow, ServicesDep
from api.openapi import problems
from api.refusals import Refusals
from api.routes.campaigns import DEFAULT_WAIT, campaign_for
from api.services import in_session
from domain.campaign_ops import CloseReviewRun, close_review_id
from domain.models import Actor, CloseReviewCommand, as_of
from store.queries.declarations import declarations_in_state
from workflows.campaign_client import finished_within, progress, start_close_review
from workflows.campaign_ops import close_review_workflow_id

__all__ = ["router"]

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

CommitteeStaff = Annotated[Actor, Depends(Allow("committee", action="close_review"))]
ChangeReader = Annotated[Actor, Depends(Allow("admin", "committee", "auditor"))]


@router.post(
    "/{campaign_id}/close-review",
    response_model=None,
    responses={
        202: {"description": "accepted: still closing; follow the progress path"},
        **problems(409, s409="the campaign has review_closes_at: its review closes by itself"),
    },
)
async def close_review(
    campaign_id: str,
    actor: CommitteeStaff,
    services: ServicesDep,
    wait: Annotated[float, Query(ge=0, le=60)] = DEFAULT_WAIT,
) -> dict[str, Any] | JSONAnswer:
    """End the still-``returned`` declarations of a campaign without ``review_closes_at`` as
    ``not_accepted``: 409 where the campaign has one (the review then closes by itself), 403 for
    another committee's staff."""
    campaign = await campaign_for(services, actor, campaign_id, action="close_review")
    if campaign.review_closes_at is not None:
        reason = (
            f"本次评审的审核截止时间为 {as_of(campaign.review_closes_at)}，届时由系统处理 / the "
            "review closes by itself at review_closes_at"
        )
        await Refusals(services).on_campaign(
            actor, campaign_id, action="close_review", reason=reason, status=409
        )
        raise HTTPException(status.HTTP_409_CONFLICT, reason)
    client = require_client(services)
    now = await services.clock()
    ids = await in_session(
        services.store, lambda s: declarations_in_state(s, campaign_id, "returned"), readonly=True
    )
    cmd = CloseReviewCommand(actor=actor, closed_at=now)
    change_id = close_review_id(campaign_id, cmd)
    run = CloseReviewRun(
        change_id=change_id, campaign_id=campaign_id, command=cmd, declaration_ids=ids
    )
    await start_close_review(client, services.settings.task_queue, run)
    answer: dict[str, Any] = {
        "campaign_id": campaign_id,
        "change_id": change_id,
        "declarations": len(ids),
        "closed_at": as_of(now),
        "progress": f"/campaigns/{campaign_id}/close-review/{change_id}",
    }
    done = await finished_within(client, close_review_workflow_id(campaign_id, change_id), wait)
    if done is None or not done.finished:
        accepted = {**answer, "finished": False, "done": done.done if done else 0}
        return JSONAnswer(accepted, status_code=status.HTTP_202_ACCEPTED)
    failed = [x.model_dump() for x in done.failed]
    return {**answer, "finished": True, "updated": done.updated, "failed": failed}


@router.get("/{campaign_id}/close-review/{change_id}")
async def close_review_progress(
    campaign_id: str, change_id: str, actor: ChangeReader, services: ServicesDep
) -> dict[str, Any]:
    """The closing's progress, as for a deadline change (a committee's own campaigns only)."""
    if actor.role == "committee":
        await campaign_for(services, actor, campaign_id, action="close_review_progress")
    found = await progress(
        require_client(services), close_review_workflow_id(campaign_id, change_id)
    )
    if found is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"评审工作 {campaign_id} 没有编号为 {change_id} 的结束评审 / unknown closing",
        )
    return {"campaign_id": campaign_id, **found.model_dump(mode="json")}
