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
  chains are hash-chained and verified like any declaration's. A refusal about an id that does
  not exist is not recorded at all (the caller gets 404: :class:`api.deps.Allow`), so no chain
  is ever named after what a caller made up.

**Repeated refusals** of one caller (id, role, organisation) on one target (chain), for the same
action and status, within ``refusal_window_seconds`` (60 s) are audited once with a count: the
first is recorded at once; the ones that follow within the window are only counted, and when
the window closes one more event records how many there were (``detail.repeated``, with the
first and last instants: ``detail.repeated_from`` / ``repeated_until``). A caller hammering a
refused endpoint thus adds at most two events a minute per target, where each attempt used to
be a durable write (and, on a running declaration, a signal in its history). The windows live
in the API process; on shutdown the open ones are written out. A process that dies loses the
count of at most one window per caller and target, never the first refusal.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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

__all__ = ["ACCESS_CHAIN", "RefusalWindows", "Refusals", "campaign_chain"]

log = structlog.get_logger()

ACCESS_CHAIN = "api:access"
MAX_REASON = 2000
#: Longest chain / campaign id the audit table holds.
MAX_ID = 100
#: Open windows kept per API process; beyond that the oldest is written out and closed early.
MAX_WINDOWS = 10_000


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


#: Writes one refused event: ``(reason, at, extra detail)``.
Writer = Callable[[str, dict[str, Any]], Awaitable[None]]
WindowKey = tuple[str, str, str, str, str, int]


@dataclass
class _Window:
    opened: float
    reason: str
    write: Writer
    repeated: int = 0
    first: datetime | None = None
    last: datetime | None = None
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class RefusalWindows:
    """The open windows of repeated refusals, per API process (on ``Services``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._open: dict[WindowKey, _Window] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def counted(self, key: WindowKey, at: datetime) -> bool:
        """True when ``key`` already has an open window: the refusal is counted there."""
        window = self._open.get(key)
        if window is None or time.monotonic() - window.opened >= self.seconds:
            return False
        window.repeated += 1
        window.first = window.first or at
        window.last = at
        return True

    def open(self, key: WindowKey, reason: str, write: Writer) -> None:
        """Start ``key``'s window after its first refusal was written."""
        if self.seconds <= 0:
            return
        previous = self._open.pop(key, None)
        if previous is not None:
            self._close(previous)
        while len(self._open) >= MAX_WINDOWS:
            self._close(self._open.pop(next(iter(self._open))))
        window = _Window(opened=time.monotonic(), reason=reason, write=write)
        self._open[key] = window
        loop = asyncio.get_running_loop()
        window.timer = loop.call_later(self.seconds, self._expire, key, window)

    def _expire(self, key: WindowKey, window: _Window) -> None:
        if self._open.get(key) is window:
            del self._open[key]
            self._close(window)

    def _close(self, window: _Window) -> None:
        if window.timer is not None:
            window.timer.cancel()
        if not window.repeated:
            return
        task = asyncio.get_running_loop().create_task(self._summary(window))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    @staticmethod
    async def _summary(window: _Window) -> None:
        assert window.first is not None and window.last is not None
        reason = (
            f"{window.reason} (repeated {window.repeated} more times / 又重复 {window.repeated} 次)"
        )
        extra = {
            "repeated": window.repeated,
            "repeated_from": window.first.isoformat(),
            "repeated_until": window.last.isoformat(),
        }
        try:
            await window.write(reason, extra)
        except Exception as err:  # a summary must never take a request or the loop down
            log.error("refusal.summary_failed", error=str(err)[:300], repeated=window.repeated)

    async def flush(self) -> None:
        """Write out every open window (shutdown), and wait for summaries under way."""
        windows, self._open = list(self._open.values()), {}
        for window in windows:
            self._close(window)
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


class Refusals:
    """Records refused attempts; one per request (see :func:`api.deps.get_refusals`)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def _once(
        self, actor: Actor, chain: str, action: str, status: int, reason: str, write: Writer
    ) -> None:
        """Write a refusal unless the same one is in its window (then count it)."""
        windows = self._services.refusal_windows
        key: WindowKey = (actor.id, actor.role, actor.org, chain, action, status)
        self._count(status, action)
        if windows.counted(key, await self._services.clock()):
            log.info("refusal.repeated", chain=chain, action=action, status=status)
            return
        await write(reason, {})
        windows.open(key, reason, write)

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
        code: str = "",
    ) -> None:
        """A refusal on a declaration: signalled while it runs, appended once it has ended
        (``ended``: the caller already knows the workflow has closed); ``code`` is the
        refusal's stable code, its audit reason."""

        async def write(text: str, extra: dict[str, Any]) -> None:
            body = {"status": status, "via": "api", **(detail or {}), **extra}
            await self._on_declaration(actor, facts, action, text, status, body, ended, code)

        await self._once(actor, facts.id, action, status, reason, write)

    async def _on_declaration(
        self,
        actor: Actor,
        facts: DeclarationFacts,
        action: str,
        reason: str,
        status: int,
        body: dict[str, Any],
        ended: bool,
        code: str = "",
    ) -> None:
        client = self._services.client
        if client is not None and not ended:
            handle = handle_for(client, facts.id)
            try:
                await handle.signal(
                    "record_refusal",
                    RefusalRecord(
                        actor=actor,
                        action=action,
                        reason=reason[:MAX_REASON],
                        code=code,
                        detail=body,
                    ),
                )
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
        """A refusal on a campaign the store knows (an unknown one is 404, not audited)."""
        chain, owner = campaign_chain(campaign_id), campaign_id
        base = {"status": status, "via": "api", **(detail or {})}
        if len(chain) > MAX_ID:  # not a campaign id this store could hold
            base["campaign_id"] = campaign_id[:MAX_ID]
            chain, owner = ACCESS_CHAIN, ""

        async def write(text: str, extra: dict[str, Any]) -> None:
            await self._direct(chain, owner, actor, action, text, status, {**base, **extra})

        await self._once(actor, chain, action, status, reason, write)

    async def on_access(
        self,
        actor: Actor,
        *,
        action: str,
        reason: str,
        status: int,
        detail: dict[str, Any] | None = None,
    ) -> None:
        base = {"status": status, "via": "api", **(detail or {})}

        async def write(text: str, extra: dict[str, Any]) -> None:
            await self._direct(ACCESS_CHAIN, "", actor, action, text, status, {**base, **extra})

        await self._once(actor, ACCESS_CHAIN, action, status, reason, write)

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
            return

    def _count(self, status: int, action: str) -> None:
        self._services.metrics.refusals.labels(str(status), action).inc()
