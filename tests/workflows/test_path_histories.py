"""Every path of the chain (docs/rules.md §2-§3) run on Temporal, each ending in the state the path
names, and each stored as a history for the replay test (tests/workflows/test_history_and_replay.py)
with REVIEWCHAIN_RECORD_HISTORIES=1.

The paths the other workflow tests already store (the whole chain, the deadline timers, a
dismissed objection, a withdrawal from the draft, the longest path) are not repeated here.
``docs/reliability.md`` says how to refresh these histories after a patched change. A test whose
path a patch changed records under a new name (``…_patched``): the history recorded before the
patch stays as it was, frozen, and proves that running declarations still replay
(tests/workflows/test_patches.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import (
    DefenseCommand,
    MaterialsReceivedCommand,
    MisconductCommand,
    ObjectionCommand,
    ObjectionLodged,
    ObjectionResolutionCommand,
    PaymentCommand,
    ResultConfirmationCommand,
    VoteCommand,
    WithdrawCommand,
)
from settings import Settings
from store.db import Store
from store.tables import Publicity
from testing import factories as f
from testing.declarations import Declaration, after, create, now, skip_to, wait_for, wait_state
from tests.workflows.helpers import record_history

PASSING_VOTE = {"attending": 20, "in_favor": 18, "against": 1, "abstain": 1}
FAILING_VOTE = {"attending": 20, "in_favor": 12, "against": 6, "abstain": 2}


async def ended(d: Declaration, state: str) -> None:
    """The workflow has completed in ``state`` (so the stored history is a whole one)."""
    result = await d.handle.result()
    assert result.state == state


async def past_unit_publicity(d: Declaration, env: WorkflowEnvironment) -> None:
    """draft → unit_recommendation: submit, unit approval, the publicity runs out."""
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "approve", opinion="材料真实完整")
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(d.client, d.id, "unit_recommendation")


async def to_committee(d: Declaration, env: WorkflowEnvironment) -> None:
    await past_unit_publicity(d, env)
    await d.decide(f.UNIT, "unit_recommendation", "approve", publicity_result_ref="公示结果-1")
    await d.decide(f.COUNTY, "authority_review", "approve")
    view = await d.decide(f.PREFECTURE, "authority_review", "approve")
    assert view.state == "committee_formal_review"


async def to_committee_review(d: Declaration, env: WorkflowEnvironment) -> None:
    """… → committee_review: acceptance, fee, paper materials, a passed defense."""
    await to_committee(d, env)
    view = await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    await d.send("record_materials_received",
                 MaterialsReceivedCommand(actor=f.COMMITTEE, form_id=view.materials.form_id))  # fmt: skip
    view = await d.send("record_defense", DefenseCommand(actor=f.COMMITTEE, passed=True,
                                                         mode="video"))  # fmt: skip
    assert view.state == "committee_review"


async def to_result_publicity(d: Declaration, env: WorkflowEnvironment) -> Any:
    await to_committee_review(d, env)
    view = await d.send("record_vote", VoteCommand(actor=f.COMMITTEE, **PASSING_VOTE))
    assert view.state == "result_publicity"
    return view


def publicities(settings: Settings, declaration_id: str) -> list[tuple[str, str | None]]:
    """(kind, outcome) of each publicity the store holds for the declaration; outcome None
    while it is open."""
    store = Store(settings.database_url)
    try:
        with store.session(readonly=True) as session:
            rows = session.exec(select(Publicity).where(Publicity.declaration_id == declaration_id))
            return [(r.kind, r.outcome if r.closed_at is not None else None) for r in rows]
    finally:
        store.dispose()


async def lodge(d: Declaration) -> str:
    lodged = await d.send("lodge_objection", ObjectionCommand(actor=f.ANYONE, text="举报材料不实"),
                          result_type=ObjectionLodged)  # fmt: skip
    return str(lodged.objection_id)


# --------------------------------------------------------------------------- returns, rejections


async def test_unit_return_resubmitted_then_unit_rejection_is_rejected(
    env: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.2 and §3: a unit return opens the correction window, the resubmission goes back to
    the unit (001 returner), and the unit's rejection ends the declaration as rejected."""
    d = await create(client, worker.task_queue, await now(env))
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "return", opinion="缺少学历证书")
    assert view.state == "returned" and view.returned_from == "unit_review"
    view = await d.submit()
    assert view.state == "unit_review" and view.applicant_submissions == 2
    await d.decide(f.UNIT, "unit_review", "reject", opinion="不符合申报条件")
    await ended(d, "rejected")
    await record_history(d, "unit_return_then_rejected")


async def test_authority_return_goes_back_to_that_level_then_authority_rejection(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.4 (001 逐级提交): the county returns, the resubmission goes back to the county, which
    approves; the prefecture rejects: rejected."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env))
    await past_unit_publicity(d, env)
    await d.decide(f.UNIT, "unit_recommendation", "approve", publicity_result_ref="公示结果-1")
    view = await d.decide(f.COUNTY, "authority_review", "return", opinion="业绩材料不全")
    assert view.state == "returned" and view.returned_from == "authority_review"
    view = await d.submit()
    assert view.state == "authority_review" and view.authority_index == 0
    await d.decide(f.COUNTY, "authority_review", "approve")
    await d.decide(f.PREFECTURE, "authority_review", "reject", opinion="不符合条件")
    await ended(d, "rejected")
    await record_history(d, "authority_return_then_rejected")


async def test_committee_return_on_the_last_allowed_submission_is_not_accepted(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.5 (001 第3次提交后仍不符合要求的不予受理): two returns and resubmissions, the third
    arrival's return ends the declaration as not_accepted."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env))
    await to_committee(d, env)
    for submission in (1, 2):
        view = await d.decide(f.COMMITTEE, "committee_formal_review", "return")
        assert view.state == "returned" and view.committee_submissions == submission
        view = await d.submit()
        assert view.committee_submissions == submission + 1
    view = await d.decide(f.COMMITTEE, "committee_formal_review", "return")
    assert view.state == "not_accepted"
    await ended(d, "not_accepted")
    await record_history(d, "committee_cap_not_accepted")


async def test_committee_formal_rejection_is_not_accepted(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.5 不予受理: the committee's formal rejection ends the declaration as not_accepted."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env))
    await to_committee(d, env)
    await d.decide(f.COMMITTEE, "committee_formal_review", "reject", opinion="不予受理")
    await ended(d, "not_accepted")
    await record_history(d, "committee_rejection_not_accepted")


# --------------------------------------------------------------------------- objections


async def test_unit_objection_upheld_returns_then_resubmission_reaches_the_unit(
    env: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.2: an objection upheld by the unit with outcome return sends the declaration back to
    the applicant; the resubmission goes to unit review; then the applicant withdraws."""
    d = await create(client, worker.task_queue, await now(env))
    await d.submit()
    await d.decide(f.UNIT, "unit_review", "approve")
    objection = await lodge(d)
    view = await d.send("resolve_objection", ObjectionResolutionCommand(
        actor=f.UNIT, objection_id=objection, upheld=True, opinion="情况属实",
        outcome="return"))  # fmt: skip
    assert view.state == "returned"
    view = await d.submit()
    assert view.state == "unit_review"
    await d.send("withdraw", WithdrawCommand(actor=f.APPLICANT, reason="放弃申报"))
    await ended(d, "withdrawn")
    await record_history(d, "unit_objection_upheld_returned")


async def test_unit_objection_upheld_with_rejection_is_rejected(
    env: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.2: an objection upheld with outcome reject ends the declaration as rejected."""
    d = await create(client, worker.task_queue, await now(env))
    await d.submit()
    await d.decide(f.UNIT, "unit_review", "approve")
    objection = await lodge(d)
    await d.send("resolve_objection", ObjectionResolutionCommand(
        actor=f.UNIT, objection_id=objection, upheld=True, opinion="情况属实",
        outcome="reject"))  # fmt: skip
    await ended(d, "rejected")
    await record_history(d, "unit_objection_upheld_rejected")


async def test_result_objection_upheld_is_not_approved(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.9 (40号令): the committee upholds an objection to the result: not_approved."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env))
    await to_result_publicity(d, env)
    objection = await lodge(d)
    await d.send("resolve_objection", ObjectionResolutionCommand(
        actor=f.COMMITTEE, objection_id=objection, upheld=True, opinion="经核实属实"))  # fmt: skip
    await ended(d, "not_approved")
    await record_history(d, "result_objection_upheld_not_approved")


# --------------------------------------------------------------------------- defense, vote, result


async def test_failed_defense_is_defense_failed(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.7 (000 答辩不合格者一票否决)."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env))
    await to_committee(d, env)
    view = await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    await d.send("record_materials_received",
                 MaterialsReceivedCommand(actor=f.COMMITTEE, form_id=view.materials.form_id))  # fmt: skip
    view = await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=550,
                                                         receipt_no="R-2"))  # fmt: skip
    assert view.state == "defense_pending"
    await d.send("record_defense", DefenseCommand(actor=f.COMMITTEE, passed=False, mode="phone",
                                                  opinion="答辩不合格"))  # fmt: skip
    await ended(d, "defense_failed")
    await record_history(d, "defense_failed")


async def test_vote_below_two_thirds_is_not_approved(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.8 (40号令): quorum met, fewer than 2/3 in favour: not_approved."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env))
    await to_committee_review(d, env)
    await d.send("record_vote", VoteCommand(actor=f.COMMITTEE, **FAILING_VOTE))
    await ended(d, "not_approved")
    await record_history(d, "vote_failed_not_approved")


async def test_result_confirmation_before_announcement_certifies(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§10.7 (40号令 审核确认): with result_confirmation_required the result waits for the
    confirmation after its publicity, then is announced: certified."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env),
                     result_confirmation_required=True)  # fmt: skip
    view = await to_result_publicity(d, env)
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(client, d.id, "result_confirmation")
    view = await d.send("confirm_result", ResultConfirmationCommand(
        actor=f.ADMIN, confirmed=True, opinion="审核确认"))  # fmt: skip
    assert view.state == "certified" and view.result is not None
    await record_history(d, "result_confirmation_certified")


# --------------------------------------------------------------------------- misconduct, fees


async def test_misconduct_during_unit_publicity_disqualifies(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """§2 end (000, 002-004 弄虚作假): misconduct before certification: disqualified, and the
    applicant and the unit at fault are barred; the running publicity is closed as
    interrupted (patch ``close-interrupted-publicity``)."""
    d = await create(client, worker.task_queue, await now(env))
    await d.submit()
    await d.decide(f.UNIT, "unit_review", "approve")
    await d.send("record_misconduct", MisconductCommand(
        actor=f.COUNTY, finding="伪造业绩材料", unit_at_fault=True))  # fmt: skip
    await ended(d, "disqualified")
    assert publicities(settings, d.id) == [("unit_publicity", "interrupted")]
    await record_history(d, "misconduct_disqualified_patched")


async def test_misconduct_after_certification_revokes(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2 end: misconduct found after certification revokes the certificate (撤销)."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env))
    view = await to_result_publicity(d, env)
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(client, d.id, "certified")
    await d.send("record_misconduct", MisconductCommand(actor=f.COMMITTEE, finding="论文抄袭"))
    await ended(d, "revoked")
    await record_history(d, "misconduct_revoked")


async def test_late_fee_with_committee_decides_is_flagged_then_rejected(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§3 fee deadline with ``late_payment: committee_decides``: the deadline flags the
    declaration for the committee instead of abandoning it; the committee then refuses it."""
    env = time_skipping
    start = await now(env)
    deadline = start + timedelta(days=70)
    d = await create(client, worker.task_queue, start, fee_deadline=deadline,
                     late_payment="committee_decides", paper_materials_required=False)  # fmt: skip
    await to_committee(d, env)
    await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    await skip_to(env, after(deadline, minutes=1))
    view = await wait_for(client, d.id, lambda v: v.fee.late)
    assert view.state == "fee_pending" and "fee_late" in view.flags
    await d.decide(f.COMMITTEE, "fee_pending", "reject", opinion="逾期未缴费")
    await ended(d, "abandoned")
    await record_history(d, "fee_late_committee_decides")


# --------------------------------------------------------------------------- withdrawal


async def test_withdrawal_during_unit_publicity_closes_it(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """§2 end: the applicant may withdraw at any stage before certification, also while the
    unit publicity runs; that publicity is then closed as interrupted (patch
    ``close-interrupted-publicity``), not left open for an ended declaration."""
    d = await create(client, worker.task_queue, await now(env))
    await d.submit()
    await d.decide(f.UNIT, "unit_review", "approve")
    await d.send("withdraw", WithdrawCommand(actor=f.APPLICANT, reason="个人原因"))
    await ended(d, "withdrawn")
    assert publicities(settings, d.id) == [("unit_publicity", "interrupted")]
    await record_history(d, "withdrawn_during_unit_publicity_patched")


async def test_declaration_deadline_during_unit_publicity_abandons(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings
) -> None:
    """§3 declaration deadline (001 视为放弃): it also ends a declaration whose unit publicity
    is still running when the window closes; the publicity is closed as interrupted."""
    env = time_skipping
    start = await now(env)
    closes = start + timedelta(hours=30)
    d = await create(client, worker.task_queue, start, declaration_closes_at=closes)
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "approve")
    assert view.state == "unit_publicity"
    assert after(view.deadlines.publicity_ends) > closes
    await skip_to(env, closes + timedelta(minutes=1))
    await ended(d, "abandoned")
    assert publicities(settings, d.id) == [("unit_publicity", "interrupted")]
    await record_history(d, "declaration_deadline_during_unit_publicity_patched")
