"""Rules as the notices write them (docs/rules.md v3), on the pure chain: no terminal rule unless
a notice sets it, late acceptance, no second publicity on 再上报, confirmed exemption categories,
confirmation by the confirming body, blind-review masking, bounded objections, flags
recomputed on correction, the committee's and finance's own campaigns, closing the review and
reopening what a deadline ended."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.models import (
    Actor,
    Appraisal,
    CampaignDeadlines,
    CloseReviewCommand,
    DecisionCommand,
    DefenseCommand,
    MaterialsReceivedCommand,
    ObjectionCommand,
    ObjectionResolutionCommand,
    PaymentCommand,
    Reopening,
    SubmitCommand,
    VoteCommand,
)
from domain.states import StateName as S
from testing import factories as f
from tests.chain.driver import Driver
from tests.chain.test_paths import NOW, decide, submit, through_unit, to_committee, vote

BJ = ZoneInfo("Asia/Shanghai")

#: A campaign with no terminal rule of 001's (the v3 defaults: 000, 002, 003, 004).
V3_DEFAULTS: dict[str, Any] = {
    "correction_window_days": None,
    "max_committee_submissions": None,
    "deadline_applies_to": "applicant_submit",
}


# --------------------------------------------------------------------------- terminal rules


def test_without_a_correction_window_a_return_lasts_until_the_review_closes_004():
    """§3 v3: 004 names no correction window; a unit return on 10-12 is not ended three days
    later. With ``review_closes_at`` the resubmission limit is that instant."""
    closes = NOW + timedelta(days=70)
    d = Driver(NOW, review_closes_at=closes, **V3_DEFAULTS)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return"))
    d.advance(timedelta(days=30))
    assert d.state == S.returned
    assert d.chain.s.computed["correction"].at == closes
    assert d.chain.s.computed["correction"].explanation.rule == "resubmission_limit"
    submit(d)
    assert d.state == S.unit_review


def test_without_any_review_window_the_return_waits_for_the_committee_to_close_the_review():
    """§3 v3: no window and no ``review_closes_at``: no timer ends it; the committee's
    close-review ends a still-returned declaration as not_accepted, and nothing else."""
    d = Driver(NOW, **V3_DEFAULTS)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return"))
    assert d.chain.next_timer() is None
    d.advance(timedelta(days=200))
    assert d.state == S.returned
    d.do(CloseReviewCommand(actor=f.COMMITTEE, closed_at=d.now))
    assert d.state == S.not_accepted
    assert d.actions()[-1] == "review.closed"


def test_close_review_is_refused_where_the_campaign_has_a_review_window():
    """§3: with ``review_closes_at`` the review closes by itself."""
    d = Driver(NOW, review_closes_at=NOW + timedelta(days=70), **V3_DEFAULTS)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return"))
    assert "审核截止" in d.refuse(CloseReviewCommand(actor=f.COMMITTEE, closed_at=d.now))


def test_an_on_time_submission_is_not_abandoned_while_the_unit_publicity_runs_003():
    """§3 v3 ``applicant_submit`` (003: 网上申报时间 is the applicant's own): submitted on time,
    the declaration is not abandoned when the window closes during the unit publicity."""
    d = Driver(NOW, declaration_closes_at=NOW + timedelta(days=2), **V3_DEFAULTS)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "approve"))
    d.advance(timedelta(days=10))
    assert d.state == S.unit_recommendation


def test_no_submission_cap_by_default():
    """§2.5 v3: no cap unless the notice sets one; a fourth committee return still returns."""
    d = Driver(NOW, **V3_DEFAULTS)
    to_committee(d)
    for _ in range(4):
        d.do(decide(f.COMMITTEE, "committee_formal_review", "return"))
        assert d.state == S.returned
        submit(d)
    assert d.chain.s.committee_submissions == 5


# --------------------------------------------------------------------------- late acceptance


def test_acceptance_is_refused_with_less_than_a_working_day_before_the_fee_deadline_003():
    """§2.6 v3 (003: fee window 9/18-9/20 while the online window closes 9/18): the committee
    cannot accept when less than one full working day remains before the fee deadline; it
    extends the deadline first. Before that, within 3 working days, the declaration is at
    risk."""
    fee = datetime(2024, 8, 10, 0, 0, tzinfo=BJ)  # end of Friday 08-09
    d = Driver(NOW, fee_deadline=fee, declaration_closes_at=datetime(2024, 8, 9, tzinfo=BJ))
    to_committee(d)
    table = d.chain.s.acceptance_table
    assert table is not None and table.until == fee
    assert table.instants[1].at == datetime(2024, 8, 9, 0, 0, tzinfo=BJ)
    assert table.instants[3].at == datetime(2024, 8, 7, 0, 0, tzinfo=BJ)
    d.advance_to(datetime(2024, 8, 7, 9, 0, tzinfo=BJ))
    assert d.chain.s.at_risk and d.chain.view().at_risk
    d.advance_to(datetime(2024, 8, 9, 9, 0, tzinfo=BJ))
    reason = d.refuse(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    assert "不足1个工作日" in reason
    assert d.audit[-1].reasons == ["decide.late_acceptance"]
    assert d.state == S.committee_formal_review


def test_acceptance_a_day_earlier_is_accepted():
    """§2.6: with one full working day left, acceptance goes through."""
    fee = datetime(2024, 8, 10, 0, 0, tzinfo=BJ)
    d = Driver(NOW, fee_deadline=fee, declaration_closes_at=datetime(2024, 8, 9, tzinfo=BJ))
    to_committee(d)
    d.advance_to(datetime(2024, 8, 8, 17, 0, tzinfo=BJ))
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    assert d.state == S.fee_pending


# --------------------------------------------------------------------------- 再上报


def _passed_publicity_then_returned(d: Driver) -> None:
    submit(d)
    through_unit(d)
    d.do(decide(f.COUNTY, "authority_review", "return"))
    submit(d)  # resubmit_to unit
    assert d.state == S.unit_review


def test_reconfirmation_after_a_passed_publicity_does_not_run_it_again_002_003():
    """§3 v3: 再上报 is not a new 公示: the unit's approval goes to unit_recommendation."""
    d = Driver(NOW, resubmit_to="unit")
    _passed_publicity_then_returned(d)
    d.do(decide(f.UNIT, "unit_review", "approve"))
    assert d.state == S.unit_recommendation
    assert "no second publicity" in str(d.audit[-1].detail.get("publicity"))


def test_reconfirmation_with_republish_runs_the_publicity_again():
    """§3 v3: the unit says the publicised facts changed (``republish``)."""
    d = Driver(NOW, resubmit_to="unit")
    _passed_publicity_then_returned(d)
    d.do(decide(f.UNIT, "unit_review", "approve", republish=True))
    assert d.state == S.unit_publicity


def test_republish_belongs_to_the_units_approval_only():
    """§3: ``republish`` and ``categories_confirmed`` are refused elsewhere."""
    d = Driver(NOW)
    submit(d)
    reason = d.refuse(decide(f.UNIT, "unit_review", "return", republish=True))
    assert "categories_confirmed and republish" in reason


# --------------------------------------------------------------------------- exemption claims


def test_the_unit_strikes_a_claimed_category_and_the_applicant_then_defends_003():
    """§5: categories are claims; the unit confirms or strikes each at its approval (audited);
    a struck category no longer exempts."""
    defense = {"required_levels": ["intermediate"], "exempt_categories": ["village_work"]}
    applicant = f.applicant(categories=["village_work"])
    d = Driver(NOW, decl=None, defense=defense)
    d = Driver(
        NOW, decl=f.declaration(d.campaign, "intermediate", applicant=applicant), defense=defense
    )
    assert d.chain.s.defense.required is False
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "approve", categories_confirmed=[]))
    assert d.chain.s.defense.required is True
    (approval,) = [e for e in d.audit if e.action == "unit_review.approve"]
    assert approval.detail["categories_struck"] == ["village_work"]


def test_a_category_the_applicant_did_not_claim_cannot_be_confirmed():
    d = Driver(NOW)
    submit(d)
    reason = d.refuse(decide(f.UNIT, "unit_review", "approve", categories_confirmed=["支教"]))
    assert "未申报" in reason


# --------------------------------------------------------------------------- confirmation


def _at_confirmation(d: Driver) -> None:
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    d.do(MaterialsReceivedCommand(actor=f.COMMITTEE, form_id="RF-1"))
    d.do(DefenseCommand(actor=f.COMMITTEE, passed=True, mode="video"))
    d.do(vote())
    d.advance_to(d.chain.s.computed["publicity_ends"].at)
    assert d.state == S.result_confirmation


CONFIRMER = Actor(id="hr-confirmer", role="authority_reviewer", org="xj-hr")


def test_the_confirming_body_confirms_and_the_committee_cannot_confirm_its_own_result():
    """§2.10, §10.7 v3 (40号令 审核确认): on by default, by a reviewer of ``confirming_org``; the
    committee cannot confirm its own result."""
    d = Driver(NOW, result_confirmation_required=True, confirming_org="xj-hr")
    _at_confirmation(d)
    view = d.chain.view()
    assert view.pending is not None
    assert (view.pending.role, view.pending.org) == ("authority_reviewer", "xj-hr")
    assert "xj-hr" in d.refuse(decide(f.COMMITTEE, "result_confirmation", "approve"))
    other = Actor(id="x", role="authority_reviewer", org="county-hr")
    assert "xj-hr" in d.refuse(decide(other, "result_confirmation", "approve"))
    d.do(decide(CONFIRMER, "result_confirmation", "approve", opinion="审核确认"))
    assert d.state == S.certified


def test_a_refused_confirmation_ends_not_approved():
    d = Driver(NOW, result_confirmation_required=True, confirming_org="xj-hr")
    _at_confirmation(d)
    d.do(decide(CONFIRMER, "result_confirmation", "reject", opinion="评审程序不合规"))
    assert d.state == S.not_approved


# --------------------------------------------------------------------------- blind review


def test_a_blind_review_submission_with_nothing_masked_is_refused_001():
    """§9 (001 四(一)3 姓名、照片和工作单位信息均需遮盖): refused (409) unless name, photo and unit
    are marked."""
    d = Driver(NOW, decl=None)
    d = Driver(NOW, decl=f.declaration(d.campaign, masked_items=[]))
    reason = d.refuse(SubmitCommand(actor=f.APPLICANT))
    assert "盲评" in reason and d.state == S.draft
    d.do(SubmitCommand(actor=f.APPLICANT, masked_items=["name", "photo", "unit"]))
    assert d.state == S.unit_review


# --------------------------------------------------------------------------- objections


def test_one_person_may_have_three_open_objections_and_their_text_stays_out_of_the_state():
    """§10.8: at most 3 open objections per person per declaration; the text is in the audit
    trail (the event's opinion), not in the carried state."""
    d = Driver(NOW)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "approve"))
    for n in range(3):
        d.do(ObjectionCommand(actor=f.ANYONE, text=f"异议{n}" * 100))
    assert "3" in d.refuse(ObjectionCommand(actor=f.ANYONE, text="第四条"))
    assert all(o.text == "" for o in d.chain.s.objections)
    lodged = [e for e in d.audit if e.action == "objection.lodged"]
    assert lodged[0].opinion == "异议0" * 100
    first = d.chain.s.objections[0].id
    d.do(ObjectionResolutionCommand(actor=f.UNIT, objection_id=first, upheld=False))
    d.do(ObjectionCommand(actor=f.ANYONE, text="又一条"))
    other = Actor(id="citizen-8", role="applicant")
    d.do(ObjectionCommand(actor=other, text="另一人"))


def test_an_objection_longer_than_2000_characters_is_refused():
    d = Driver(NOW)
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "approve"))
    assert "2000" in d.refuse(ObjectionCommand(actor=f.ANYONE, text="字" * 2001))


# --------------------------------------------------------------------------- corrected data


def test_flags_are_recomputed_from_the_corrected_data_of_a_resubmission():
    """§6: a resubmission may carry corrected appraisals and continuing education; the flags
    follow. The person (name, ID number) cannot change."""
    applicant = f.applicant(appraisals=[])
    d = Driver(NOW, decl=None)
    d = Driver(NOW, decl=f.declaration(d.campaign, applicant=applicant))
    assert "appraisal_missing" in d.chain.s.flags
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "return"))
    corrected = applicant.model_copy(
        update={"appraisals": [Appraisal(year=y, result="合格") for y in range(2020, 2025)]}
    )
    d.do(SubmitCommand(actor=f.APPLICANT, applicant=corrected))
    assert "appraisal_missing" not in d.chain.s.flags
    assert d.audit[-1].detail["flags"]["before"] != d.audit[-1].detail["flags"]["after"]
    someone_else = corrected.model_copy(update={"id_number": "110105194912310021"})
    d.do(decide(f.UNIT, "unit_review", "return"))
    assert "不能改变申报人" in d.refuse(SubmitCommand(actor=f.APPLICANT, applicant=someone_else))


# --------------------------------------------------------------------------- who acts


def test_another_committee_and_another_finance_office_are_refused():
    """§11: committee staff act only for their committee's campaigns; finance only for the
    campaigns naming their office (default: the committee's own office)."""
    d = Driver(NOW, committee_org="xj-committee", finance_orgs=["xj-finance"])
    to_committee(d)
    stranger = Actor(id="c2", role="committee", org="other-committee")
    assert "xj-committee" in d.refuse(
        DecisionCommand(actor=stranger, stage="committee_formal_review", outcome="approve")
    )
    ours = Actor(id="c1", role="committee", org="xj-committee")
    d.do(DecisionCommand(actor=ours, stage="committee_formal_review", outcome="approve"))
    assert "xj-finance" in d.refuse(
        PaymentCommand(
            actor=Actor(id="f2", role="finance", org="elsewhere"), amount=550, receipt_no="R-9"
        )
    )
    d.do(
        PaymentCommand(
            actor=Actor(id="f1", role="finance", org="xj-finance"), amount=550, receipt_no="R-1"
        )
    )
    assert d.state == S.materials_pending


# --------------------------------------------------------------------------- reopening


def test_an_extension_after_the_deadline_reopens_the_declaration_where_it_was():
    """§3 v3 延期 reopen: a draft abandoned at the declaration deadline continues as a draft
    with the new deadline, its audit chain counted on, the reopening audited."""
    d = Driver(NOW, declaration_closes_at=NOW + timedelta(days=1))
    d.advance(timedelta(days=2))
    assert d.state == S.abandoned
    seq = d.chain.s.seq
    later = NOW + timedelta(days=20)
    deadlines = CampaignDeadlines.of(d.campaign).model_copy(update={"declaration_closes_at": later})
    d.chain.reopen(
        Reopening(
            actor=f.COMMITTEE,
            at=d.now,
            change_id="chg-1",
            ended_by="timer.declaration_deadline",
            resume="draft",
            deadlines=deadlines,
        ),
        d.now,
    )
    d.settle()
    assert d.state == S.draft
    reopened = d.audit[-1] if d.audit[-1].action == "reopened" else d.audit[seq]
    assert reopened.action == "reopened" and reopened.seq == seq + 1
    assert reopened.actor_id == f.COMMITTEE.id
    submit(d)
    assert d.state == S.unit_review


@pytest.mark.parametrize("route", ["directed"])
def test_vote_counts_present_members(route):
    """§2.8: a recusal at 17 present of 25 does not make the vote invalid."""
    d = Driver(NOW)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    d.do(MaterialsReceivedCommand(actor=f.COMMITTEE, form_id="RF-1"))
    d.do(DefenseCommand(actor=f.COMMITTEE, passed=True, mode="video"))
    d.do(
        VoteCommand(
            actor=f.COMMITTEE, attending=17, in_favor=12, against=4, abstain=0, recused=["E17"]
        )
    )
    assert d.state == S.result_publicity
