"""Reminders in the console (docs/rules.md §3): the committee's delivery view of a campaign
(sent, being retried, failed, missing addresses, and sending again what failed), and, in
development only, the mails the local sink received (``/console/dev/mail``, where
``REVIEWCHAIN_DEV_MAILBOX`` is set, as ``python3 dev.py run`` sets it). Each person's own
reminders are shown beside their inbox (``api.console.reviewer``).

Reads and the resend go through the JSON routes' own functions (``api.routes.reminders``), behind
their role gates, so the console shows what the API answers the same caller (applicants'
addresses hidden from the committee under blind review).
"""

from __future__ import annotations

import asyncio
import mailbox
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from starlette.responses import Response

from api.console.auth import ConsoleAllow
from api.console.forms import PostedForm
from api.console.render import console_router, render
from api.deps import ServicesDep
from api.policy import ALL_ROLES
from api.routes import campaigns, reminders
from api.services import Services
from domain.models import Actor, Campaign
from domain.reminders import DELIVERY_STATUSES

__all__ = ["router"]

router = console_router()

Overseer = Annotated[
    Actor, Depends(ConsoleAllow.like(reminders.Overseer, action="campaign_deliveries"))
]
Resender = Annotated[
    Actor, Depends(ConsoleAllow.like(reminders.Resender, action="retry_deliveries"))
]
Developer = Annotated[Actor, Depends(ConsoleAllow(*ALL_ROLES, action="dev_mail"))]


async def _page(
    request: Request, actor: Actor, services: Services, campaign_id: str, **context: Any
) -> Response:
    campaign = Campaign.model_validate(
        await campaigns.read_campaign(campaign_id, actor, services)
    )  # 404 when unknown
    figures = await reminders.campaign_deliveries(campaign_id, actor, services)
    return render(
        request,
        "reminders.html",
        actor,
        campaign=campaign,
        figures=figures,
        statuses=DELIVERY_STATUSES,
        now=await services.clock(),
        **context,
    )


@router.get("/campaigns/{campaign_id}/reminders")
async def campaign_reminders(
    request: Request, campaign_id: str, actor: Overseer, services: ServicesDep
) -> Response:
    """How the campaign's notifications fared: per channel and status, what is still to fall
    due, and each one that failed, is being retried or has no address."""
    return await _page(request, actor, services, campaign_id)


@router.post("/campaigns/{campaign_id}/reminders/retry")
async def retry(
    request: Request, campaign_id: str, form: PostedForm, actor: Resender, services: ServicesDep
) -> Response:
    """Send again what failed or had no address (``POST /campaigns/{id}/deliveries/retry``)."""
    counts = await reminders.retry_deliveries(campaign_id, actor, services)
    return await _page(request, actor, services, campaign_id, resent=counts)


def read_maildir(path: Path, *, limit: int = 200) -> list[dict[str, Any]]:
    """The newest ``limit`` messages of a Maildir, newest first: headers and the text body."""
    if not path.is_dir():
        return []
    box = mailbox.Maildir(path, create=False)
    # A Maildir key begins with the instant the message was added (``1764230400.M…``).
    keys = sorted(box.keys(), key=lambda k: (float(k.split(".", 1)[0] or 0), k), reverse=True)
    out = []
    for key in keys[:limit]:
        raw = box.get_bytes(key)
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(preferencelist=("plain",))
        out.append(
            {
                "key": key,
                "from": str(message["From"] or ""),
                "to": str(message["To"] or ""),
                "subject": str(message["Subject"] or ""),
                "date": str(message["Date"] or ""),
                "message_id": str(message["Message-ID"] or ""),
                "body": part.get_content() if part is not None else "",
            }
        )
    return out


@router.get("/dev/mail")
async def dev_mail(request: Request, actor: Developer, services: ServicesDep) -> Response:
    """Development only: the newest mails the local SMTP sink received."""
    folder = services.settings.dev_mailbox
    if not folder:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有开发邮箱 / no development mailbox")
    mails = await asyncio.to_thread(read_maildir, Path(folder))
    return render(request, "dev_mail.html", actor, mails=mails, folder=folder)
