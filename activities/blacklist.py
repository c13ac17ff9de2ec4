"""Recording the bars that follow a misconduct finding (docs/rules.md §2 end: 弄虚作假、营私舞弊)."""

from __future__ import annotations

from temporalio import activity

from activities.messages import BlacklistRequest
from activities.support import log, run_blocking
from domain.blacklist import applicant_bar, unit_bar
from store import registry
from store.db import Store


class BlacklistActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name="record_blacklist")
    async def record_blacklist(self, request: BlacklistRequest) -> None:
        """Bar the applicant (``domain.blacklist.applicant_bar``) and, when the unit is at fault,
        the unit (``unit_bar``); once per finding declaration: a retry adds nothing."""
        await run_blocking(self._record, request, declaration_id=request.declaration_id)

    def _record(self, request: BlacklistRequest) -> None:
        campaign = request.campaign
        entries = [
            applicant_bar(
                campaign,
                request.series or campaign.series,
                request.level,
                request.id_number,
                request.found_at,
                request.declaration_id,
                request.finding,
            )
        ]
        if request.unit_at_fault:
            bar = unit_bar(
                campaign, request.unit_id, request.found_at, request.declaration_id, request.finding
            )
            if bar is not None:
                entries.append(bar)
        with self._store.session() as session:
            added = [e.subject_kind for e in entries if registry.add_bar(session, e, campaign.id)]
        log.info("blacklist.recorded", added=added, unit_at_fault=request.unit_at_fault)
