"""DeclarationWorkflow on a real Temporal server (time-skipping by default, or the local dev
server with --workflow-environment local): the chain runs durably, every timer fires at its
instant and not a minute before, refusals carry the workflow's reason and are audited."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import (
    CampaignDeadlines,
    DeadlineChangeCommand,
    DecisionCommand,
    DefenseCommand,
    MaterialsReceivedCommand,
    ObjectionCommand,
    ObjectionLodged,
    ObjectionResolutionCommand,
    PaymentCommand,
    VoteCommand,
    WithdrawCommand,
)
from gateway import DecisionRefused, DeclarationEnded
from settings import Settings
from store.db import Store
from store.readmodel import get_view
from testing import factories as f
from testing.declarations import Declaration, after, create, now, skip_to, wait_for, wait_state
from tests.workflows.helpers import record_history

pytestmark = pytest.mark.usefixtures("worker")


def audit_rows(settings: Settings, declaration_id: str) -> list[dict]:
    from sqlalchemy import text

    store = Store(settings.database_url)
    with store.session() as session:
        rows = session.execute(
            text("SELECT seq, action, outcome, actor_id, stage_before, stage_after "
                 "FROM audit_event WHERE declaration_id = :d ORDER BY seq"),
            {"d": declaration_id},
        ).mappings().all()  # fmt: skip
    return [dict(r) for r in rows]


def read_model(settings: Settings, declaration_id: str):
    store = Store(settings.database_url)
    with store.session() as session:
        return get_view(session, declaration_id)


async def assert_read_model_matches(d: Declaration, settings: Settings) -> None:
    """Issue 3: the read model equals the workflow's query view at every step."""
    current = await d.view()
    stored = await asyncio.to_thread(read_model, settings, d.id)
    assert stored is not None
    assert stored.model_dump(mode="json") == current.model_dump(mode="json")


async def to_committee(d: Declaration, env: WorkflowEnvironment, settings: Settings) -> None:
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "approve", opinion="材料真实完整")
    assert view.state == "unit_publicity" and view.deadlines.publicity_ends is not None
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(d.client, d.id, "unit_recommendation")
    await d.decide(f.UNIT, "unit_recommendation", "approve", opinion="同意推荐",
                   publicity_result_ref="公示结果-1")  # fmt: skip
    await d.decide(f.COUNTY, "authority_review", "approve")
    view = await d.decide(f.PREFECTURE, "authority_review", "approve")
    assert view.state == "committee_formal_review" and view.committee_submissions == 1


async def test_whole_chain_to_certified_with_audit_and_read_model_in_step(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """§2 the whole chain (001): every decision as an update answers with the new view; the
    audit trail holds every transition in sequence and the read model equals the view."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env))
    await assert_read_model_matches(d, settings)
    await to_committee(d, env, settings)
    await assert_read_model_matches(d, settings)
    view = await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    assert view.state == "fee_pending" and view.materials.form_id
    view = await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=550,
                                                         receipt_no="R-0001"))  # fmt: skip
    assert view.state == "materials_pending" and view.fee.paid
    view = await d.send("record_materials_received",
                        MaterialsReceivedCommand(actor=f.COMMITTEE, form_id=view.materials.form_id))  # fmt: skip
    assert view.state == "defense_pending" and view.defense.venue is None  # 001: open
    view = await d.send("record_defense", DefenseCommand(actor=f.COMMITTEE, passed=True,
                                                         mode="video"))  # fmt: skip
    assert view.state == "committee_review"
    view = await d.send("record_vote", VoteCommand(actor=f.COMMITTEE, attending=20, in_favor=16,
                                                   against=2, abstain=2))  # fmt: skip
    assert view.state == "result_publicity" and view.deadlines.publicity_ends
    await assert_read_model_matches(d, settings)
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    view = await wait_state(client, d.id, "certified")
    assert view.result is not None and view.result.certificate_no
    await wait_for(client, d.id, lambda v: v.version == view.version)
    await assert_read_model_matches(d, settings)
    rows = await asyncio.to_thread(audit_rows, settings, d.id)
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[-1]["action"] == "result.announced" and rows[-1]["stage_after"] == "certified"
    await record_history(d, "whole_chain_certified")


@pytest.mark.parametrize("publicity", ["unit_publicity", "result_publicity"])
async def test_publicity_timer_fires_at_its_instant_not_a_minute_before(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings,
    publicity: str,
) -> None:  # fmt: skip
    """§3 unit and result publicity (≥5 working days, 000-004, 40号令), checked one minute
    before and one minute after the computed instant."""
    env = time_skipping
    level = "intermediate"
    base = f.campaign(await now(env), paper_materials_required=False, authority_levels=[])
    d = await create(client, worker.task_queue, await now(env), campaign=base,
                     decl=f.declaration(base, level=level))  # fmt: skip
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "approve")
    if publicity == "result_publicity":
        await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
        await wait_state(client, d.id, "unit_recommendation")
        await d.decide(f.UNIT, "unit_recommendation", "approve", publicity_result_ref="ref")
        await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
        await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=400, receipt_no="R"))
        view = await d.send("record_vote", VoteCommand(actor=f.COMMITTEE, attending=20,
                                                       in_favor=20, against=0, abstain=0))  # fmt: skip
    ends = view.deadlines.publicity_ends
    assert view.state == publicity and ends is not None
    await skip_to(env, after(ends, minutes=-1))
    assert (await d.view()).state == publicity
    await skip_to(env, after(ends, minutes=1))
    following = "unit_recommendation" if publicity == "unit_publicity" else "certified"
    await wait_state(client, d.id, following)


async def test_correction_window_expires_to_not_accepted_one_minute_after_its_instant(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§3 correction window (001 退回后2日内…逾期不予受理; 民法典201/203)."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env))
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "return", opinion="扫描件不清晰",
                          reasons=["unclear_scan"])  # fmt: skip
    due = view.deadlines.correction
    assert view.state == "returned" and due is not None
    assert view.pending is not None and view.pending.role == "applicant"
    assert "民法典" in view.deadline_explanations["correction"]
    await skip_to(env, after(due, minutes=-1))
    assert (await d.view()).state == "returned"
    await skip_to(env, after(due, minutes=1))
    await wait_state(client, d.id, "not_accepted")
    await record_history(d, "correction_window_expired")


@pytest.mark.parametrize(("returned", "final"), [(False, "abandoned"), (True, "not_accepted")])
async def test_declaration_deadline_ends_declarations_before_the_committee(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker, returned: bool, final: str
) -> None:
    """§3 declaration deadline (001 一(一) 视为放弃; 退回后超过申报时限的不予受理)."""
    env = time_skipping
    start = await now(env)
    closes = start + timedelta(hours=30)
    d = await create(client, worker.task_queue, start, declaration_closes_at=closes,
                     correction_window_days=10)  # fmt: skip
    await d.submit()
    if returned:
        await d.decide(f.UNIT, "unit_review", "return")
    await skip_to(env, closes - timedelta(minutes=1))
    assert (await d.view()).state == ("returned" if returned else "unit_review")
    await skip_to(env, closes + timedelta(minutes=1))
    await wait_state(client, d.id, final)
    result = await d.handle.result()
    assert result.state == final
    await record_history(d, f"declaration_deadline_{final}")


@pytest.mark.parametrize("kind", ["fee", "materials"])
async def test_fee_and_materials_deadlines_abandon_at_their_instant(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings,
    kind: str,
) -> None:  # fmt: skip
    """§3 fee / materials deadlines with late_payment / late_materials abandon (001)."""
    env = time_skipping
    start = await now(env)
    deadline = start + timedelta(days=70)
    d = await create(client, worker.task_queue, start, fee_deadline=deadline,
                     materials_deadline=deadline)  # fmt: skip
    await to_committee(d, env, settings)
    view = await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    if kind == "materials":
        await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R"))
    else:
        await d.send("record_materials_received",
                     MaterialsReceivedCommand(actor=f.COMMITTEE, form_id=view.materials.form_id))  # fmt: skip
    await skip_to(env, deadline - timedelta(minutes=1))
    assert (await d.view()).state in ("fee_pending", "materials_pending")
    await skip_to(env, deadline + timedelta(minutes=1))
    await wait_state(client, d.id, "abandoned")
    await record_history(d, f"{kind}_deadline_abandoned")


async def test_validator_refusal_carries_the_reason_and_is_audited(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """docs/rules.md §16, 409: a decision that does not fit the state is refused with the workflow's
    reason, changes nothing, and is audited as refused (§8)."""
    d = await create(client, worker.task_queue, await now(env))
    with pytest.raises(DecisionRefused) as refused:
        await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    assert "草稿" in refused.value.reason
    view = await wait_for(client, d.id, lambda v: v.version >= 2)
    assert view.state == "draft"
    # The refusal arrives by signal: the query shows it once its workflow task ran, the store
    # once the audit activity that task scheduled has run too.
    for _ in range(200):
        rows = await asyncio.to_thread(audit_rows, settings, d.id)
        if len(rows) >= 2:
            break
        await asyncio.sleep(0.05)
    assert rows[-1]["outcome"] == "refused" and rows[-1]["actor_id"] == f.COMMITTEE.id


async def test_signals_take_the_same_path_and_refused_signals_are_audited(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """Decisions also arrive as fire-and-forget signals, through the same code path."""
    d = await create(client, worker.task_queue, await now(env))
    await d.submit()
    await d.handle.signal("decide.signal", DecisionCommand(actor=f.OTHER_UNIT, stage="unit_review",
                                                           outcome="approve"))  # fmt: skip
    await d.handle.signal("decide.signal", DecisionCommand(actor=f.UNIT, stage="unit_review",
                                                           outcome="approve"))  # fmt: skip
    await wait_state(client, d.id, "unit_publicity")
    rows = await asyncio.to_thread(audit_rows, settings, d.id)
    refused = [r for r in rows if r["outcome"] == "refused"]
    assert refused and refused[0]["actor_id"] == f.OTHER_UNIT.id


async def test_two_conflicting_decisions_at_once_one_wins_the_other_is_refused(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """Never half-applied: approve and return sent together; exactly one takes effect."""
    d = await create(client, worker.task_queue, await now(env))
    await d.submit()
    results = await asyncio.gather(
        d.decide(f.UNIT, "unit_review", "approve"),
        d.decide(f.UNIT, "unit_review", "return"),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DecisionRefused)]
    assert len(refused) == 1
    view = await d.view()
    assert view.state in ("unit_publicity", "returned")


async def test_objection_update_returns_its_id_and_blocks_the_end_of_publicity(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.2 objections during unit publicity hold the declaration until resolved."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env))
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "approve")
    lodged = await d.send("lodge_objection", ObjectionCommand(actor=f.ANYONE, text="存疑"),
                          result_type=ObjectionLodged)  # fmt: skip
    assert lodged.objection_id
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=5))
    assert (await d.view()).state == "unit_publicity"
    view = await d.send("resolve_objection", ObjectionResolutionCommand(
        actor=f.UNIT, objection_id=lodged.objection_id, upheld=False, opinion="不属实"))  # fmt: skip
    assert view.state == "unit_recommendation"
    await record_history(d, "objection_dismissed_after_publicity")


async def test_deadline_change_rearms_the_open_timer(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§3 延期: the open declaration re-arms its timer to the new instant."""
    env = time_skipping
    start = await now(env)
    closes = start + timedelta(days=3)
    d = await create(client, worker.task_queue, start, declaration_closes_at=closes)
    await d.submit()
    later = closes + timedelta(days=5)
    await d.send("change_deadlines", DeadlineChangeCommand(
        actor=f.ADMIN, deadlines=CampaignDeadlines(declaration_closes_at=later),
        changed_at=start))  # fmt: skip
    await skip_to(env, closes + timedelta(hours=1))
    assert (await d.view()).state == "unit_review"
    await skip_to(env, later + timedelta(minutes=1))
    await wait_state(client, d.id, "abandoned")


async def test_update_to_an_ended_declaration_is_refused_and_the_view_stays_readable(
    env: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Queries on finished workflows still work; decisions are refused as ended."""
    d = await create(client, worker.task_queue, await now(env))
    await d.send("withdraw", WithdrawCommand(actor=f.APPLICANT, reason="个人原因"))
    result = await d.handle.result()
    assert result.state == "withdrawn"
    with pytest.raises(DecisionRefused):
        await d.submit()
    assert (await d.view()).state == "withdrawn"
    assert issubclass(DeclarationEnded, DecisionRefused)
    await record_history(d, "withdrawn")
