"""Every path of the chain (docs/rules.md §2-§3), on the pure state machine.

The Temporal tests (tests/workflows) prove the same machine runs durably with real timers; these
prove each rule quickly and exactly. Times are Beijing time in 2024, a year with official data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.chain import view
from domain.models import (
    CampaignDeadlines,
    DeadlineChangeCommand,
    DecisionCommand,
    DefenseCommand,
    MaterialsReceivedCommand,
    MisconductCommand,
    ObjectionCommand,
    ObjectionResolutionCommand,
    PaymentCommand,
    ResultConfirmationCommand,
    ScreeningResult,
    SubmitCommand,
    VoteCommand,
    WithdrawCommand,
)
from domain.states import StateName as S
from testing import factories as f
from tests.chain.driver import Driver

BJ = ZoneInfo("Asia/Shanghai")
#: Thursday 2024-07-25 10:00, inside 001's declaration window (7-22 .. 8-30).
NOW = datetime(2024, 7, 25, 10, 0, tzinfo=BJ)


def decide(actor, stage, outcome, **kw):
    if outcome != "approve" and "opinion" not in kw and "reasons" not in kw:
        kw["reasons"] = ["missing_material"]
    return DecisionCommand(actor=actor, stage=stage, outcome=outcome, **kw)


def submit(d: Driver) -> None:
    d.do(SubmitCommand(actor=f.APPLICANT))


def through_unit(d: Driver) -> None:
    """unit_review → unit_publicity → (5 working days) → unit_recommendation → recommended."""
    d.do(decide(f.UNIT, "unit_review", "approve", opinion="材料真实完整"))
    assert d.state == S.unit_publicity
    d.advance_to(d.chain.s.computed["publicity_ends"].at)
    assert d.state == S.unit_recommendation
    d.do(decide(f.UNIT, "unit_recommendation", "approve",
                          opinion="本单位已对申报材料逐一审核，…同意推荐",
                          publicity_result_ref="公示结果-001"))  # fmt: skip


def to_committee(d: Driver) -> None:
    submit(d)
    through_unit(d)
    d.do(decide(f.COUNTY, "authority_review", "approve"))
    d.do(decide(f.PREFECTURE, "authority_review", "approve"))
    assert d.state == S.committee_formal_review


def vote(attending=20, in_favor=15, against=3, abstain=2, recused=()):
    return VoteCommand(actor=f.COMMITTEE, attending=attending, in_favor=in_favor,
                       against=against, abstain=abstain, recused=list(recused))  # fmt: skip


def to_certified(d: Driver) -> None:
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    d.do(MaterialsReceivedCommand(actor=f.COMMITTEE, form_id="RF-1"))
    d.do(DefenseCommand(actor=f.COMMITTEE, passed=True, mode="video"))
    d.do(vote())
    d.advance_to(d.chain.s.computed["publicity_ends"].at)


def test_full_chain_001_happy_path_reaches_certified_with_every_stage_audited():
    """§2 the chain, 001: unit → publicity → recommendation → two authorities → committee →
    fee + materials → defense (副高) → vote → result publicity → certified."""
    d = Driver(NOW)
    to_certified(d)
    assert d.state == S.certified
    assert d.chain.s.result is not None and d.chain.s.result.certificate_no == "C-1"
    states = [e.stage_after for e in d.audit if e.stage_after != e.stage_before]
    assert states == [
        "draft", "unit_review", "unit_publicity", "unit_recommendation", "authority_review",
        "committee_formal_review", "fee_pending", "materials_pending",
        "defense_pending", "committee_review", "result_publicity", "certified",
    ]  # fmt: skip
    assert [e.seq for e in d.audit] == list(range(1, len(d.audit) + 1))
    assert d.chain.s.defense.venue is None  # 001 names no venue (docs/rules.md §5: open)


def test_unit_publicity_is_five_working_days_and_ends_at_2400_of_the_fifth_000_004():
    """§2.2 unit publicity ≥ 5 working days (000-004), §7 counting: approved Thu 2024-07-25
    → Fri 26, Mon 29, Tue 30, Wed 31, Thu 08-01 → ends 2024-08-02 00:00."""
    d = Driver(NOW)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "approve"))
    ends = d.chain.s.computed["publicity_ends"]
    assert ends.at == datetime(2024, 8, 2, 0, 0, tzinfo=BJ)
    d.advance_to(ends.at - timedelta(minutes=1))
    assert d.state == S.unit_publicity
    d.advance(timedelta(minutes=2))
    assert d.state == S.unit_recommendation


def test_recommendation_is_signed_by_a_person_and_needs_the_publicity_result_000_002_004():
    """§2.3 the unit's recommendation is never automatic and cites the publicity result."""
    d = Driver(NOW)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "approve"))
    d.advance(timedelta(days=14))
    assert d.state == S.unit_recommendation
    reason = d.refuse(decide(f.UNIT, "unit_recommendation", "approve"))
    assert "公示结果" in reason
    assert d.audit[-1].outcome == "refused" and d.audit[-1].action == "decide"


def test_objection_during_unit_publicity_holds_the_declaration_until_resolved_000_004():
    """§2.2 objections during unit publicity: dismissed → it goes on after the period."""
    d = Driver(NOW)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "approve"))
    step = d.do(ObjectionCommand(actor=f.ANYONE, text="业绩材料存疑"))
    oid = step.result["objection_id"]
    d.advance(timedelta(days=14))
    assert d.state == S.unit_publicity  # ended, but an objection is open
    reason = d.refuse(ObjectionCommand(actor=f.ANYONE, text="too late"))
    assert "公示期已结束" in reason
    d.do(ObjectionResolutionCommand(actor=f.UNIT, objection_id=oid, upheld=False,
                                               opinion="经核实无误"))  # fmt: skip
    assert d.state == S.unit_recommendation


@pytest.mark.parametrize(("outcome", "final"), [("return", S.returned), ("reject", S.rejected)])
def test_upheld_unit_publicity_objection_returns_or_rejects_as_the_unit_says(outcome, final):
    """§2.2 upheld objection: returned or rejected, as the unit says."""
    d = Driver(NOW)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "approve"))
    oid = d.do(ObjectionCommand(actor=f.ANYONE, text="x")).result["objection_id"]
    assert "须选择" in d.refuse(
        ObjectionResolutionCommand(actor=f.UNIT, objection_id=oid, upheld=True)
    )
    d.do(ObjectionResolutionCommand(actor=f.UNIT, objection_id=oid, upheld=True,
                                               outcome=outcome, opinion="属实"))  # fmt: skip
    assert d.state == final


def test_unit_return_then_resubmission_goes_back_to_the_unit_001():
    """§3 resubmit_to returner (001): a unit return comes back to unit review."""
    d = Driver(NOW)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return", reasons=["unclear_scan"]))
    assert d.state == S.returned and d.chain.s.returned_from == "unit_review"
    submit(d)
    assert d.state == S.unit_review


def test_authority_return_goes_back_to_the_same_authority_level_001():
    """§3 resubmit_to returner: the second authority level returned it, so it goes back there."""
    d = Driver(NOW)
    submit(d)
    through_unit(d)
    d.do(decide(f.COUNTY, "authority_review", "approve"))
    d.do(decide(f.PREFECTURE, "authority_review", "return"))
    submit(d)
    assert d.state == S.authority_review and d.chain.s.authority_index == 1
    assert view.pending_org(d.chain) == "prefecture-transport"


def test_resubmit_to_unit_sends_every_resubmission_to_the_unit_002_003():
    """§3 resubmit_to: unit (a reading of 002/003 where the unit re-confirms changed items)."""
    d = Driver(NOW, resubmit_to="unit")
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "return"))
    submit(d)
    assert d.state == S.unit_review


def test_committee_return_counts_a_new_submission_and_the_third_return_ends_it_001():
    """§2.5 at most 3 submissions to the committee (001): a return on the 3rd → not_accepted."""
    d = Driver(NOW)
    to_committee(d)
    for n in (1, 2):
        assert d.chain.s.committee_submissions == n
        d.do(decide(f.COMMITTEE, "committee_formal_review", "return"))
        assert d.state == S.returned
        submit(d)
        assert d.state == S.committee_formal_review
    assert d.chain.s.committee_submissions == 3
    d.do(decide(f.COMMITTEE, "committee_formal_review", "return"))
    assert d.state == S.not_accepted


def test_applicant_scope_counts_every_submission_by_the_applicant_004():
    """§2.5 submission_cap_scope applicant (004): the cap applies to the applicant's submissions."""
    d = Driver(NOW, submission_cap_scope="applicant", max_committee_submissions=2)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return"))
    submit(d)
    assert d.chain.s.applicant_submissions == 2
    d.do(decide(f.UNIT, "unit_review", "return"))
    assert d.state == S.not_accepted


def test_committee_formal_rejection_is_not_accepted_001():
    """docs/rules.md §2.5: not_accepted is the committee's formal rejection (不予受理)."""
    d = Driver(NOW)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "reject"))
    assert d.state == S.not_accepted


def test_unit_or_authority_rejection_is_rejected():
    """§2 any review stage may reject: unit or authority → rejected."""
    d = Driver(NOW)
    submit(d)
    through_unit(d)
    d.do(decide(f.COUNTY, "authority_review", "reject", opinion="不符合条件"))
    assert d.state == S.rejected


def test_correction_window_two_days_civil_code_expiry_is_not_accepted_001():
    """§3 correction window (001 退回后2日内; 民法典201/203): returned Thu 07-25 10:00 → due
    Sat 07-27 24:00 is not a working day → Mon 07-29 24:00; a minute later: not_accepted."""
    d = Driver(NOW)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return"))
    due = d.chain.s.computed["correction"].at
    assert due == datetime(2024, 7, 30, 0, 0, tzinfo=BJ)
    d.advance_to(due - timedelta(minutes=1))
    assert d.state == S.returned
    d.advance(timedelta(minutes=2))
    assert d.state == S.not_accepted
    assert d.audit[-1].action == "timer.correction_window" and d.audit[-1].actor_id == "system"


def test_resubmission_after_the_correction_window_is_refused_001():
    """§3 the correction window closes the resubmission."""
    d = Driver(NOW)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return"))
    d.now = d.chain.s.computed["correction"].at  # the instant itself: closed
    assert "退回修改期限已过" in d.refuse(SubmitCommand(actor=f.APPLICANT))


def test_correction_deadline_never_runs_past_the_review_window_001():
    """§3 with review_closes_at (001 审核时间…9月10日) a correction deadline is capped by it."""
    closes = NOW + timedelta(days=1)
    d = Driver(NOW, declaration_closes_at=closes, review_closes_at=closes + timedelta(hours=2))
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return"))
    assert d.chain.s.computed["correction"].at == closes + timedelta(hours=2)


def test_declaration_deadline_abandons_a_declaration_before_the_committee_001():
    """§3 declaration deadline (001 一(一) 视为放弃): still at the unit → abandoned."""
    d = Driver(NOW)
    submit(d)
    closes = d.chain.s.deadlines.declaration_closes_at
    d.advance_to(closes - timedelta(minutes=1))
    assert d.state == S.unit_review
    d.advance(timedelta(minutes=2))
    assert d.state == S.abandoned


def test_declaration_deadline_while_returned_is_not_accepted_001():
    """§3 (001 退回后超过申报时限的不予受理): waiting in returned at the deadline → not_accepted."""
    closes = NOW + timedelta(hours=20)
    d = Driver(NOW, declaration_closes_at=closes)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return"))
    d.advance_to(closes + timedelta(minutes=1))
    assert d.state == S.not_accepted
    assert d.audit[-1].action == "timer.declaration_deadline"


def test_declaration_deadline_does_not_touch_a_declaration_that_reached_the_committee_001():
    """§3 only a declaration that has not reached formal review for the first time ends; a
    committee return after the deadline keeps its own correction window."""
    d = Driver(NOW)
    to_committee(d)
    d.advance_to(d.chain.s.deadlines.declaration_closes_at + timedelta(hours=1))
    assert d.state == S.committee_formal_review
    d.do(decide(f.COMMITTEE, "committee_formal_review", "return"))
    assert d.state == S.returned
    submit(d)  # a resubmission inside an open correction window after the deadline
    assert d.state == S.committee_formal_review


def test_deadline_applies_to_applicant_submit_abandons_only_never_submitted_004():
    """§3 deadline_applies_to applicant_submit (004): only a never-submitted draft is abandoned."""
    d = Driver(NOW, deadline_applies_to="applicant_submit")
    submit(d)
    d.advance_to(d.chain.s.deadlines.declaration_closes_at + timedelta(hours=1))
    assert d.state == S.unit_review
    d2 = Driver(NOW, deadline_applies_to="applicant_submit")
    d2.advance_to(d2.chain.s.deadlines.declaration_closes_at + timedelta(hours=1))
    assert d2.state == S.abandoned


def test_first_submission_outside_the_declaration_window_is_refused_001():
    """§2.1 the first submission is refused outside the declaration window."""
    d = Driver(NOW, declaration_opens_at=NOW + timedelta(days=1),
               declaration_closes_at=NOW + timedelta(days=30))  # fmt: skip
    assert "尚未开始" in d.refuse(SubmitCommand(actor=f.APPLICANT))


def test_only_the_filer_may_submit_or_withdraw():
    """§2.1 the account that files it is the token's sub."""
    d = Driver(NOW)
    other = f.APPLICANT.model_copy(update={"id": "someone-else"})
    assert d.refusal(SubmitCommand(actor=other))
    assert d.refusal(WithdrawCommand(actor=other))


def test_barred_unit_cannot_approve_or_recommend_blacklist():
    """§2 end: a unit found at fault may not recommend for unit_years: approvals refused."""
    barred = ScreeningResult(unit_barred_until=NOW + timedelta(days=365))
    d = Driver(NOW, screening=barred)
    submit(d)
    reason = d.refuse(decide(f.UNIT, "unit_review", "approve"))
    assert "限制推荐" in reason
    d.do(decide(f.UNIT, "unit_review", "reject", opinion="不予推荐"))
    assert d.state == S.rejected


def test_wrong_unit_or_authority_level_cannot_decide():
    """谁审查，谁负责: only the body holding the declaration decides."""
    d = Driver(NOW)
    submit(d)
    assert d.refusal(decide(f.OTHER_UNIT, "unit_review", "approve"))
    through_unit(d)
    assert d.refusal(decide(f.PREFECTURE, "authority_review", "approve"))


def test_decision_for_another_stage_is_refused_with_the_current_stage_named():
    """docs/rules.md §16, 409: a call that does not fit the current state names the state."""
    d = Driver(NOW)
    submit(d)
    reason = d.refuse(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    assert "单位审核" in reason and "unit_review" in reason


def test_return_without_opinion_or_reason_is_refused_10_4():
    """§10.4 returns carry reason codes or text."""
    d = Driver(NOW)
    submit(d)
    cmd = DecisionCommand(actor=f.UNIT, stage="unit_review", outcome="return")
    assert "须写明" in d.refuse(cmd)


def test_fee_and_materials_run_in_parallel_materials_first_001_003():
    """§2.6 acceptance opens fee and paper at once; materials may arrive before the fee."""
    d = Driver(NOW)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    assert d.state == S.fee_pending and d.chain.s.form_id == "RF-1"
    d.do(MaterialsReceivedCommand(actor=f.COMMITTEE, form_id="RF-1"))
    assert d.state == S.fee_pending
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-9"))
    assert d.state == S.defense_pending


def test_payment_must_equal_the_fee_due_001():
    """§4 fees (001 高级550元): a different amount is refused with a clear message."""
    d = Driver(NOW)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    reason = d.refuse(PaymentCommand(actor=f.FINANCE, amount=500, receipt_no="R-1"))
    assert "550" in reason and "500" in reason


def test_same_receipt_twice_has_no_second_effect_000_002():
    """§2.6 the same (declaration, receipt) twice has no second effect."""
    d = Driver(NOW)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    n = len(d.audit)
    step = d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    assert step.result == {"duplicate": True} and len(d.audit) == n
    assert d.refusal(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-2"))


def test_materials_form_id_must_match_the_issued_review_form_001_003_004():
    """§2.6 the office records receipt against the watermarked form id."""
    d = Driver(NOW)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    assert "RF-1" in d.refuse(MaterialsReceivedCommand(actor=f.COMMITTEE, form_id="RF-X"))


def test_no_paper_campaign_skips_materials_000():
    """§2 materials_pending is skipped where the campaign needs no paper (000)."""
    d = Driver(NOW, paper_materials_required=False)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    assert d.state == S.defense_pending


@pytest.mark.parametrize(("policy", "expected"), [("abandon", S.abandoned),
                                                    ("committee_decides", S.fee_pending)])  # fmt: skip
def test_fee_deadline_abandons_or_flags_for_the_committee(policy, expected):
    """§3 fee deadline: late_payment abandon (default) or committee_decides (flagged)."""
    d = Driver(NOW, fee_deadline=NOW + timedelta(days=70), late_payment=policy)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.advance_to(NOW + timedelta(days=70) - timedelta(minutes=1))
    assert d.state == S.fee_pending
    d.advance(timedelta(minutes=2))
    assert d.state == expected
    if policy == "committee_decides":
        assert "fee_late" in d.chain.s.flags
        d.do(decide(f.COMMITTEE, "fee_pending", "reject", opinion="逾期未缴费"))
        assert d.state == S.abandoned


def test_materials_deadline_abandons_when_paper_is_missing_001():
    """§3 materials deadline with late_materials abandon."""
    d = Driver(NOW, materials_deadline=NOW + timedelta(days=70))
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    assert d.state == S.materials_pending
    d.advance_to(NOW + timedelta(days=70, minutes=1))
    assert d.state == S.abandoned


def test_exempt_level_skips_defense_001():
    """§5 001: intermediate and below are exempt from defense."""
    d = Driver(NOW, paper_materials_required=False)
    d.decl = f.declaration(d.campaign, level="intermediate")
    d2 = Driver(NOW, decl=d.decl, paper_materials_required=False)
    to_committee(d2)
    d2.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d2.do(PaymentCommand(actor=f.FINANCE, amount=400, receipt_no="R-1"))
    assert d2.state == S.committee_review and d2.chain.s.defense.required is False


def test_onsite_venue_refuses_a_video_defense_000():
    """§5 000: units of 乌鲁木齐市 defend on site."""
    defense = {"required_levels": ["deputy_senior"], "onsite_affiliations": ["乌鲁木齐市"]}
    base = f.campaign(NOW)
    decl = f.declaration(base, applicant=f.applicant(affiliation="乌鲁木齐市"))
    d = Driver(NOW, decl=decl, defense=defense, paper_materials_required=False)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    assert d.chain.s.defense.venue == "onsite"
    assert "现场答辩" in d.refuse(DefenseCommand(actor=f.COMMITTEE, passed=True,
                                                             mode="video"))  # fmt: skip


def test_failed_defense_is_a_veto_000():
    """§2.7 (000 答辩不合格者一票否决): defense_failed."""
    d = Driver(NOW, paper_materials_required=False)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    d.do(DefenseCommand(actor=f.COMMITTEE, passed=False, mode="phone"))
    assert d.state == S.defense_failed


def _at_meeting(d: Driver) -> None:
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=400, receipt_no="R-1"))
    assert d.state == S.committee_review


def _meeting_driver(**kw) -> Driver:
    base = f.campaign(NOW)
    return Driver(NOW, decl=f.declaration(base, level="intermediate"),
                  paper_materials_required=False, **kw)  # fmt: skip


def test_vote_without_quorum_is_refused_40hao():
    """§2.8 40号令: 出席专家不少于评审委员会人数的2/3 (25 members: 16 attending is short)."""
    d = _meeting_driver()
    _at_meeting(d)
    assert d.refuse(vote(attending=16, in_favor=12, against=4, abstain=0))
    assert d.state == S.committee_review


def test_vote_below_two_thirds_is_not_approved_40hao():
    """§2.8 40号令: 同意票数达到出席专家总数2/3以上 (17 attending, 11 in favour fails)."""
    d = _meeting_driver()
    _at_meeting(d)
    d.do(vote(attending=17, in_favor=11, against=6, abstain=0))
    assert d.state == S.not_approved
    assert d.chain.s.vote is not None and d.chain.s.vote.passed is False


def test_vote_record_keeps_quorum_tally_and_recusals_10_3():
    """§10.3 the vote record: quorum, tally, recusals (回避)."""
    d = _meeting_driver()
    _at_meeting(d)
    d.do(vote(attending=17, in_favor=11, against=5, abstain=0, recused=["expert-3"]))
    assert d.state == S.result_publicity
    rec = d.chain.s.vote
    assert rec is not None and rec.quorum_met and rec.passed and rec.recused == ["expert-3"]
    assert (rec.attending, rec.in_favor + rec.against + rec.abstain) == (17, 16)


def test_upheld_result_objection_is_not_approved_40hao():
    """§2.9 result publicity objections: upheld → not_approved."""
    d = _meeting_driver()
    _at_meeting(d)
    d.do(vote())
    oid = d.do(ObjectionCommand(actor=f.ANYONE, text="论文抄袭")).result["objection_id"]
    assert d.refusal(ObjectionResolutionCommand(actor=f.UNIT, objection_id=oid,
                                                           upheld=True))  # fmt: skip
    d.do(ObjectionResolutionCommand(actor=f.COMMITTEE, objection_id=oid, upheld=True))
    assert d.state == S.not_approved


def test_result_confirmation_before_announcement_10_7():
    """§10.7 result_confirmation_required: the body that set up the committee confirms first."""
    d = _meeting_driver(result_confirmation_required=True)
    _at_meeting(d)
    d.do(vote())
    d.advance(timedelta(days=20))
    assert d.state == S.result_confirmation
    d.do(ResultConfirmationCommand(actor=f.COMMITTEE, confirmed=True))
    assert d.state == S.certified


def test_withdraw_at_any_stage_before_certification():
    """§2 end: the applicant may withdraw at any stage before certified."""
    d = Driver(NOW)
    to_committee(d)
    d.do(WithdrawCommand(actor=f.APPLICANT, reason="个人原因"))
    assert d.state == S.withdrawn
    assert "已结束" in d.refuse(SubmitCommand(actor=f.APPLICANT))


def test_misconduct_disqualifies_before_and_revokes_after_certification_000_004():
    """§2 end: misconduct → disqualified before certification, revoked after; blacklisting."""
    d = Driver(NOW)
    submit(d)
    d.do(MisconductCommand(actor=f.COMMITTEE, finding="伪造业绩", unit_at_fault=True))
    assert d.state == S.disqualified
    assert any(e.kind == "blacklist" and e.unit_at_fault for e in d.effects_seen)
    d2 = _meeting_driver()
    _at_meeting(d2)
    d2.do(vote())
    d2.advance(timedelta(days=20))
    assert d2.state == S.certified
    assert d2.refusal(WithdrawCommand(actor=f.APPLICANT))
    d2.do(MisconductCommand(actor=f.COUNTY, finding="学历造假"))
    assert d2.state == S.revoked
    assert any(e.kind == "revoke_certificate" for e in d2.effects_seen)


def test_deadline_extension_rearms_the_declaration_timer_3():
    """§3 延期: every open declaration re-arms its timers to the new instants."""
    d = Driver(NOW)
    submit(d)
    old = d.chain.s.deadlines.declaration_closes_at
    new = old + timedelta(days=10)
    d.do(DeadlineChangeCommand(
        actor=f.ADMIN, deadlines=CampaignDeadlines(declaration_closes_at=new), changed_at=NOW))  # fmt: skip
    d.advance_to(old + timedelta(minutes=1))
    assert d.state == S.unit_review
    d.advance_to(new + timedelta(minutes=1))
    assert d.state == S.abandoned


def test_deadline_moved_earlier_takes_effect_no_earlier_than_24_hours_later_3():
    """§3 a deadline moved earlier takes effect no earlier than 24 hours after the change."""
    d = Driver(NOW)
    submit(d)
    d.do(DeadlineChangeCommand(
        actor=f.COMMITTEE, deadlines=CampaignDeadlines(declaration_closes_at=NOW + timedelta(hours=1)),
        changed_at=NOW))  # fmt: skip
    assert d.chain.s.deadlines.declaration_closes_at == NOW + timedelta(hours=24)
    d.advance(timedelta(hours=23, minutes=59))
    assert d.state == S.unit_review
    d.advance(timedelta(minutes=2))
    assert d.state == S.abandoned


def test_at_risk_when_fewer_working_days_remain_than_the_chain_needs_10_2():
    """§10.2 a unit publicity not yet started with fewer than 6 working days left is at risk
    (here 6 + 2 authority levels)."""
    d = Driver(NOW, declaration_closes_at=NOW + timedelta(days=14))
    submit(d)
    assert d.chain.s.at_risk is False
    d.advance(timedelta(days=6))
    assert d.chain.s.at_risk is True
    assert d.audit[-1].action in ("timer.at_risk", "at_risk.changed")
    assert any(n.kind == "action_required" and n.recipient_role == "unit_reviewer"
               for n in d.notifications[-2:])  # fmt: skip


def test_every_refusal_and_transition_is_one_audit_event_in_sequence_8():
    """§8 audit: every transition and every refused attempt, with actor, role and org."""
    d = Driver(NOW)
    submit(d)
    d.refuse(decide(f.OTHER_UNIT, "unit_review", "approve"))
    last = d.audit[-1]
    assert (last.outcome, last.actor_id, last.actor_role, last.actor_org) == (
        "refused",
        "unit-reviewer-9",
        "unit_reviewer",
        "U-999",
    )
    assert last.stage_before == last.stage_after == "unit_review"


def test_reminder_is_scheduled_24_hours_before_the_due_time_3():
    """§3 reminders: 24 hours before each deadline a notification goes to whoever must act."""
    d = Driver(NOW)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return"))
    due = d.chain.s.computed["correction"].at
    reminders = [n for n in d.notifications if n.kind == "deadline_reminder"
                 and n.send_after == due - timedelta(hours=24)]  # fmt: skip
    assert reminders and reminders[-1].recipient_role == "applicant"
