"""Campaign-wide operations on Temporal (time-skipping by default, or the local dev server with
--workflow-environment local), and the chain rules behind them:

* ``campaign-deadline-change`` (延期, docs/rules.md §3: every open declaration re-arms its timers)
  reaches a few hundred declarations in batches, continuing as new to keep each history small,
  and survives a worker restart halfway with none missed and none changed twice;
* a change delivered twice is applied once (the chain treats a change already in force as a
  no-op), and histories from before that rule still replay on the old path;
* the remote-defense draw (§5, 000/002 其它地（州、市）随机抽取) is recorded with what reproduces it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from domain.campaign_ops import DeadlineChangeRun, FanOutProgress, deadline_change_id
from domain.defense import remote_sample_drawn
from domain.models import (
    Campaign,
    CampaignDeadlines,
    DeadlineChangeCommand,
    DecisionCommand,
    DeclarationView,
    PaymentCommand,
    SubmitCommand,
    WithdrawCommand,
)
from gateway import send
from settings import Settings
from store.db import Store
from testing import factories as f
from testing.declarations import create, now
from testing.eventually import eventually
from tests.chain.driver import Driver
from tests.workflows.helpers import HISTORIES, record_history, without_stack_traces
from worker import build_worker
from workflows.campaign_client import progress, start_deadline_change
from workflows.campaign_ops import (
    CalendarRecomputeWorkflow,
    CampaignDeadlineChangeWorkflow,
    deadline_change_workflow_id,
)
from workflows.client import start_declaration

CREATE_AT_ONCE = 25
#: Stored fan-out histories (beside, not among, the declaration histories the replay test of
#: tests/workflows/test_history_and_replay.py replays with the declaration workflow only).
FAN_OUT_HISTORIES = HISTORIES / "campaign_ops"


# --------------------------------------------------------------------------- helpers


def _counts(settings: Settings, sql: str, **params: object) -> dict[str, int]:
    store = Store(settings.database_url)
    try:
        with store.session(readonly=True) as session:
            rows = session.execute(text(sql), params).all()
        return {str(r[0]): int(r[1]) for r in rows}
    finally:
        store.dispose()


def changed_events(settings: Settings, campaign_id: str) -> dict[str, int]:
    """``deadlines.changed`` audit events per declaration of the campaign."""
    return _counts(
        settings,
        "SELECT declaration_id, COUNT(*) FROM audit_event WHERE campaign_id = :c "
        "AND action = 'deadlines.changed' GROUP BY declaration_id",
        c=campaign_id,
    )


def declaration_deadlines(settings: Settings, campaign_id: str) -> dict[str, datetime]:
    from store.readmodel import get_view

    store = Store(settings.database_url)
    try:
        with store.session(readonly=True) as session:
            ids = [
                r[0]
                for r in session.execute(
                    text("SELECT declaration_id FROM declaration_read WHERE campaign_id = :c"),
                    {"c": campaign_id},
                )
            ]
            out = {}
            for d in ids:
                view = get_view(session, d)
                assert view is not None and view.deadlines.declaration is not None
                out[d] = view.deadlines.declaration
            return out
    finally:
        store.dispose()


async def recorded(settings: Settings, campaign_id: str, n: int, within: float = 120.0) -> None:
    """Wait until ``n`` declarations of the campaign are in the read model."""
    query = (
        "SELECT campaign_id, COUNT(*) FROM declaration_read WHERE campaign_id = :c "
        "GROUP BY campaign_id"
    )
    await eventually(
        lambda: asyncio.to_thread(_counts, settings, query, c=campaign_id),
        lambda rows: rows.get(campaign_id, 0) >= n,
        within=within,
        interval=0.2,
        what=f"{n} declarations of {campaign_id} recorded",
    )


async def many_declarations(
    client: Client, task_queue: str, settings: Settings, c: Campaign, n: int, at: datetime
) -> list[str]:
    """``n`` declarations of ``c`` started directly (the cheap way), recorded in the store."""
    gate = asyncio.Semaphore(CREATE_AT_ONCE)

    async def one() -> str:
        async with gate:
            start = f.start(c, f.declaration(c), at)
            await start_declaration(client, task_queue, start)
            return start.declaration_id

    ids = list(await asyncio.gather(*(one() for _ in range(n))))
    await recorded(settings, c.id, n)
    return sorted(ids)


async def until_progress(
    client: Client,
    workflow_id: str,
    predicate: Callable[[FanOutProgress], bool],
    within: float = 240.0,
) -> FanOutProgress:
    """Poll the ``progress`` query (never the workflow result, which would let the test server
    skip time and fire the declarations' own timers). A query that times out while a stopped
    worker's workflow task is still outstanding is asked again."""

    async def asked() -> FanOutProgress | None:
        try:
            return await progress(client, workflow_id, rpc_timeout=timedelta(seconds=2))
        except RPCError as err:
            if err.status not in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
                raise
            return None

    current: FanOutProgress = await eventually(
        asked,
        lambda p: p is not None and predicate(p),
        within=within,
        interval=0.1,
        what=f"the progress of {workflow_id}",
    )
    return current


def change_run(
    c: Campaign, ids: Sequence[str], moved: datetime, at: datetime, **kw: int
) -> DeadlineChangeRun:
    cmd = DeadlineChangeCommand(
        actor=f.COMMITTEE, deadlines=CampaignDeadlines(declaration_closes_at=moved), changed_at=at
    )
    return DeadlineChangeRun(
        change_id=deadline_change_id(c.id, cmd),
        campaign_id=c.id,
        command=cmd,
        declaration_ids=list(ids),
        **kw,
    )


async def runs_of(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """The runs of the latest chain of continue-as-new of a workflow id, oldest first (walking
    back from the latest run through each run's ``continued_execution_run_id``)."""
    histories = [await client.get_workflow_handle(workflow_id).fetch_history()]
    while True:
        started = histories[-1].events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return list(reversed(histories))
        handle = client.get_workflow_handle(workflow_id, run_id=started.continued_execution_run_id)
        histories.append(await handle.fetch_history())


# --------------------------------------------------------------------------- the fan-out


async def test_deadline_change_reaches_300_declarations_in_batches_across_runs(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """§3 延期: every open declaration re-arms to the new instant. 300 declarations, 50 at a time,
    continuing as new every 100: three runs, each history a few hundred events; progress counts
    every declaration; each has exactly one ``deadlines.changed`` event. Sending the same change
    again changes nothing (a change already in force is a no-op)."""
    at = await now(env)
    c = f.campaign(at, paper_materials_required=False)
    ids = await many_declarations(client, worker.task_queue, settings, c, 300, at)
    moved = c.declaration_closes_at + timedelta(days=10)
    run = change_run(c, ids, moved, at, batch_size=50, continue_as_new_every=100)
    workflow_id = deadline_change_workflow_id(c.id, run.change_id)
    await start_deadline_change(client, worker.task_queue, run)

    done = await until_progress(client, workflow_id, lambda p: p.finished)
    assert (done.total, done.done, done.updated, done.ended, done.failed) == (300, 300, 300, 0, [])
    assert done.runs == 3
    histories = await runs_of(client, workflow_id)
    assert len(histories) == 3
    assert all(len(h.events) < 1000 for h in histories), [len(h.events) for h in histories]
    assert histories[-1].events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED

    assert await asyncio.to_thread(changed_events, settings, c.id) == dict.fromkeys(ids, 1)
    deadlines = await asyncio.to_thread(declaration_deadlines, settings, c.id)
    assert deadlines == dict.fromkeys(ids, moved)

    # The same change again (a new run of the same id): addressed, answered, applied never.
    await start_deadline_change(client, worker.task_queue, run.model_copy(
        update={"declaration_ids": ids[:30]}))  # fmt: skip
    again = await until_progress(client, workflow_id, lambda p: p.finished and p.total == 30)
    assert (again.done, again.updated, again.failed) == (30, 30, [])
    assert await asyncio.to_thread(changed_events, settings, c.id) == dict.fromkeys(ids, 1)


async def test_worker_restart_halfway_misses_none_and_changes_none_twice(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """§3 延期 is durable: the worker running the fan-out is stopped after part of it (activities
    and their updates in flight) and a new worker takes the same task queue; the change reaches
    every declaration, and the audit trail shows ``deadlines.changed`` exactly once on each.

    The fan-out runs on a task queue of its own (the declarations keep their worker), and the
    first fan-out worker keeps no sticky cache: the time-skipping test server does not hand a
    stopped worker's sticky tasks to another (a real server does), which is not what this test
    is about. Each of its workflow tasks is a full replay instead, the stricter path. It also
    runs one activity at a time, so that it is still part way through when the test stops it,
    however fast the declarations answer."""
    ops = settings.model_copy(
        update={"task_queue": f"{settings.task_queue}-ops", "graceful_shutdown_seconds": 0.2}
    )
    at = await now(env)
    c = f.campaign(at, paper_materials_required=False)
    ids = await many_declarations(client, worker.task_queue, settings, c, 150, at)
    moved = c.declaration_closes_at + timedelta(days=7)
    run = change_run(c, ids, moved, at, batch_size=25, continue_as_new_every=50)
    workflow_id = deadline_change_workflow_id(c.id, run.change_id)
    first = ops.model_copy(update={"max_cached_workflows": 0, "max_concurrent_activities": 1})
    async with build_worker(client, first):
        await start_deadline_change(client, ops.task_queue, run)
        halfway = await until_progress(client, workflow_id, lambda p: p.done >= 40)
        assert not halfway.finished
    async with build_worker(client, ops):
        done = await until_progress(client, workflow_id, lambda p: p.finished)
    assert (done.total, done.done, done.updated, done.failed) == (150, 150, 150, [])
    assert done.runs == 3
    assert await asyncio.to_thread(changed_events, settings, c.id) == dict.fromkeys(ids, 1)
    deadlines = await asyncio.to_thread(declaration_deadlines, settings, c.id)
    assert deadlines == dict.fromkeys(ids, moved)


async def test_ended_and_unknown_declarations_are_reported_not_retried_forever(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """§3 延期 reaches open declarations; one that ended since the list was taken counts as
    ``ended`` (nothing to re-arm) and an unknown id is reported as failed with its reason; the
    others are not held up."""
    at = await now(env)
    c = f.campaign(at)
    open_ = await create(client, worker.task_queue, at, campaign=c)
    gone = await create(client, worker.task_queue, at, campaign=c)
    await gone.send("withdraw", WithdrawCommand(actor=f.APPLICANT, reason="个人原因"))
    run = change_run(c, [open_.id, gone.id, "D-unknown"], c.declaration_closes_at +
                     timedelta(days=1), at, batch_size=2, continue_as_new_every=2)  # fmt: skip
    await start_deadline_change(client, worker.task_queue, run)
    workflow_id = deadline_change_workflow_id(c.id, run.change_id)
    done = await until_progress(client, workflow_id, lambda p: p.finished)
    assert (done.total, done.done, done.updated, done.ended, done.runs) == (3, 3, 1, 1, 2)
    assert [x.declaration_id for x in done.failed] == ["D-unknown"]
    assert "unknown declaration" in done.failed[0].reason
    if os.environ.get("REVIEWCHAIN_RECORD_HISTORIES") == "1":
        FAN_OUT_HISTORIES.mkdir(parents=True, exist_ok=True)
        for n, history in enumerate(await runs_of(client, workflow_id), 1):
            (FAN_OUT_HISTORIES / f"deadline_change_run{n}.json").write_text(
                without_stack_traces(history.to_json())
            )


def _fan_out_histories() -> list[Path]:
    return sorted(FAN_OUT_HISTORIES.glob("*.json"))


@pytest.mark.parametrize("path", _fan_out_histories(), ids=lambda p: p.stem)
async def test_stored_fan_out_histories_replay_with_the_current_code(path: Path) -> None:
    """Determinism: the stored runs of a fan-out (batches, a refusal, an ended declaration,
    continue-as-new) replay without a non-determinism error. Refresh them with
    REVIEWCHAIN_RECORD_HISTORIES=1 after a deliberate, patched change."""
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    await Replayer(
        workflows=[CampaignDeadlineChangeWorkflow, CalendarRecomputeWorkflow],
        data_converter=pydantic_data_converter,
    ).replay_workflow(history)


def test_there_are_stored_fan_out_histories_to_replay() -> None:
    """CI must replay something: the fan-out's stored runs are committed."""
    assert len(_fan_out_histories()) >= 2, "no stored fan-out histories"


# --------------------------------------------------------------------------- one declaration


async def test_the_same_change_twice_is_applied_once_and_its_history_replays(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """§3 延期, delivered twice (a retried fan-out): the second delivery is a no-op, no second
    ``deadlines.changed`` event, and a different change still applies. The history is stored for
    the replay test (tests/histories/deadline_change_repeated.json)."""
    at = await now(env)
    d = await create(client, worker.task_queue, at)
    first = (await d.view()).deadlines.declaration
    assert first is not None
    cmd = DeadlineChangeCommand(
        actor=f.ADMIN,
        deadlines=CampaignDeadlines(declaration_closes_at=first + timedelta(days=5)),
        changed_at=at,
    )
    one: DeclarationView = await send(client, d.id, "change_deadlines", cmd)
    two: DeclarationView = await send(client, d.id, "change_deadlines", cmd)
    assert one.deadlines.declaration == two.deadlines.declaration == first + timedelta(days=5)
    assert two.version == one.version
    later = cmd.model_copy(update={"deadlines": CampaignDeadlines(
        declaration_closes_at=first + timedelta(days=9))})  # fmt: skip
    three: DeclarationView = await send(client, d.id, "change_deadlines", later)
    assert three.version > one.version
    rows = await asyncio.to_thread(changed_events, settings, (await d.view()).campaign_id)
    assert rows == {d.id: 2}
    await record_history(d, "deadline_change_repeated")


def test_chain_a_change_already_in_force_is_a_no_op() -> None:
    """§3 延期 on the pure chain: an identical change (same instant of change, same deadlines)
    adds no event and arms nothing; an earlier move already floored at 24 h is also in force."""
    now_ = datetime(2026, 3, 2, 10, 0, tzinfo=f.BJ)
    d = Driver(now_)
    d.do(SubmitCommand(actor=f.APPLICANT))
    before = d.chain.s.deadlines.declaration_closes_at
    earlier = DeadlineChangeCommand(
        actor=f.COMMITTEE,
        deadlines=CampaignDeadlines(declaration_closes_at=now_ + timedelta(hours=2)),
        changed_at=now_,
    )
    d.do(earlier)
    assert d.chain.s.deadlines.declaration_closes_at == now_ + timedelta(hours=24) < before
    n = len(d.audit)
    step = d.do(earlier)
    assert step.result == {"unchanged": True} and len(d.audit) == n
    assert d.chain.take_effects() == []


# --------------------------------------------------------------------------- defense draw


@pytest.mark.parametrize("drawn", [True, False])
def test_remote_sample_draw_is_audited_with_what_reproduces_it(drawn: bool) -> None:
    """§5 (000, 002 其它地（州、市）随机抽取): when the fee and materials are in, the transition
    records whether the applicant was drawn, the rate and the seed; the draw recomputed from the
    audit alone gives the same answer."""
    now_ = datetime(2026, 3, 2, 10, 0, tzinfo=f.BJ)
    defense = {"required_levels": ["deputy_senior"], "onsite_affiliations": ["乌鲁木齐市"],
               "remote_selection": "sample", "remote_sample_rate": 0.5}  # fmt: skip
    for _ in range(50):  # find a declaration id whose draw is ``drawn``
        d = Driver(now_, defense=defense, authority_levels=[], paper_materials_required=False)
        if d.chain.s.defense.drawn is drawn:
            break
    else:  # pragma: no cover - 50 draws at rate 0.5 never all alike
        raise AssertionError("no declaration with the wanted draw")
    d.do(SubmitCommand(actor=f.APPLICANT))
    d.do(DecisionCommand(actor=f.UNIT, stage="unit_review", outcome="approve"))
    d.advance(timedelta(days=20))
    d.do(DecisionCommand(actor=f.UNIT, stage="unit_recommendation", outcome="approve",
                                   publicity_result_ref="公示结果"))  # fmt: skip
    d.do(DecisionCommand(actor=f.COMMITTEE, stage="committee_formal_review",
                                   outcome="approve"))  # fmt: skip
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    event = d.audit[-1]
    assert event.action == "payment.recorded"
    assert event.stage_after == ("defense_pending" if drawn else "committee_review")
    assert event.detail["drawn"] is drawn
    draw = event.detail["draw"]
    assert draw["rate"] == 0.5 and draw["seed"] == f"{d.campaign.id}:{d.chain.s.declaration_id}"
    campaign_id, declaration_id = draw["seed"].split(":", 1)
    assert remote_sample_drawn(campaign_id, declaration_id, draw["rate"]) is drawn
    assert "随机抽取" in event.detail["defense_reason"]
