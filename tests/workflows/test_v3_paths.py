"""The routes a notice opens and the version 3 rules (docs/rules.md §3, §12), each run on Temporal
(time-skipping) to its end and stored as a history that CI replays
(tests/workflows/test_history_and_replay.py, with REVIEWCHAIN_RECORD_HISTORIES=1 to record).

Routes: 援疆 (002 五(五), 003 五(四), 004 三(三)), 委托评审 (002 五(四)), 直接认定 (004 附件2 三(二)),
初次确定 (003 一, 八) and 民营企业专项 (001 二(二)). Rules: late acceptance (§2.6), 再上报 without a
second publicity (§3), the review closed by the committee (§3), an extension that reopens what a
deadline ended (§3), the unit's bar read when it decides (§2 end), the vote on members present
(§2.8) and confirmation by the confirming body (§2.10).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import (
    Actor,
    Attachment,
    CampaignDeadlines,
    CloseReviewCommand,
    DeadlineChangeCommand,
    DefenseCommand,
    MaterialsReceivedCommand,
    MisconductCommand,
    PaymentCommand,
    Reopening,
    RoutePolicy,
    ServiceYear,
    SubmitCommand,
    VoteCommand,
    WithdrawCommand,
)
from gateway import DecisionRefused
from testing import factories as f
from testing.declarations import Declaration, after, create, now, skip_to, wait_for, wait_state
from tests.workflows.helpers import record_history
from workflows.client import reopen_declaration

CONFIRMER = Actor(id="hr-confirmer", role="authority_reviewer", org="xj-hr")
SENDER = Actor(id="sending-reviewer", role="unit_reviewer", org="SEND-001")
EMPLOYMENT = Actor(id="pes-reviewer", role="authority_reviewer", org="aks-employment-service")
LETTER = Attachment(ref="scan://entrustment.pdf", sha256=hashlib.sha256(b"letter").hexdigest())
V3: dict[str, Any] = {"correction_window_days": None, "max_committee_submissions": None,
      "deadline_applies_to": "applicant_submit"}  # fmt: skip


async def route_declaration(
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    route: str,
    *,
    chain: list[str] | None = None,
    **fields: Any,
) -> Declaration:
    at = await now(env)
    routes = {"directed": RoutePolicy(), route: RoutePolicy(fees={"intermediate": 380})}
    c = f.campaign(at, routes=routes, confirming_org="xj-hr", **V3)
    decl = f.declaration(c, "intermediate", route=route, authority_chain=chain or [], **fields)
    return await create(client, worker.task_queue, at, campaign=c, decl=decl)


async def through_unit_publicity(d: Declaration, env: WorkflowEnvironment, unit: Actor) -> None:
    view = await d.decide(unit, "unit_review", "approve", opinion="材料真实完整")
    assert view.state == "unit_publicity"
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(d.client, d.id, "unit_recommendation")
    await d.decide(unit, "unit_recommendation", "approve", publicity_result_ref="公示结果-1")


async def accepted_to_the_end(
    d: Declaration, env: WorkflowEnvironment, *, votes: bool, fee: int = 380
) -> None:
    """Formal acceptance, fee, paper, (the vote), the result publicity, certified."""
    view = await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=fee, receipt_no="R-1"))
    view = await d.send("record_materials_received",
                        MaterialsReceivedCommand(actor=f.COMMITTEE, form_id=view.materials.form_id))  # fmt: skip
    if votes:
        assert view.state == "committee_review"
        view = await d.send("record_vote", VoteCommand(
            actor=f.COMMITTEE, attending=20, in_favor=18, against=1, abstain=1))  # fmt: skip
    assert view.state == "result_publicity"
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(d.client, d.id, "certified")


# --------------------------------------------------------------------------- routes


async def test_aid_xinjiang_route_certifies_without_unit_publicity_or_authorities(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§12 援疆 (004 三(三) 经派出单位（原所在单位）审核同意，即可申报): the sending unit's approval
    is the recommendation; then the committee as usual."""
    env = time_skipping
    d = await route_declaration(env, client, worker, "aid_xinjiang", unit_id="SEND-001")
    await d.submit()
    view = await d.decide(SENDER, "unit_review", "approve", opinion="同意申报")
    assert view.state == "committee_formal_review" and view.fee.due == 380
    await accepted_to_the_end(d, env, votes=True)
    await record_history(d, "route_aid_xinjiang_certified")


async def test_entrusted_route_certifies_after_the_letter_is_approved(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§12 委托评审 (002 五(四)): no submission without the letter; the confirming body approves
    it; then the unit's review and the usual chain."""
    env = time_skipping
    d = await route_declaration(env, client, worker, "entrusted")
    with pytest.raises(DecisionRefused, match="委托评审函"):
        await d.submit()
    view = await d.send("submit", SubmitCommand(actor=f.APPLICANT, entrustment=LETTER))
    assert view.state == "entrustment_review"
    assert view.pending is not None and view.pending.org == "xj-hr"
    await d.decide(CONFIRMER, "entrustment_review", "approve", opinion="同意委托评审")
    await through_unit_publicity(d, env, f.UNIT)
    await wait_state(client, d.id, "committee_formal_review")
    await accepted_to_the_end(d, env, votes=True)
    await record_history(d, "route_entrusted_certified")


async def test_direct_recognition_route_certifies_without_defense_or_vote(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§12 直接认定 (004 附件2 三(二) 可直接认定高一级职称): no defense, no vote."""
    env = time_skipping
    years = [ServiceYear(year=y, place="乡镇") for y in (2021, 2022, 2023)]
    d = await route_declaration(env, client, worker, "direct_recognition", chain=["county-hr"],
                                service_years=years)  # fmt: skip
    await d.submit()
    await through_unit_publicity(d, env, f.UNIT)
    await d.decide(f.COUNTY, "authority_review", "approve")
    await accepted_to_the_end(d, env, votes=False)
    await record_history(d, "route_direct_recognition_certified")


async def test_initial_determination_route_certifies_on_unit_committee_fee_and_publicity(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§12 初次确定 (003 一, 八; intermediate 380): no unit publicity, authority, defense or vote."""
    env = time_skipping
    d = await route_declaration(env, client, worker, "initial_determination")
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "approve")
    assert view.state == "committee_formal_review"
    await accepted_to_the_end(d, env, votes=False)
    await record_history(d, "route_initial_determination_certified")


async def test_private_enterprise_route_goes_through_its_fixed_chain(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§12 民营企业专项 (001 二(二) 同级公共就业服务机构)."""
    env = time_skipping
    d = await route_declaration(env, client, worker, "private_enterprise",
                                chain=["aks-employment-service"])  # fmt: skip
    await d.submit()
    await through_unit_publicity(d, env, f.UNIT)
    with pytest.raises(DecisionRefused, match="aks-employment-service"):
        await d.decide(f.COUNTY, "authority_review", "approve")
    await d.decide(EMPLOYMENT, "authority_review", "approve")
    await accepted_to_the_end(d, env, votes=True)
    await record_history(d, "route_private_enterprise_certified")


# --------------------------------------------------------------------------- v3 rules


async def test_late_acceptance_is_refused_until_the_committee_extends_the_fee_deadline(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.6 (003: fee window 9/18-9/20 while the online window closes 9/18): acceptance with
    less than a working day left is refused (409, audited) and the file is kept; the committee
    extends the deadline, then accepts."""
    env = time_skipping
    at = await now(env)
    fee, closes = at + timedelta(days=40), at + timedelta(days=30)
    d = await create(client, worker.task_queue, at, fee_deadline=fee, declaration_closes_at=closes,
                     **V3)  # fmt: skip
    await d.submit()
    await through_unit_publicity(d, env, f.UNIT)
    await d.decide(f.COUNTY, "authority_review", "approve")
    view = await d.decide(f.PREFECTURE, "authority_review", "approve")
    assert view.state == "committee_formal_review"
    await skip_to(env, fee - timedelta(hours=2))
    view = await wait_for(client, d.id, lambda v: v.at_risk)
    with pytest.raises(DecisionRefused, match="不足1个工作日") as refused:
        await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    assert refused.value.code == "decide.late_acceptance"
    moved = CampaignDeadlines(declaration_closes_at=closes, fee_deadline=fee + timedelta(days=20))
    changed = await now(env)
    await d.send("change_deadlines", DeadlineChangeCommand(
        actor=f.COMMITTEE, deadlines=moved, changed_at=changed))  # fmt: skip
    view = await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    assert view.state == "fee_pending"
    await record_history(d, "late_acceptance_refused_then_extended")


async def test_reconfirmation_skips_the_second_publicity(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§3 (002/003 经修改后再上报): the unit re-confirms a declaration that passed its publicity:
    no second publicity."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env), resubmit_to="unit", **V3)
    await d.submit()
    await through_unit_publicity(d, env, f.UNIT)
    await d.decide(f.COUNTY, "authority_review", "return")
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "approve")
    assert view.state == "unit_recommendation"
    await record_history(d, "reconfirmation_without_second_publicity")


async def test_closing_the_review_ends_a_returned_declaration(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§3: no correction window and no review window: the committee's close-review ends it."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env), **V3)
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "return")
    assert view.state == "returned" and view.deadlines.correction is None
    await d.send("close_review", CloseReviewCommand(actor=f.COMMITTEE, closed_at=await now(env)))
    assert (await d.handle.result()).state == "not_accepted"
    await record_history(d, "review_closed_not_accepted")


async def test_an_extension_reopens_a_declaration_the_deadline_abandoned(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§3 延期 reopen: a draft abandoned at the declaration deadline continues, as a draft, in a
    new run under the same workflow id, its audit chain counted on."""
    env = time_skipping
    at = await now(env)
    closes = at + timedelta(days=3)
    d = await create(client, worker.task_queue, at, declaration_closes_at=closes, **V3)
    await skip_to(env, closes + timedelta(hours=1))
    ended = await d.handle.result()
    assert ended.state == "abandoned"
    await record_history(d, "reopened_run1_abandoned")
    later = closes + timedelta(days=20)
    deadlines = CampaignDeadlines.of(f.campaign(at, declaration_closes_at=later, **V3))
    reopening = Reopening(actor=f.COMMITTEE, at=await now(env), change_id="chg-1",
                          ended_by="timer.declaration_deadline", resume="draft",
                          deadlines=deadlines)  # fmt: skip
    assert await reopen_declaration(client, worker.task_queue, d.id, reopening)
    view = await wait_state(client, d.id, "draft")
    assert view.version == ended.version + 1
    assert not await reopen_declaration(client, worker.task_queue, d.id, reopening)
    view = await d.submit()
    assert view.state == "unit_review"
    await d.send("withdraw", WithdrawCommand(actor=f.APPLICANT))
    await record_history(d, "reopened_run2_withdrawn")


async def test_the_units_bar_is_read_when_the_unit_approves(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2 (end): a unit barred for fraud after a declaration was submitted may not approve it."""
    env = time_skipping
    at = await now(env)
    c = f.campaign(at, **V3)
    d = await create(client, worker.task_queue, at, campaign=c)
    await d.submit()
    cheat = await create(client, worker.task_queue, at, campaign=c,
                         decl=f.declaration(c, applicant=f.applicant()))  # fmt: skip
    await cheat.send("record_misconduct", MisconductCommand(
        actor=f.COMMITTEE, finding="单位出具虚假证明", unit_at_fault=True))  # fmt: skip
    with pytest.raises(DecisionRefused, match="may not recommend") as refused:
        await d.decide(f.UNIT, "unit_review", "approve")
    assert refused.value.code == "decide.unit_barred"
    view = await d.decide(f.UNIT, "unit_review", "reject", opinion="单位被限制推荐")
    assert view.state == "rejected"
    await record_history(d, "unit_barred_at_decision")


async def test_a_recusal_among_17_present_is_a_valid_vote_and_the_confirming_body_confirms(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """§2.8: 17 present of 25, one recused: 16 vote, 12 in favour passes; §2.10 the result is
    confirmed by a reviewer of the campaign's confirming body, never the committee itself."""
    env = time_skipping
    d = await create(client, worker.task_queue, await now(env),
                     result_confirmation_required=True, confirming_org="xj-hr", **V3)  # fmt: skip
    await d.submit()
    await through_unit_publicity(d, env, f.UNIT)
    await d.decide(f.COUNTY, "authority_review", "approve")
    await d.decide(f.PREFECTURE, "authority_review", "approve")
    view = await d.decide(f.COMMITTEE, "committee_formal_review", "approve")
    await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    await d.send("record_materials_received",
                 MaterialsReceivedCommand(actor=f.COMMITTEE, form_id=view.materials.form_id))  # fmt: skip
    await d.send("record_defense", DefenseCommand(actor=f.COMMITTEE, passed=True, mode="onsite"))
    view = await d.send("record_vote", VoteCommand(
        actor=f.COMMITTEE, attending=17, in_favor=12, against=4, abstain=0, recused=["E17"]))  # fmt: skip
    assert view.state == "result_publicity" and view.vote is not None and view.vote.passed
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(client, d.id, "result_confirmation")
    with pytest.raises(DecisionRefused, match="xj-hr"):
        await d.decide(f.COMMITTEE, "result_confirmation", "approve")
    view = await d.decide(CONFIRMER, "result_confirmation", "approve", opinion="审核确认")
    assert view.state == "certified"
    await record_history(d, "vote_on_present_confirmed_by_confirming_body")
