"""The skeleton: a workflow with the declaration workflow's event shape and nothing else.

It is the baseline the benchmarks hold the real chain against. Driven by a :class:`Plan` (a list
of steps, each what one trigger makes the workflow do, in order), it

* accepts every update by its real name (a dynamic handler, the same command payloads) behind a
  validator that only checks the update is the one the plan expects next;
* runs, per step, the same local and remote activities (no-op ones, by the same names), search
  attribute upserts, timer cancellations and (re-)armed timers as the real workflow did, in the
  same order, then answers;
* continues as new under the same rule as the real workflow (the history passes
  ``HISTORY_EVENT_BUDGET`` events, or Temporal suggests it).

There is no chain logic, no store and no payload beyond the commands themselves.
:func:`plan_from_history` reads a plan off a real declaration's history, so the skeleton's
events match the real ones by construction; :func:`shape_difference` checks that they do.
:func:`one_local_activity_plan` is the minimal shape: an update whose handler runs one local
activity, re-arms a timer and answers.

``python bench/skeleton.py --address 127.0.0.1:7233 --task-queue q`` runs a worker for it (the
benchmarks start it in its own process, tuned like the production worker).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from temporalio import activity, workflow
from temporalio.common import RawValue, RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.chain import HISTORY_EVENT_BUDGET

WORKFLOW_TYPE = "bench-skeleton"
NOOP = "skeleton-noop"
_STATE = SearchAttributeKey.for_keyword("ReviewState")
_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


class Action(BaseModel):
    #: ``barrier``: the real workflow's next workflow task starts here (remote activities
    #: scheduled before it are awaited at it, as the real workflow's main loop runs meanwhile).
    kind: Literal["local", "remote", "upsert", "timer_start", "timer_cancel", "barrier"]
    name: str = ""
    seconds: float = 0.0


class Step(BaseModel):
    #: ``start``, ``timer`` or ``update:<name>``.
    trigger: str
    actions: list[Action] = Field(default_factory=list)


class Plan(BaseModel):
    steps: list[Step]
    #: After the last step, go on at this index (a repeated cycle of decisions), or stop.
    cycle_from: int | None = None

    def trigger_counts(self) -> Counter[str]:
        return Counter(s.trigger for s in self.steps)


class SkeletonStart(BaseModel):
    key: str
    plan: Plan
    cursor: int = 0
    continued: bool = False
    timer_seconds: float | None = None


class Noop(BaseModel):
    key: str
    name: str


# --------------------------------------------------------------------------- the workflow


@workflow.defn(name=WORKFLOW_TYPE)
class SkeletonWorkflow:
    @workflow.init
    def __init__(self, start: SkeletonStart) -> None:
        self._start = start
        self._plan = start.plan
        self._cursor = start.cursor
        self._timer: asyncio.Task[None] | None = None
        self._timer_seconds: float | None = None
        self._fired = False
        self._wake = False

    @workflow.run
    async def run(self, start: SkeletonStart) -> None:
        if start.continued:
            if start.timer_seconds:
                self._arm(start.timer_seconds)
        else:
            await self._perform("start")
        while True:  # like the real workflow, it stays open once its plan is done
            info = workflow.info()
            if (
                info.is_continue_as_new_suggested()
                or info.get_current_history_length() > HISTORY_EVENT_BUDGET
            ):
                self._cancel()
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    start.model_copy(
                        update={"cursor": self._cursor, "continued": True,
                                "timer_seconds": self._timer_seconds}
                    )
                )  # fmt: skip
            self._wake = False
            await workflow.wait_condition(lambda: self._wake or self._fired)
            if self._fired:
                self._fired = False
                self._timer = None
                await self._perform("timer")

    @workflow.query(name="position")
    def position(self) -> int:
        return self._cursor

    def _expects(self, trigger: str) -> bool:
        cursor = self._cursor
        if trigger.startswith("update:") and self._starting():
            cursor += 1  # an update delivered with the first task waits for the start step
        return cursor < len(self._plan.steps) and self._plan.steps[cursor].trigger == trigger

    def _starting(self) -> bool:
        return (
            self._cursor == 0 and bool(self._plan.steps) and self._plan.steps[0].trigger == "start"
        )

    @workflow.update(dynamic=True)
    async def on_update(self, name: str, args: Sequence[RawValue]) -> dict[str, int]:
        await workflow.wait_condition(lambda: not self._starting())
        await self._perform(f"update:{name}")
        self._wake = True
        return {"cursor": self._cursor}

    @on_update.validator
    def _validate(self, name: str, args: Sequence[RawValue]) -> None:
        if not self._expects(f"update:{name}"):
            raise ApplicationError(f"not expected now: {name}", type="Refused", non_retryable=True)

    async def _perform(self, trigger: str) -> None:
        if not self._expects(trigger):
            return
        step = self._plan.steps[self._cursor]
        self._cursor += 1
        if self._cursor == len(self._plan.steps) and self._plan.cycle_from is not None:
            self._cursor = self._plan.cycle_from
        remote: list[Any] = []
        for action in step.actions:
            if action.kind == "remote":
                remote.append(self._schedule(action))
            elif action.kind == "barrier":
                for handle in remote:
                    await handle
                remote = []
            else:
                await self._act(action)
        for handle in remote:
            await handle

    def _schedule(self, action: Action) -> Any:
        return workflow.start_activity(
            NOOP, Noop(key=self._start.key, name=action.name),
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(hours=24), retry_policy=_RETRY,
        )  # fmt: skip

    async def _act(self, action: Action) -> None:
        noop = Noop(key=self._start.key, name=action.name)
        retry = _RETRY
        if action.kind == "local":
            await workflow.execute_local_activity(
                NOOP, noop, start_to_close_timeout=timedelta(seconds=15), retry_policy=retry,
            )  # fmt: skip
        elif action.kind == "upsert":
            workflow.upsert_search_attributes([_STATE.value_set(action.name or "skeleton")])
        elif action.kind == "timer_cancel":
            self._cancel()
        elif action.kind == "timer_start":
            self._arm(action.seconds)

    def _arm(self, seconds: float) -> None:
        self._timer_seconds = seconds

        async def sleep() -> None:
            await asyncio.sleep(seconds)
            self._fired = True

        self._timer = asyncio.create_task(sleep())

    def _cancel(self) -> None:
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer = None


@activity.defn(name=NOOP)
async def noop(request: Noop) -> None:
    """Every activity of the skeleton, local or remote: it does nothing."""
    return None


# --------------------------------------------------------------------------- plans


def _event_name(event: Any) -> str:
    from temporalio.api.enums.v1 import EventType

    return str(EventType.Name(event.event_type)).removeprefix("EVENT_TYPE_")


def plan_from_history(events: Sequence[Any]) -> Plan:
    """The steps of one run of a real declaration's history: each trigger (start, update by
    name, fired timer) with the activities, upserts and timer commands that followed it."""
    steps: list[Step] = []
    for event in events:
        name = _event_name(event)
        if name == "WORKFLOW_EXECUTION_STARTED":
            steps.append(Step(trigger="start"))
        elif name == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            update = event.workflow_execution_update_accepted_event_attributes
            steps.append(Step(trigger=f"update:{update.accepted_request.input.name}"))
        elif name == "TIMER_FIRED":
            steps.append(Step(trigger="timer"))
        elif name == "WORKFLOW_EXECUTION_CONTINUED_AS_NEW":
            break
        elif not steps:
            continue
        elif name == "MARKER_RECORDED":
            details = event.marker_recorded_event_attributes.details
            data = json.loads(details["data"].payloads[0].data) if "data" in details else {}
            steps[-1].actions.append(Action(kind="local", name=data.get("activity_type", "")))
        elif name == "ACTIVITY_TASK_SCHEDULED":
            attributes = event.activity_task_scheduled_event_attributes
            steps[-1].actions.append(Action(kind="remote", name=attributes.activity_type.name))
        elif name == "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES":
            steps[-1].actions.append(Action(kind="upsert", name=f"s{len(steps)}"))
        elif name == "TIMER_STARTED":
            timeout = event.timer_started_event_attributes.start_to_fire_timeout
            steps[-1].actions.append(
                Action(kind="timer_start", seconds=timeout.ToTimedelta().total_seconds())
            )
        elif name == "TIMER_CANCELED":
            steps[-1].actions.append(Action(kind="timer_cancel"))
        elif name == "WORKFLOW_TASK_COMPLETED":
            steps[-1].actions.append(Action(kind="barrier"))
    return Plan(steps=steps)


def one_local_activity_plan(updates: Sequence[str], first: Sequence[str] = ()) -> Plan:
    """The minimal shape: each update runs one local activity, re-arms the timer (two far
    delays taking turns, so it always changes) and answers; ``updates`` repeat forever after
    the ``first`` ones."""
    far = [100 * 86400.0, 101 * 86400.0]
    steps = [Step(trigger="start", actions=[Action(kind="timer_start", seconds=far[0])])]
    for i, name in enumerate([*first, *updates]):
        steps.append(
            Step(
                trigger=f"update:{name}",
                actions=[
                    Action(kind="local", name="decide"),
                    Action(kind="timer_cancel"),
                    Action(kind="timer_start", seconds=far[(i + 1) % 2]),
                ],
            )
        )
    return Plan(steps=steps, cycle_from=1 + len(first))


def event_names(events: Sequence[Any]) -> list[str]:
    return [_event_name(e) for e in events]


def shape_difference(real: Sequence[str], skeleton: Sequence[str]) -> str:
    """Empty when the two event-type sequences are the same, else a short account of where
    they differ."""
    if list(real) == list(skeleton):
        return ""
    lines = []
    matcher = difflib.SequenceMatcher(a=list(real), b=list(skeleton), autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op != "equal":
            lines.append(
                f"{op} real[{a0}:{a1}]={real[a0:a1]} skeleton[{b0}:{b1}]={skeleton[b0:b1]}"
            )
    return "; ".join(lines[:6])


# --------------------------------------------------------------------------- worker


async def main(argv: Sequence[str] | None = None) -> None:
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Worker

    from settings import Settings, tune_gc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    args = parser.parse_args(argv)
    settings = Settings()  # the same worker tuning as the production worker
    client = await Client.connect(args.address, data_converter=pydantic_data_converter)
    worker = Worker(
        client,
        task_queue=args.task_queue,
        workflows=[SkeletonWorkflow],
        activities=[noop],
        max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_cached_workflows=settings.max_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=5),
    )
    tune_gc(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        print("skeleton.started", flush=True)
        await stop.wait()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    # Import by its package name so that the workflow sandbox can import it again.
    from bench import skeleton as module

    asyncio.run(module.main())
