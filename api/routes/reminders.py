"""Reminders (提醒) and their delivery (docs/rules.md §3: 24 hours before each deadline, a
notification goes to whoever must act):

- ``GET /reminders``: the caller's own notifications (an applicant's about the declarations
  they filed, a reviewer's addressed to their organisation, the committee's and finance's to
  their role), newest first, each with how it fared on each channel;
- ``GET /campaigns/{id}/deliveries`` (the campaign's committee, admins, auditors): its deliveries per
  channel and status, what is still to fall due, and every delivery that failed, is being
  retried or has no address. Under blind review the committee does not see applicants'
  addresses;
- ``POST /campaigns/{id}/deliveries/retry`` (the campaign's committee, admins): send again what failed or had
  no address (addresses looked up again), and wake the sender;
- ``GET /notification-addresses`` and ``PUT /notification-addresses/{org_id}`` (admin): where
  an organisation's reviewers are reached (``committee`` / ``finance`` for notifications that
  name only the role). ``{"email": null}`` removes one.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Allow, ServicesDep
from api.policy import ALL_ROLES, sees_masked
from api.routes.campaigns import campaign_for
from api.services import in_session
from domain.models import WHITESPACE, Actor
from gateway.outbox import wake_outbox
from store import delivery
from store.queries.declarations import UNSCOPED_INBOX, filed_by

__all__ = ["router"]

log = structlog.get_logger("api")

router = APIRouter(tags=["reminders"])

Anyone = Annotated[Actor, Depends(Allow(*ALL_ROLES))]
Overseer = Annotated[Actor, Depends(Allow("committee", "admin", "auditor"))]
Resender = Annotated[Actor, Depends(Allow("committee", "admin"))]
Admin = Annotated[Actor, Depends(Allow("admin"))]

#: What the committee sees instead of an applicant's address under blind review.
MASKED_ADDRESS = "（盲评，已隐藏 / hidden under blind review）"
EMAIL_PATTERN = rf"^[^@{WHITESPACE}]+@[^@{WHITESPACE}]+\.[^@{WHITESPACE}]+$"


def reminders_query(actor: Actor, limit: int) -> Any:
    """The store query for ``actor``'s own reminders."""

    def run(session: Any) -> list[dict[str, Any]]:
        if actor.role == "applicant":
            return delivery.reminders_of(
                session, role="applicant", org=None, declarations=filed_by(actor.id), limit=limit
            )
        org = None if actor.role in UNSCOPED_INBOX else actor.org
        return delivery.reminders_of(session, role=actor.role, org=org, limit=limit)

    return run


@router.get("/reminders")
async def my_reminders(
    actor: Anyone,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """The caller's reminders and notifications, newest first."""
    items = await in_session(services.store, reminders_query(actor, limit), readonly=True)
    return {"items": items}


@router.get("/campaigns/{campaign_id}/deliveries")
async def campaign_deliveries(
    campaign_id: str, actor: Overseer, services: ServicesDep
) -> dict[str, Any]:
    """Sent, failed, retrying and missing addresses of a campaign's notifications: for the
    committee of that campaign only (403, audited, for another committee), auditors and admins."""
    campaign = await campaign_for(services, actor, campaign_id, action="campaign_deliveries")
    now = await services.clock()
    figures = await in_session(
        services.store,
        lambda s: delivery.campaign_deliveries(s, campaign_id, now=now),
        readonly=True,
    )
    if sees_masked(actor, campaign.blind_review):
        for problem in figures["problems"]:
            if problem["recipient"]["role"] == "applicant" and problem["channel"] == "email":
                problem["address"] = MASKED_ADDRESS if problem["address"] else ""
    return figures


@router.post("/campaigns/{campaign_id}/deliveries/retry")
async def retry_deliveries(
    campaign_id: str, actor: Resender, services: ServicesDep
) -> dict[str, int]:
    """Send again every delivery of the campaign that was given up (``dead``) or had no
    address, with the addresses as they are now; ``no_address`` counts those still without.
    The campaign's own committee or an admin (403, audited, for another committee)."""
    await campaign_for(services, actor, campaign_id, action="retry_deliveries")
    now = await services.clock()
    counts = await in_session(
        services.store,
        lambda s: delivery.requeue(
            s, campaign_id=campaign_id, now=now, statuses=["dead", "no_address"]
        ),
    )
    log.info("deliveries.requeued", campaign_id=campaign_id, actor=actor.id, **counts)
    if counts["queued"] and services.client is not None:
        # The worker's own poll finds them too; waking the sender only saves the wait.
        with contextlib.suppress(Exception):
            await wake_outbox(services.client, services.settings, now)
    return counts


class AddressBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(max_length=254, pattern=EMAIL_PATTERN)


@router.get("/notification-addresses")
async def addresses(actor: Admin, services: ServicesDep) -> dict[str, str]:
    """Every organisation's (and role desk's) address, by id."""
    return await in_session(services.store, delivery.org_emails, readonly=True)


@router.put("/notification-addresses/{org_id}", status_code=status.HTTP_200_OK)
async def set_address(
    org_id: Annotated[str, Path(min_length=1, max_length=100)],
    body: AddressBody,
    actor: Admin,
    services: ServicesDep,
) -> dict[str, str | None]:
    """Where ``org_id``'s reviewers are reached; ``null`` removes it."""
    now = await services.clock()
    await in_session(
        services.store, lambda s: delivery.set_org_email(s, org_id, body.email, at=now)
    )
    log.info("notification_address.set", org_id=org_id, actor=actor.id, removed=body.email is None)
    return {"org_id": org_id, "email": body.email}
