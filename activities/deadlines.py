"""Computing deadlines once, in an activity, so that the result enters the workflow's history and
a later calendar update never changes a replay (docs/rules.md §3, §7, §10.1, §10.2)."""

from __future__ import annotations

from temporalio import activity

from activities.messages import DeadlineRequest
from activities.support import run_blocking
from domain.calendar import BEIJING
from domain.models import AtRiskTable, ComputedDeadline, DeadlineExplanation, as_of
from domain.periods import at_risk_from, correction_deadline, publicity_end
from store.calendar import work_calendar
from store.db import Store
from store.errors import InvalidRequest


def not_at_risk(request: DeadlineRequest) -> ComputedDeadline:
    """What ``at_risk_from`` answers when nothing is needed any more: the declaration deadline
    itself, i.e. not at risk before it."""
    assert request.until is not None
    return ComputedDeadline(
        at=request.until.astimezone(BEIJING),
        explanation=DeadlineExplanation(
            rule="at_risk",
            source="§10.2 time held per actor",
            inputs={
                "deadline": as_of(request.until),
                "working_days_needed": str(request.working_days_needed),
            },
            text=(
                "链条在截止前无需更多工作日，截止前不会处于风险状态 / no working days are needed "
                "before the deadline: not at risk before it"
            ),
        ),
    )


class DeadlineActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name="compute_deadline")
    async def compute_deadline(self, request: DeadlineRequest) -> ComputedDeadline:
        """``correction``: ``domain.periods.correction_deadline(start)``; ``unit_publicity`` /
        ``result_publicity``: ``publicity_end``; ``at_risk_from``: ``at_risk_from(until,
        working_days_needed)`` (``until`` required, else ``InvalidRequest``); where that is None
        (nothing needed), the answer is ``until`` itself: not at risk before the deadline."""
        return await run_blocking(self._compute, request, declaration_id=request.declaration_id)

    @activity.defn(name="compute_at_risk_table")
    async def compute_at_risk_table(self, request: DeadlineRequest) -> AtRiskTable:
        """``at_risk_from(until, n)`` for every n from 1 to ``working_days_needed``: one call per
        declaration deadline instead of one per transition."""
        return await run_blocking(self._table, request, declaration_id=request.declaration_id)

    def _table(self, request: DeadlineRequest) -> AtRiskTable:
        if request.until is None:
            raise InvalidRequest("an at-risk table needs the deadline it is measured against")
        with self._store.session(readonly=True) as session:
            cal = work_calendar(session)
        instants = {}
        for needed in range(1, request.working_days_needed + 1):
            computed = at_risk_from(request.until, needed, cal)
            if computed is not None:
                instants[needed] = computed
        return AtRiskTable(until=request.until, instants=instants)

    def _compute(self, request: DeadlineRequest) -> ComputedDeadline:
        with self._store.session(readonly=True) as session:
            cal = work_calendar(session)
        try:
            if request.kind == "correction":
                return correction_deadline(request.start, request.campaign, cal)
            if request.kind in ("unit_publicity", "result_publicity"):
                return publicity_end(request.kind, request.start, request.campaign, cal)
            if request.until is None:
                raise InvalidRequest("at_risk_from needs the deadline it is measured against")
            computed = at_risk_from(request.until, request.working_days_needed, cal)
        except ValueError as err:
            raise InvalidRequest(str(err)) from err
        return computed if computed is not None else not_at_risk(request)
