"""History limits and determinism.

* The longest legal path (returns at every level, the committee's full submission cap, objections
  in both publicities, refused attempts, a deadline change) stays under 300 history events and
  no event payload reaches 32 KB.
* Stored histories of every path replay with the current workflow code (tests/histories: those
  recorded before the audit-write-in-history patch, frozen, and those recorded since, in
  tests/histories/audit_write_in_history), so a change that would break running declarations
  fails here. Set REVIEWCHAIN_RECORD_HISTORIES=1 to record them after a deliberate, patched
  change (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from domain.models import (
    CampaignDeadlines,
    DeadlineChangeCommand,
    DefenseCommand,
    MaterialsReceivedCommand,
    ObjectionCommand,
    ObjectionLodged,
    ObjectionResolutionCommand,
    PaymentCommand,
    VoteCommand,
)
from gateway import DecisionRefused
from testing import factories as f
from testing.declarations import Declaration, after, create, now, skip_to, wait_state
from tests.workflows.helpers import history_name, stored_histories, write_history
from workflows.declaration import DeclarationWorkflow

MAX_EVENTS = 300
MAX_PAYLOAD = 32 * 1024


async def refused(coro) -> None:
    with pytest.raises(DecisionRefused):
        await coro


async def objection_cycle(d: Declaration, resolver) -> None:
    lodged = await d.send("lodge_objection", ObjectionCommand(actor=f.ANYONE, text="请核实"),
                          result_type=ObjectionLodged)  # fmt: skip
    await d.send("resolve_objection", ObjectionResolutionCommand(
        actor=resolver, objection_id=lodged.objection_id, upheld=False, opinion="不属实"))  # fmt: skip


async def longest_path(env: WorkflowEnvironment, client: Client, task_queue: str) -> Declaration:
    d = await create(client, task_queue, await now(env))
    await refused(d.decide(f.UNIT, "unit_review", "approve"))
    await d.submit()
    await d.decide(f.UNIT, "unit_review", "return")
    await d.submit()
    await refused(d.decide(f.OTHER_UNIT, "unit_review", "approve"))
    view = await d.decide(f.UNIT, "unit_review", "approve")
    await objection_cycle(d, f.UNIT)
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(client, d.id, "unit_recommendation")
    await refused(d.decide(f.UNIT, "unit_recommendation", "approve"))
    await d.decide(f.UNIT, "unit_recommendation", "approve", publicity_result_ref="公示结果")
    for authority in (f.COUNTY, f.PREFECTURE):
        await d.decide(authority, "authority_review", "return")
        await d.submit()
        await d.decide(authority, "authority_review", "approve")
    moved = after((await d.view()).deadlines.declaration, days=3)
    await d.send("change_deadlines", DeadlineChangeCommand(
        actor=f.ADMIN, deadlines=CampaignDeadlines(declaration_closes_at=moved),
        changed_at=await now(env)))  # fmt: skip
    for _ in range(2):
        await d.decide(f.COMMITTEE, "committee_formal_review", "return")
        await d.submit()
    view = await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    await refused(d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=1,
                                                          receipt_no="R-bad")))  # fmt: skip
    await d.send("record_materials_received",
                 MaterialsReceivedCommand(actor=f.COMMITTEE, form_id=view.materials.form_id))  # fmt: skip
    await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    await d.send("record_defense", DefenseCommand(actor=f.COMMITTEE, passed=True, mode="phone"))
    await refused(d.send("record_vote", VoteCommand(actor=f.COMMITTEE, attending=10,
                                                    in_favor=10, against=0, abstain=0)))  # fmt: skip
    view = await d.send("record_vote", VoteCommand(actor=f.COMMITTEE, attending=20, in_favor=18,
                                                   against=1, abstain=1))  # fmt: skip
    await objection_cycle(d, f.COMMITTEE)
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(client, d.id, "certified")
    return d


async def runs_of(client: Client, d: Declaration) -> list[WorkflowHistory]:
    """Every run of a declaration's workflow, following continue-as-new from the first."""
    runs, run_id = [], d.first_run_id
    while run_id:
        history = await client.get_workflow_handle(d.handle.id, run_id=run_id).fetch_history()
        runs.append(history)
        last = history.events[-1]
        continued = last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        attrs = last.workflow_execution_continued_as_new_event_attributes
        run_id = attrs.new_execution_run_id if continued else None
    return runs


async def test_longest_path_stays_under_300_events_and_32kb_payloads(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Must hold (issue): no history over 300 events, no payload over 32 KB. The longest legal
    path (every return, the full committee cap, objections, refusals, a deadline change) passes
    the 250-event budget, so it also proves continue-as-new carries the whole state over."""
    d = await longest_path(time_skipping, client, worker.task_queue)
    runs = await runs_of(client, d)
    sizes = [len(run.events) for run in runs]
    largest = max(e.ByteSize() for run in runs for e in run.events)
    print(f"\nlongest path: {sum(sizes)} events in {len(runs)} run(s) {sizes}, "
          f"largest event {largest} bytes")  # fmt: skip
    assert max(sizes) < MAX_EVENTS
    assert largest < MAX_PAYLOAD
    assert len(runs) == 2  # the budget was passed once, and the state came across whole
    view = await d.view()
    assert view.state == "certified" and view.committee_submissions == 3
    replayer = Replayer(workflows=[DeclarationWorkflow], data_converter=pydantic_data_converter)
    for n, run in enumerate(runs, 1):
        write_history(f"longest_path_run{n}", run)
        await replayer.replay_workflow(run)


@pytest.mark.parametrize("path", stored_histories(), ids=history_name)
async def test_stored_histories_replay_with_the_current_code(path: Path) -> None:
    """Determinism: every stored history, from before and after each patch, replays without a
    non-determinism error."""
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    await Replayer(
        workflows=[DeclarationWorkflow], data_converter=pydantic_data_converter
    ).replay_workflow(history)


def test_there_are_stored_histories_to_replay() -> None:
    """CI must replay something: the stored histories are part of the repository."""
    assert stored_histories(), "no stored histories under tests/histories"
