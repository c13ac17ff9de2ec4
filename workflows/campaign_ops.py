"""Durable fan-outs of a campaign-wide change to many declarations.

``campaign-deadline-change`` (延期, docs/rules.md §3), ``campaign-close-review`` (the committee
closes the review, §3) and ``calendar-recompute`` (an official calendar year loaded, §7) each
send one update to each declaration they were given, through the ``send_campaign_change``
activity:

* in batches of ``batch_size`` at once, recording every answer in ``progress`` (a query);
* continuing as new every ``continue_as_new_every`` declarations (or when Temporal suggests it),
  carrying the progress and the declarations still to address, so each run's history stays a few
  hundred events whatever the campaign's size;
* surviving worker restarts: an activity lost with its worker is retried, and the declaration
  answers a change it already has as a no-op, so none is missed and none is changed twice.

A declaration that refuses, ended meanwhile, or is unknown is reported in ``progress``; the others
are not held up by it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.campaign_ops import CampaignOpsActivities
    from activities.retry import remote
    from domain.campaign_ops import (
        MAX_REASON,
        CalendarRecomputeRun,
        CloseReviewRun,
        DeadlineChangeRun,
        FanOutItem,
        FanOutOutcome,
        FanOutProgress,
    )

DEADLINE_CHANGE_TYPE = "campaign-deadline-change"
CALENDAR_RECOMPUTE_TYPE = "calendar-recompute"
CLOSE_REVIEW_TYPE = "campaign-close-review"


def deadline_change_workflow_id(campaign_id: str, change_id: str) -> str:
    return f"deadlines-{campaign_id}-{change_id}"


def calendar_recompute_workflow_id(year: int, change_id: str) -> str:
    return f"calendar-{year}-{change_id}"


def close_review_workflow_id(campaign_id: str, change_id: str) -> str:
    return f"close-review-{campaign_id}-{change_id}"


async def _send(item: FanOutItem) -> FanOutOutcome:
    try:
        return await workflow.execute_activity_method(
            CampaignOpsActivities.send_campaign_change,
            item,
            **remote(CampaignOpsActivities.send_campaign_change),
        )
    except ActivityError as err:  # retries exhausted, or a non-retryable refusal
        cause = err.cause if err.cause is not None else err
        return FanOutOutcome(
            declaration_id=item.declaration_id,
            outcome="failed",
            reason=str(cause)[:MAX_REASON],
        )


async def fan_out(
    progress: FanOutProgress,
    declaration_ids: list[str],
    item_for: Callable[[str], FanOutItem],
    *,
    batch_size: int,
    budget: int,
) -> list[str]:
    """Address ``declaration_ids`` in batches, recording each answer as it comes; stop once
    ``budget`` declarations were addressed in this run (or Temporal suggests continuing as new)
    and return the ones still to address."""
    addressed = 0
    while addressed < len(declaration_ids):
        if addressed >= budget or workflow.info().is_continue_as_new_suggested():
            break
        batch = declaration_ids[addressed : addressed + batch_size]

        async def one(declaration_id: str) -> None:
            progress.record(await _send(item_for(declaration_id)))

        await asyncio.gather(*(one(d) for d in batch))
        addressed += len(batch)
    return declaration_ids[addressed:]


Run = DeadlineChangeRun | CalendarRecomputeRun | CloseReviewRun


def _progress(run: Run, kind: str) -> FanOutProgress:
    if run.progress is not None:
        return run.progress.model_copy(update={"runs": run.progress.runs + 1}, deep=True)
    return FanOutProgress.model_validate(
        {"change_id": run.change_id, "kind": kind, "total": len(run.declaration_ids)}
    )


async def drive(
    progress: FanOutProgress,
    run: Run,
    item: Callable[[str], FanOutItem],
) -> FanOutProgress:
    """Send ``item(id)`` to each declaration of ``run`` in batches; continue as new, with the
    progress carried over, once a run has sent its budget."""
    remaining = await fan_out(
        progress, run.declaration_ids, item,
        batch_size=run.batch_size, budget=run.continue_as_new_every,
    )  # fmt: skip
    if remaining:
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            run.model_copy(update={"declaration_ids": remaining, "progress": progress})
        )
    progress.finished = True
    return progress


@workflow.defn(name=DEADLINE_CHANGE_TYPE)
class CampaignDeadlineChangeWorkflow:
    """One campaign deadline change (延期) sent to every declaration that was open when it was
    made; id ``deadlines-<campaign>-<change id>``."""

    @workflow.init
    def __init__(self, run: DeadlineChangeRun) -> None:
        self._progress = _progress(run, "deadlines")

    @workflow.run
    async def run(self, run: DeadlineChangeRun) -> FanOutProgress:
        def item(declaration_id: str) -> FanOutItem:
            return FanOutItem(
                change_id=run.change_id, declaration_id=declaration_id, deadline_change=run.command
            )

        return await drive(self._progress, run, item)

    @workflow.query(name="progress")
    def progress(self) -> FanOutProgress:
        return self._progress


@workflow.defn(name=CALENDAR_RECOMPUTE_TYPE)
class CalendarRecomputeWorkflow:
    """One official calendar year sent to every open declaration holding a provisional deadline
    it may move; id ``calendar-<year>-<change id>``."""

    @workflow.init
    def __init__(self, run: CalendarRecomputeRun) -> None:
        self._progress = _progress(run, "calendar")

    @workflow.run
    async def run(self, run: CalendarRecomputeRun) -> FanOutProgress:
        def item(declaration_id: str) -> FanOutItem:
            return FanOutItem(
                change_id=run.change_id, declaration_id=declaration_id, calendar_change=run.command
            )

        return await drive(self._progress, run, item)

    @workflow.query(name="progress")
    def progress(self) -> FanOutProgress:
        return self._progress


@workflow.defn(name=CLOSE_REVIEW_TYPE)
class CloseReviewWorkflow:
    """The committee closes a campaign's review (docs/rules.md §3): sent to every declaration
    waiting in ``returned``; id ``close-review-<campaign>-<change id>``."""

    @workflow.init
    def __init__(self, run: CloseReviewRun) -> None:
        self._progress = _progress(run, "close_review")

    @workflow.run
    async def run(self, run: CloseReviewRun) -> FanOutProgress:
        def item(declaration_id: str) -> FanOutItem:
            return FanOutItem(
                change_id=run.change_id, declaration_id=declaration_id, close_review=run.command
            )

        return await drive(self._progress, run, item)

    @workflow.query(name="progress")
    def progress(self) -> FanOutProgress:
        return self._progress
