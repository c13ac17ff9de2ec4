"""Opening and closing publicity periods (公示, docs/rules.md §2.2, §2.9, §7)."""

from __future__ import annotations

from temporalio import activity

from activities.messages import (
    PublicityClosed,
    PublicityCloseRequest,
    PublicityOpened,
    PublicityRequest,
)
from activities.support import log, run_blocking
from store import publicity
from store.calendar import work_calendar
from store.db import Store
from store.errors import InvalidRequest


class PublicityActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name="open_publicity")
    async def open_publicity(self, request: PublicityRequest) -> PublicityOpened:
        """The publicity's end by ``domain.periods.publicity_end`` on the store's calendar (loaded
        official years, else packaged, else provisional), recorded once per (declaration, kind,
        start); the explanation names the rule, inputs and calendar version. Re-opening with the
        same start returns the recorded end, recomputed only if it was provisional."""
        return await run_blocking(self._open, request, declaration_id=request.declaration_id)

    def _open(self, request: PublicityRequest) -> PublicityOpened:
        with self._store.session() as session:
            try:
                deadline = publicity.open_(
                    session,
                    declaration_id=request.declaration_id,
                    kind=request.kind,
                    start=request.start,
                    campaign=request.campaign,
                    cal=work_calendar(session),
                )
            except ValueError as err:
                raise InvalidRequest(str(err)) from err
        log.info(
            "publicity.opened",
            kind=request.kind,
            ends_at=deadline.at.isoformat(),
            provisional=deadline.explanation.provisional,
        )
        return PublicityOpened(kind=request.kind, deadline=deadline)

    @activity.defn(name="close_publicity")
    async def close_publicity(self, request: PublicityCloseRequest) -> PublicityClosed:
        """Close the latest publicity of this kind (once); ``InvalidRequest`` if none was
        opened. ``objections`` counts the objections lodged during it."""
        return await run_blocking(self._close, request, declaration_id=request.declaration_id)

    def _close(self, request: PublicityCloseRequest) -> PublicityClosed:
        with self._store.session() as session:
            closed = publicity.close(
                session,
                declaration_id=request.declaration_id,
                kind=request.kind,
                closed_at=request.closed_at,
                outcome=request.outcome,
            )
        log.info("publicity.closed", kind=request.kind, outcome=request.outcome)
        return PublicityClosed(
            kind=closed.kind, closed_at=closed.closed_at, objections=closed.objections
        )
