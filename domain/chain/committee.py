"""After formal acceptance (docs/rules.md §2.6-§2.10): the fee and the paper materials, the
defense, the review meeting's vote, confirmation and announcement, and a misconduct finding."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain import defense as defense_rules
from domain import fees, vote
from domain.chain import publicity
from domain.chain.state import (
    VOTE_QUORUM_ON_PRESENT,
    Effect,
    Prepared,
    Refusal,
    Step,
    wrong_state,
)
from domain.models import (
    SYSTEM,
    Actor,
    Announcement,
    DefenseCommand,
    MaterialsReceivedCommand,
    MisconductCommand,
    PaymentCommand,
    ResultConfirmationCommand,
    ResultView,
    ReviewForm,
    VoteCommand,
    VoteRecord,
)
from domain.routes import PATHS
from domain.states import StateName

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = [
    "announced",
    "apply_confirmation",
    "apply_defense",
    "apply_materials",
    "apply_misconduct",
    "apply_payment",
    "apply_vote",
    "refuse_confirmation",
    "refuse_defense",
    "refuse_materials",
    "refuse_misconduct",
    "refuse_payment",
    "refuse_vote",
    "review_form_issued",
]

S = StateName


# ---------------------------------------------------------------------- fee and paper materials


def refuse_payment(chain: Chain, cmd: PaymentCommand, now: datetime) -> Refusal | None:
    s = chain.s
    if s.fee_paid:
        if cmd.receipt_no == s.receipt_no and cmd.amount == s.fee_due:
            return None  # the same receipt again: accepted, no second effect
        return Refusal(
            "already_paid", f"评审费已按票据 {s.receipt_no} 缴清 / the fee is already paid"
        )
    if s.state != S.fee_pending:
        return wrong_state(s.state, "缴费（须通过形式审核后） / record a payment")
    wrong = fees.payment_refusal(s.fee_due, cmd.amount)
    return Refusal("wrong_amount", wrong) if wrong else None


def apply_payment(chain: Chain, cmd: PaymentCommand, now: datetime, prepared: Prepared) -> Step:
    s = chain.s
    if s.fee_paid:  # the same receipt again: no second effect
        return Step(result={"duplicate": True})
    s.fee_paid, s.receipt_no = True, cmd.receipt_no
    detail = {"receipt_no": cmd.receipt_no, "amount": cmd.amount, "payer_org": cmd.payer_org}
    if s.materials_required and not s.materials_received:
        chain.move(cmd.actor, "payment.recorded", S.materials_pending, now, detail=detail)
        return Step()
    return _after_fee_and_materials(chain, cmd.actor, "payment.recorded", now, detail)


def refuse_materials(chain: Chain, cmd: MaterialsReceivedCommand, now: datetime) -> Refusal | None:
    s = chain.s
    if not s.materials_required:
        return Refusal(
            "not_required", "本次评审不需要报送纸质材料 / this campaign needs no paper materials"
        )
    if s.materials_received:
        if cmd.form_id == s.form_id:
            return None
        return Refusal(
            "already_received",
            "纸质材料已登记接收 / the materials are already recorded as received",
        )
    if s.state not in (S.fee_pending, S.materials_pending):
        return wrong_state(s.state, "登记接收纸质材料 / record materials received")
    if s.form_id is None:
        return Refusal("no_form", "评审表尚未生成 / the review form has not been issued yet")
    if cmd.form_id != s.form_id:
        return Refusal(
            "form_mismatch",
            f"评审表编号不符，应为 {s.form_id} / the form id does not match the issued form",
        )
    return None


def apply_materials(
    chain: Chain, cmd: MaterialsReceivedCommand, now: datetime, prepared: Prepared
) -> Step:
    s = chain.s
    if s.materials_received:
        return Step(result={"duplicate": True})
    s.materials_received = True
    detail = {"form_id": cmd.form_id, "watermark_id": s.watermark_id}
    if s.state == S.materials_pending:
        return _after_fee_and_materials(chain, cmd.actor, "materials.received", now, detail)
    st = s.state.value
    chain.record(cmd.actor, "materials.received", st, st, now, detail=detail)
    return Step()


def review_form_issued(chain: Chain, form: ReviewForm, now: datetime) -> None:
    s = chain.s
    s.form_id, s.watermark_id = form.form_id, form.watermark_id
    st = s.state.value
    detail = {"form_id": form.form_id, "watermark_id": form.watermark_id}
    chain.record(SYSTEM, "review_form.issued", st, st, now, detail=detail)


def _after_fee_and_materials(
    chain: Chain, actor: Actor, action: str, now: datetime, detail: dict[str, Any]
) -> Step:
    """docs/rules.md §2.7: defense where required (venue decided on arrival), else the meeting."""
    s = chain.s
    d = s.declaration
    if not PATHS[d.route].defense_and_vote:
        detail = {**detail, "defense": "not required", "vote": "not required",
                  "rule": f"route {d.route}: no defense and no vote (docs/rules.md §12)"}  # fmt: skip
        open_result_publicity(chain, actor, action, now, detail)
        return Step()
    plan = defense_rules.plan_defense(
        s.campaign, s.declaration_id, d.level, d.applicant, region=d.region,
        confirmed=s.confirmed_categories,
    )  # fmt: skip
    # docs/rules.md §5: the draw is reproducible and audited: its result, the rate and its seed.
    draw = _draw_detail(chain, plan.drawn)
    if s.defense.required:
        s.defense.venue = plan.venue
        detail = {**detail, "defense_venue": plan.venue, "defense_reason": plan.reason, **draw}
        chain.move(actor, action, S.defense_pending, now, detail=detail)
    else:
        detail = {
            **detail,
            "defense": "not required",
            "exemption": s.defense.exemption,
            "defense_reason": plan.reason,
            **draw,
        }
        chain.move(actor, action, S.committee_review, now, detail=detail)
    return Step()


def _draw_detail(chain: Chain, drawn: bool | None) -> dict[str, Any]:
    """``drawn`` always; where a sample was drawn, its rate and seed so it can be redone
    (``domain.defense.remote_sample_drawn(campaign_id, declaration_id, rate)``)."""
    if drawn is None:
        return {"drawn": None}
    s = chain.s
    return {
        "drawn": drawn,
        "draw": {
            "rate": s.campaign.defense.remote_sample_rate,
            "seed": f"{s.campaign.id}:{s.declaration_id}",
            "rule": "§5 随机抽取: sha256(seed) first 8 bytes / 2**64 < rate",
        },
    }


# ---------------------------------------------------------------------- defense and vote


def refuse_defense(chain: Chain, cmd: DefenseCommand, now: datetime) -> Refusal | None:
    s = chain.s
    if s.state != S.defense_pending:
        return wrong_state(s.state, "登记答辩结果 / record a defense")
    if s.defense.venue == "onsite" and cmd.mode != "onsite":
        return Refusal("venue_onsite", "该申报人应参加现场答辩 / this applicant defends on site")
    if s.defense.venue == "remote" and cmd.mode == "onsite":
        return Refusal(
            "venue_remote", "该申报人采用视频或电话答辩 / this applicant defends by video or phone"
        )
    if s.campaign.defense.scored and cmd.score is None:
        return Refusal(
            "score_required",
            "本次答辩实行量化赋分，须填写分数 / this campaign scores defenses: give a score",
        )
    return None


def apply_defense(chain: Chain, cmd: DefenseCommand, now: datetime, prepared: Prepared) -> Step:
    s = chain.s
    s.defense.mode, s.defense.passed, s.defense.score = cmd.mode, cmd.passed, cmd.score
    to = S.committee_review if cmd.passed else S.defense_failed
    detail = {"passed": cmd.passed, "mode": cmd.mode, "score": cmd.score}
    chain.move(cmd.actor, "defense.recorded", to, now, opinion=cmd.opinion, detail=detail)
    return Step()


def _members(chain: Chain, cmd: VoteCommand) -> int | None:
    """The committee's size: its registered members, sent with the vote, or (declarations filed
    before the registry) the number the campaign gave."""
    return cmd.members or chain.s.campaign.committee_members


def _assess(chain: Chain, cmd: VoteCommand) -> vote.VoteOutcome:
    return vote.assess_vote(
        _members(chain, cmd) or 0,
        cmd.attending,
        cmd.in_favor,
        cmd.against,
        cmd.abstain,
        cmd.recused,
        recused_present=chain.rules.enabled(VOTE_QUORUM_ON_PRESENT),
    )


def refuse_vote(chain: Chain, cmd: VoteCommand, now: datetime) -> Refusal | None:
    if chain.s.state != S.committee_review:
        return wrong_state(chain.s.state, "登记评审会议表决 / record a vote")
    if _members(chain, cmd) is None:
        return Refusal(
            "committee_unregistered",
            "评审委员会人数未登记 / the committee's members are not registered",
        )
    invalid = _assess(chain, cmd).refusal
    return Refusal("invalid_vote", invalid) if invalid else None


def apply_vote(chain: Chain, cmd: VoteCommand, now: datetime, prepared: Prepared) -> Step:
    s = chain.s
    outcome = _assess(chain, cmd)
    s.vote = VoteRecord(
        members=_members(chain, cmd) or 0,
        attending=cmd.attending,
        in_favor=cmd.in_favor,
        against=cmd.against,
        abstain=cmd.abstain,
        recused=list(cmd.recused),
        quorum_met=outcome.quorum_met,
        passed=outcome.passed,
    )
    detail = s.vote.model_dump(mode="json")
    if cmd.meeting_id:
        detail["meeting_id"] = cmd.meeting_id
    if not outcome.passed:
        chain.move(cmd.actor, "vote.recorded", S.not_approved, now, detail=detail)
        return Step()
    open_result_publicity(chain, cmd.actor, "vote.recorded", now, detail)
    return Step()


def open_result_publicity(
    chain: Chain, actor: Actor, action: str, now: datetime, detail: dict[str, Any]
) -> None:
    """docs/rules.md §2.9: the result publicity of at least 5 working days."""
    s = chain.s
    s.publicity_over = False
    s.publicity_started_at = now
    chain.move(actor, action, S.result_publicity, now, detail=detail)
    chain.effect(Effect(kind="open_publicity", publicity="result_publicity", start=now))


# ---------------------------------------------------------------------- confirmation, result


def refuse_confirmation(
    chain: Chain, cmd: ResultConfirmationCommand, now: datetime
) -> Refusal | None:
    if chain.s.state != S.result_confirmation:
        return wrong_state(chain.s.state, "审核确认评审结果 / confirm the result")
    confirming = chain.s.campaign.confirming_org
    if confirming is not None:
        return Refusal(
            "not_decider",
            f"评审结果由 {confirming} 审核确认（decisions, stage result_confirmation），评审委员会不能"
            f"确认自己的结果 / the result is confirmed by {confirming}, not by the committee",
        )
    return None


def apply_confirmation(
    chain: Chain, cmd: ResultConfirmationCommand, now: datetime, prepared: Prepared
) -> Step:
    if not cmd.confirmed:
        chain.move(cmd.actor, "result.not_confirmed", S.not_approved, now, opinion=cmd.opinion)
        return Step()
    st = chain.s.state.value
    chain.record(cmd.actor, "result.confirmed", st, st, now, opinion=cmd.opinion)
    chain.effect(Effect(kind="announce"))
    return Step()


def announced(chain: Chain, announcement: Announcement, now: datetime) -> None:
    s = chain.s
    if s.state not in (S.result_publicity, S.result_confirmation):
        return
    s.result = ResultView(
        certificate_no=announcement.certificate_no, announced_at=announcement.announced_at
    )
    chain.move(
        SYSTEM,
        "result.announced",
        S.certified,
        now,
        detail={
            "certificate_no": announcement.certificate_no,
            "rule": "结果公布 / 电子证书 (003 §九)",
        },
    )


# ---------------------------------------------------------------------- misconduct


def refuse_misconduct(chain: Chain, cmd: MisconductCommand, now: datetime) -> Refusal | None:
    return None  # who may find it is the table's roles; it applies at any stage, even certified


def apply_misconduct(
    chain: Chain, cmd: MisconductCommand, now: datetime, prepared: Prepared
) -> Step:
    s = chain.s
    before = s.state
    certified = before == S.certified
    to = S.revoked if certified else S.disqualified
    publicity.interrupt(chain, before, now)
    chain.move(
        cmd.actor,
        "misconduct.recorded",
        to,
        now,
        opinion=cmd.finding,
        detail={
            "unit_at_fault": cmd.unit_at_fault,
            "rule": "弄虚作假、营私舞弊 (000, 002, 003, 004; 40号令)",
        },
    )
    chain.effect(
        Effect(kind="blacklist", finding=cmd.finding, unit_at_fault=cmd.unit_at_fault, found_at=now)
    )
    if certified:
        chain.effect(Effect(kind="revoke_certificate", found_at=now))
    return Step()
