"""Every refused attempt by an authenticated caller (403, 409) enters the audit trail
(docs/rules.md §8, §16), also on an ended declaration.

- A **running** declaration records it itself, in order with everything else: the API sends the
  ``record_refusal`` signal (409s from an update validator are already reported by
  :func:`gateway.send`).
- An **ended** declaration's workflow is closed, so the API appends the refused event to its
  chain directly (``seq`` = last + 1), under the same lock the workflow's writes take. Nobody else
  writes that chain any more; a lost race on the sequence number is retried once.
- A refusal that concerns no declaration (creating a campaign, a calendar, a batch of payments,
  a declaration that was refused before it existed) goes to a chain of its own: the campaign's
  (``campaign:<id>``) or, with no campaign either, the API's access chain (``api:access``). Those
  chains are hash-chained and verified like any declaration's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio.service import RPCError

from api.services import Services, in_session
from api.subjects import DeclarationFacts
from domain.models import Actor, AuditEventIn, RefusalRecord
from gateway import handle_for
from store.audit import append_events
from store.db import advisory_xact_lock
from store.errors import AuditConflict
from store.tables import AuditEvent, DeclarationRead

__all__ = ["ACCESS_CHAIN", "Refusals", "campaign_chain"]

log = structlog.get_logger()

ACCESS_CHAIN = "api:access"
MAX_REASON = 2000
#: Longest chain / campaign id the audit table holds.
MAX_ID = 100


def campaign_chain(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


def _append_refused(
    session: Session,
    *,
    chain: str,
    campaign_id: str,
    actor: Actor,
    action: str,
    reason: str,
    at: datetime,
    detail: dict[str, Any],
) -> int:
    advisory_xact_lock(session, f"audit:{chain}")
    last = session.exec(
        select(func.max(AuditEvent.seq)).where(AuditEvent.declaration_id == chain)
    ).one()
    row = session.get(DeclarationRead, chain)
    stage = row.state if row is not None else None
    seq = int(last or 0) + 1
    append_events(
        session,
        [
            AuditEventIn(
                declaration_id=chain,
                campaign_id=campaign_id,
                seq=seq,
                at=at,
                actor_id=actor.id,
                actor_role=actor.role,
                actor_org=actor.org,
                action=action,
                stage_before=stage,
                stage_after=stage,
                outcome="refused",
                opinion=reason,
                detail=detail,
            )
        ],
    )
    return seq


class Refusals:
    """Records refused attempts; one per request (see :func:`api.deps.get_refusals`)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def on_declaration(
        self,
        actor: Actor,
        facts: DeclarationFacts,
        *,
        action: str,
        reason: str,
        status: int,
        detail: dict[str, Any] | None = None,
        ended: bool = False,
    ) -> None:
        """A refusal on a declaration: signalled while it runs, appended once it has ended
        (``ended``: the caller already knows the workflow has closed)."""
        body = {"status": status, "via": "api", **(detail or {})}
        client = self._services.client
        if client is not None and not ended:
            handle = handle_for(client, facts.id)
            try:
                await handle.signal(
                    "record_refusal",
                    RefusalRecord(
                        actor=actor, action=action, reason=reason[:MAX_REASON], detail=body
                    ),
                )
                self._count(status, action)
                return
            except RPCError:
                desc = await handle.describe()
                if desc.close_time is None:
                    raise  # running, yet unreachable: never write its chain behind its back
        await self._direct(facts.id, facts.campaign_id, actor, action, reason, status, body)

    async def on_campaign(
        self,
        actor: Actor,
        campaign_id: str,
        *,
        action: str,
        reason: str,
        status: int,
        detail: dict[str, Any] | None = None,
    ) -> None:
        body = {"status": status, "via": "api", **(detail or {})}
        chain = campaign_chain(campaign_id)
        if len(chain) > MAX_ID:  # not a campaign id this store could hold
            body["campaign_id"] = campaign_id[:MAX_ID]
            await self._direct(ACCESS_CHAIN, "", actor, action, reason, status, body)
            return
        await self._direct(chain, campaign_id, actor, action, reason, status, body)

    async def on_access(
        self,
        actor: Actor,
        *,
        action: str,
        reason: str,
        status: int,
        detail: dict[str, Any] | None = None,
    ) -> None:
        body = {"status": status, "via": "api", **(detail or {})}
        await self._direct(ACCESS_CHAIN, "", actor, action, reason, status, body)

    async def _direct(
        self,
        chain: str,
        campaign_id: str,
        actor: Actor,
        action: str,
        reason: str,
        status: int,
        detail: dict[str, Any],
    ) -> None:
        at = await self._services.clock()
        for attempt in (1, 2):
            try:
                seq = await in_session(
                    self._services.store,
                    lambda s: _append_refused(
                        s,
                        chain=chain,
                        campaign_id=campaign_id,
                        actor=actor,
                        action=action,
                        reason=reason[:MAX_REASON],
                        at=at,
                        detail=detail,
                    ),
                )
            except (IntegrityError, AuditConflict):
                if attempt == 2:
                    raise
                continue
            log.info("refusal.audited", chain=chain, seq=seq, action=action, status=status)
            self._count(status, action)
            return

    def _count(self, status: int, action: str) -> None:
        self._services.metrics.refusals.labels(str(status), action).inc()
