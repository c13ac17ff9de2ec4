"""Starting and following the campaign-wide fan-outs (:mod:`workflows.campaign_ops`) from the
API, the CLI and tests.

Starting is idempotent: a change's workflow id derives from the change, so a second start while
it runs finds the running one (and, once it has completed, runs it again over what it is given:
harmless, since every declaration answers a change it already has as a no-op).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.campaign_ops import (
    CalendarRecomputeRun,
    CloseReviewRun,
    DeadlineChangeRun,
    FanOutProgress,
)
from workflows.campaign_ops import (
    CalendarRecomputeWorkflow,
    CampaignDeadlineChangeWorkflow,
    CloseReviewWorkflow,
    calendar_recompute_workflow_id,
    close_review_workflow_id,
    deadline_change_workflow_id,
)

__all__ = [
    "finished_within",
    "progress",
    "start_calendar_recompute",
    "start_close_review",
    "start_deadline_change",
]


async def _start_once(
    client: Client, task_queue: str, run_fn: Any, run: Any, workflow_id: str
) -> WorkflowHandle[Any, FanOutProgress]:
    """Start a fan-out workflow, or hand back the one already running under that id (a retried
    request starts nothing twice)."""
    try:
        return await client.start_workflow(run_fn, run, id=workflow_id, task_queue=task_queue)
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(workflow_id, result_type=FanOutProgress)


async def start_deadline_change(
    client: Client, task_queue: str, run: DeadlineChangeRun
) -> WorkflowHandle[Any, FanOutProgress]:
    workflow_id = deadline_change_workflow_id(run.campaign_id, run.change_id)
    return await _start_once(
        client, task_queue, CampaignDeadlineChangeWorkflow.run, run, workflow_id
    )


async def start_close_review(
    client: Client, task_queue: str, run: CloseReviewRun
) -> WorkflowHandle[Any, FanOutProgress]:
    workflow_id = close_review_workflow_id(run.campaign_id, run.change_id)
    return await _start_once(client, task_queue, CloseReviewWorkflow.run, run, workflow_id)


async def start_calendar_recompute(
    client: Client, task_queue: str, run: CalendarRecomputeRun
) -> WorkflowHandle[Any, FanOutProgress]:
    workflow_id = calendar_recompute_workflow_id(run.year, run.change_id)
    return await _start_once(client, task_queue, CalendarRecomputeWorkflow.run, run, workflow_id)


async def progress(
    client: Client, workflow_id: str, *, rpc_timeout: timedelta | None = None
) -> FanOutProgress | None:
    """The fan-out's progress (its latest run, across continue-as-new); None when unknown."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        answer: FanOutProgress = await handle.query(
            "progress", result_type=FanOutProgress, rpc_timeout=rpc_timeout
        )
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return None
        raise
    return answer


async def finished_within(
    client: Client, workflow_id: str, seconds: float, *, poll: float = 0.2
) -> FanOutProgress | None:
    """Follow the fan-out's ``progress`` query for up to ``seconds``; its last answer (finished
    or not). Polls the query rather than awaiting the result, so a caller never holds a workflow
    result open (and, on the time-skipping test server, never lets it skip time)."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    current = await progress(client, workflow_id, rpc_timeout=timedelta(seconds=10))
    while (current is None or not current.finished) and loop.time() < until:
        await asyncio.sleep(poll)
        current = await progress(client, workflow_id, rpc_timeout=timedelta(seconds=10))
    return current
