"""Review decisions (docs/rules.md §2.2-§2.5, §2.10, §12): the entrustment letter (委托评审), the
unit, each authority level, the committee's formal review and the confirmation of a result
(审核确认): approve, return for correction, or reject."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain import defense as defense_rules
from domain import submissions
from domain.chain import timers
from domain.chain.state import (
    LATE_ACCEPTANCE,
    NO_SECOND_PUBLICITY,
    Effect,
    Prepared,
    Refusal,
    Step,
    wrong_state,
)
from domain.models import Actor, DecisionCommand, as_of
from domain.routes import PATHS
from domain.states import StateName

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = [
    "apply_decide",
    "arrive_committee",
    "refuse_decide",
    "resubmission_target",
    "return_for_correction",
]

#: Stages where only approve and reject are open (a letter or a result is not corrected).
_YES_OR_NO = ("entrustment_review", "result_confirmation")

S = StateName


def refuse_decide(chain: Chain, cmd: DecisionCommand, now: datetime) -> Refusal | None:
    s = chain.s
    if cmd.stage != s.state.value:
        return wrong_state(s.state, f"作出「{cmd.stage}」决定 / decide at {cmd.stage}")
    who = decider_refusal(chain, cmd.actor, cmd.stage)
    if who:
        return who
    if cmd.outcome in ("return", "reject") and not (cmd.opinion.strip() or cmd.reasons):
        return Refusal(
            "opinion_required",
            "退回或不通过须写明意见或理由代码 / a return or rejection needs an opinion or reasons",
        )
    if cmd.stage in _YES_OR_NO and cmd.outcome == "return":
        return Refusal("no_return_here", "此环节只能同意或不同意 / approve or reject here")
    unit_approval = cmd.stage == "unit_review" and cmd.outcome == "approve"
    if (cmd.categories_confirmed is not None or cmd.republish) and not unit_approval:
        return Refusal(
            "unit_approval_only",
            "确认免答辩类别和重新公示只在单位审核同意时填写 / categories_confirmed and republish "
            "belong to the unit's approval",
        )
    claimed = set(s.declaration.applicant.categories)
    unknown = sorted(set(cmd.categories_confirmed or []) - claimed)
    if unknown:
        return Refusal(
            "category_not_claimed",
            f"申报人未申报以下类别：{'、'.join(unknown)} / not claimed by the applicant: "
            f"{', '.join(unknown)}",
        )
    if cmd.stage == "committee_formal_review" and cmd.outcome == "approve":
        limit = timers.acceptance_limit(chain, timers.ACCEPTANCE_MIN_DAYS)
        if limit is not None and now >= limit.at:
            return Refusal(
                "late_acceptance",
                "缴费/材料报送截止已过或不足1个工作日，请先调整期限 / less than one full working "
                f"day remains before the fee or materials deadline "
                f"({as_of(timers.acceptance_deadline(chain) or limit.at)}): extend it first "
                "(延期), so that the applicant does not lose the file for the review's delay",
            )
    if cmd.stage in ("fee_pending", "materials_pending"):
        late = s.fee_late if cmd.stage == "fee_pending" else s.materials_late
        if cmd.outcome != "reject" or not late:
            return Refusal(
                "not_late",
                "逾期未缴费或未报送材料且由评审委员会决定时，才能在此阶段作出不予受理决定 / "
                "only a late fee or late materials can be decided here, by rejection",
            )
        return None
    if cmd.outcome == "approve" and cmd.stage in ("unit_review", "unit_recommendation"):
        until = s.unit_barred_until
        if until is not None and now < until:
            return Refusal(
                "unit_barred",
                f"推荐单位因弄虚作假被限制推荐至 {as_of(until)} / the unit may not recommend until "
                "then (docs/rules.md §2)",
            )
    if (
        cmd.stage == "unit_recommendation"
        and cmd.outcome == "approve"
        and not (cmd.publicity_result_ref and cmd.publicity_result_ref.strip())
    ):
        return Refusal(
            "publicity_result_required",
            "推荐意见须附公示结果证明 / the recommendation needs publicity_result_ref",
        )
    return None


def decider_refusal(chain: Chain, actor: Actor, stage: str) -> Refusal | None:
    """Only the body whose turn it is decides: the applicant's unit, the authority of the
    current level, the committee."""
    s = chain.s
    if stage in ("unit_review", "unit_recommendation"):
        if actor.role != "unit_reviewer" or actor.org != s.declaration.unit_id:
            return Refusal(
                "not_decider",
                "只有申报人所在单位的审核人可以作出此决定 / only the applicant's unit decides here",
            )
    elif stage == "authority_review":
        body = chain.authority_chain[s.authority_index]
        if actor.role != "authority_reviewer" or actor.org != body:
            return Refusal(
                "not_decider", f"此阶段由主管部门 {body} 审核 / only authority {body} decides here"
            )
    elif stage in _YES_OR_NO:
        confirming = s.campaign.confirming_org
        if confirming is None or actor.role != "authority_reviewer" or actor.org != confirming:
            return Refusal(
                "not_decider",
                f"此环节由组建评审委员会的部门 {confirming or '（未设定）'} 审核 / only a reviewer of "
                f"the campaign's confirming body {confirming or '(none set)'} decides here",
            )
    elif actor.role != "committee":
        return Refusal(
            "not_decider", "只有评审委员会可以作出此决定 / only the committee decides here"
        )
    return None


def apply_decide(chain: Chain, cmd: DecisionCommand, now: datetime, prepared: Prepared) -> Step:
    s = chain.s
    stage = cmd.stage
    action = f"{stage}.{cmd.outcome}"
    kw: dict[str, Any] = {"opinion": cmd.opinion, "reasons": cmd.reasons}
    if cmd.outcome == "return":
        return_for_correction(chain, cmd.actor, action, stage, now, **kw)
    elif cmd.outcome == "reject":
        if stage in ("committee_formal_review", "entrustment_review"):
            to = S.not_accepted
        elif stage in ("fee_pending", "materials_pending"):
            to = S.abandoned
        elif stage == "result_confirmation":
            to = S.not_approved
        else:
            to = S.rejected
        chain.move(cmd.actor, action, to, now, **kw)
    elif stage == "entrustment_review":
        chain.move(cmd.actor, action, S.unit_review, now, **kw)
    elif stage == "unit_review":
        _unit_approval(chain, cmd, action, now, **kw)
    elif stage == "unit_recommendation":
        s.recommendation_ref = cmd.publicity_result_ref
        kw["detail"] = {"publicity_result_ref": cmd.publicity_result_ref}
        _advance_from_unit(chain, cmd.actor, action, now, **kw)
    elif stage == "authority_review":
        kw["detail"] = {"authority": chain.authority_chain[s.authority_index]}
        s.authority_index += 1
        if s.authority_index < len(chain.authority_chain):
            chain.move(cmd.actor, action, S.authority_review, now, **kw)
        else:
            arrive_committee(chain, cmd.actor, action, now, kw.pop("detail"))
    elif stage == "committee_formal_review":
        chain.move(cmd.actor, action, S.fee_pending, now, **kw)
        if s.materials_required and s.form_id is None:
            chain.effect(Effect(kind="issue_review_form"))
    elif stage == "result_confirmation":
        st = s.state.value
        chain.record(cmd.actor, "result.confirmed", st, st, now, **kw)
        chain.effect(Effect(kind="announce"))
    return Step()


def _unit_approval(
    chain: Chain, cmd: DecisionCommand, action: str, now: datetime, **kw: Any
) -> None:
    """The unit's approval (docs/rules.md §2.2, §3, §5): it confirms the claimed exemption
    categories, then opens the unit publicity, except where the route has none (援疆, 初次确定:
    the approval is the recommendation) or the publicity has already run and the unit re-confirms
    without saying the publicised facts changed (再上报 is not a new 公示)."""
    s = chain.s
    detail: dict[str, Any] = {}
    if cmd.categories_confirmed is not None:
        s.confirmed_categories = list(cmd.categories_confirmed)
        struck = sorted(set(s.declaration.applicant.categories) - set(cmd.categories_confirmed))
        detail["categories_confirmed"] = list(cmd.categories_confirmed)
        detail["categories_struck"] = struck
        _replan_defense(chain)
    if not PATHS[s.declaration.route].unit_publicity:
        detail["rule"] = "派出单位审核同意即推荐 / the unit's approval is the recommendation (§12)"
        _advance_from_unit(chain, cmd.actor, action, now, detail=detail, **kw)
        return
    repeat = not s.unit_publicity_passed or cmd.republish
    if not repeat and chain.rules.enabled(NO_SECOND_PUBLICITY):
        detail["publicity"] = "再上报，公示内容未变，不再公示 / re-confirmed: no second publicity"
        chain.move(cmd.actor, action, S.unit_recommendation, now, detail=detail, **kw)
        return
    if cmd.republish:
        detail["republish"] = True
    s.publicity_over = False
    s.publicity_started_at = now
    chain.move(cmd.actor, action, S.unit_publicity, now, detail=detail or None, **kw)
    chain.effect(Effect(kind="open_publicity", publicity="unit_publicity", start=now))


def _replan_defense(chain: Chain) -> None:
    """Whether the applicant defends, with the categories the unit confirmed."""
    s = chain.s
    d = s.declaration
    if not PATHS[d.route].defense_and_vote:
        return
    plan = defense_rules.plan_defense(
        s.campaign, s.declaration_id, d.level, d.applicant, region=d.region,
        confirmed=s.confirmed_categories,
    )  # fmt: skip
    s.defense.required, s.defense.exemption, s.defense.drawn = (
        plan.required,
        plan.exemption,
        plan.drawn,
    )


def _advance_from_unit(chain: Chain, actor: Actor, action: str, now: datetime, **kw: Any) -> None:
    chain.s.authority_index = 0
    if chain.authority_chain:
        chain.move(actor, action, S.authority_review, now, **kw)
    else:
        arrive_committee(chain, actor, action, now, kw.get("detail"))


def arrive_committee(
    chain: Chain, actor: Actor, action: str, now: datetime, detail: dict[str, Any] | None = None
) -> None:
    """docs/rules.md §2.5: each arrival at formal review counts as a submission to the
    committee."""
    s = chain.s
    s.committee_submissions += 1
    s.reached_committee = True
    detail = dict(detail or {})
    detail["committee_submissions"] = s.committee_submissions
    chain.move(actor, action, S.committee_formal_review, now, detail=detail)
    if timers.acceptance_deadline(chain) is not None and chain.rules.enabled(LATE_ACCEPTANCE):
        chain.effect(Effect(kind="compute_acceptance"))


def return_for_correction(
    chain: Chain, actor: Actor, action: str, stage: str, now: datetime, **kw: Any
) -> None:
    """A return opens the correction window, unless it ends the declaration (the submission
    cap, docs/rules.md §2.5)."""
    s = chain.s
    cap = s.campaign.max_committee_submissions
    if s.campaign.submission_cap_scope == "applicant":
        ends = submissions.return_ends_declaration(s.applicant_submissions, cap)
    else:
        ends = stage == "committee_formal_review" and submissions.return_ends_declaration(
            s.committee_submissions, cap
        )
    if ends:
        kw.setdefault("detail", {})["rule"] = (
            "001 四(一)1 第3次提交后申报材料仍不符合要求的不予受理 / last allowed submission"
        )
        chain.move(actor, action, S.not_accepted, now, **kw)
        return
    s.returned_from = stage
    s.returned_index = s.authority_index if stage == "authority_review" else None
    s.returned_at = now
    chain.move(actor, action, S.returned, now, **kw)
    if timers.correction_to_compute(chain):
        chain.effect(Effect(kind="compute_correction"))


def resubmission_target(chain: Chain) -> StateName:
    """Where a resubmission goes: the stage that returned it, or the unit (``resubmit_to``)."""
    s = chain.s
    if s.campaign.resubmit_to == "unit" or s.returned_from is None:
        return S.unit_review
    return StateName(s.returned_from)
