"""``outbox-delivery``: the durable sender of the notification outbox (docs/rules.md §3: 24 hours
before each deadline, a notification goes to whoever must act).

One per task queue (``outbox-delivery-<task queue>``), started and woken by the worker
(``gateway.outbox.OutboxWaker``, signal ``wake``). It follows Temporal's clock, not the wall
clock: it runs ``deliver_outbox`` with ``workflow.now()``, which sends what is due at that
instant, then sleeps on a timer until the next instant something falls due (a reminder, a retry
after a failure, a claim whose sender went silent), or until a ``wake`` names an earlier one. So
a reminder due 24 hours before a deadline goes out when workflow time reaches it, on the
time-skipping test server as in production. A full batch runs the next ones at once, several
side by side while the backlog lasts. Every few
hundred batches (or when Temporal suggests it) it continues as new, carrying its totals and the
instant it was to wake at. It never ends by itself.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.retry import REMOTE_OPTIONS
    from domain.reminders import (
        DeliveryRequest,
        DeliveryResult,
        OutboxDeliveryRun,
        OutboxProgress,
        OutboxWake,
    )

__all__ = ["OutboxDeliveryWorkflow"]

#: After a batch that failed for good (the store away for half an hour), try again after this.
PAUSE_AFTER_FAILURE = timedelta(minutes=1)
#: Continue as new after this many batches, or once the history holds this many events.
BATCHES_PER_RUN = 300
HISTORY_EVENT_BUDGET = 4000


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


@workflow.defn(name="outbox-delivery")
class OutboxDeliveryWorkflow:
    @workflow.init
    def __init__(self, run: OutboxDeliveryRun) -> None:
        self._run = run
        self._totals = run.totals.model_copy(deep=True)
        self._wake_at = run.wake_at
        self._nudged = False
        self._last_batch_at: datetime | None = None

    @workflow.signal(name="wake")
    def wake(self, wake: OutboxWake) -> None:
        """Something falls due at ``wake.due``: wake then at the latest."""
        if self._wake_at is None or wake.due < self._wake_at:
            self._wake_at = wake.due
            self._nudged = True

    @workflow.query(name="progress")
    def progress(self) -> OutboxProgress:
        return OutboxProgress(
            wake_at=self._wake_at,
            last_batch_at=self._last_batch_at,
            totals=self._totals,
            runs=self._run.runs,
        )

    @workflow.run
    async def run(self, run: OutboxDeliveryRun) -> None:
        batches, backlog = 0, False
        while True:
            await self._sleep()
            self._wake_at = None  # consumed: wakes signalled during the batch set it again
            # With a backlog, several batches at once: each claims its own deliveries, so one
            # sends while the next is read and composed.
            width = run.parallel_batches if backlog else 1
            results = await asyncio.gather(*(self._deliver() for _ in range(width)))
            batches += width
            backlog = False
            for result in results:
                if result is None:
                    self._wake_at = _earlier(self._wake_at, workflow.now() + PAUSE_AFTER_FAILURE)
                    continue
                self._totals.add(result)
                backlog = backlog or result.more
                due = workflow.now() if result.more else result.next_due
                self._wake_at = _earlier(self._wake_at, due)
            info = workflow.info()
            if (
                batches >= BATCHES_PER_RUN
                or info.get_current_history_length() >= HISTORY_EVENT_BUDGET
                or info.is_continue_as_new_suggested()
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    run.model_copy(
                        update={
                            "wake_at": self._wake_at,
                            "totals": self._totals,
                            "runs": run.runs + 1,
                        }
                    )
                )

    async def _deliver(self) -> DeliveryResult | None:
        now = workflow.now()
        self._last_batch_at = now
        request = DeliveryRequest(
            now=now, batch_size=self._run.batch_size, lease_seconds=self._run.lease_seconds
        )
        try:
            result: DeliveryResult = await workflow.execute_activity(
                "deliver_outbox",
                request,
                **REMOTE_OPTIONS["deliver_outbox"],
                result_type=DeliveryResult,
            )
        except ActivityError as err:
            workflow.logger.warning("outbox batch failed: %s", str(err.cause or err)[:500])
            return None
        return result

    async def _sleep(self) -> None:
        """Until ``_wake_at`` (a timer), or until a ``wake`` brings it forward; with nothing
        due, until a ``wake`` comes."""
        while True:
            target = self._wake_at
            now = workflow.now()
            if target is not None and target <= now:
                return
            self._nudged = False
            timeout = None if target is None else target - now
            try:
                await workflow.wait_condition(lambda: self._nudged, timeout=timeout)
            except TimeoutError:
                return
