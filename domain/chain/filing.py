"""The applicant's own commands: submit (and resubmit after a return) and withdraw
(docs/rules.md §2.1, §3)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain import eligibility, submissions
from domain.chain import publicity, review
from domain.chain.state import (
    BLIND_SUBMISSION_MASKED,
    Prepared,
    Refusal,
    Step,
    is_filer,
    wrong_state,
)
from domain.models import SubmitCommand, WithdrawCommand, as_of
from domain.routes import PATHS
from domain.states import StateName

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = ["apply_submit", "apply_withdraw", "refuse_submit", "refuse_withdraw"]

S = StateName

#: docs/rules.md §9 (001 四(一)3 姓名、照片和工作单位信息均需遮盖).
BLIND_MASKED = frozenset({"name", "photo", "unit"})


def refuse_submit(chain: Chain, cmd: SubmitCommand, now: datetime) -> Refusal | None:
    s = chain.s
    if not is_filer(s, cmd.actor):
        return Refusal(
            "not_filer", "只有申报人本人可以提交 / only the applicant who filed it may submit"
        )
    applicant = cmd.applicant or s.declaration.applicant
    if cmd.applicant is not None and (
        (cmd.applicant.name, cmd.applicant.id_number)
        != (s.declaration.applicant.name, s.declaration.applicant.id_number)
    ):
        return Refusal(
            "person_changed",
            "更正材料不能改变申报人姓名或身份证号，请撤回后重新申报 / a correction cannot change the "
            "applicant's name or ID number: withdraw and file anew",
        )
    block = eligibility.blocking_reason(s.campaign, applicant)
    if block:
        return Refusal("ineligible", block)
    masked = cmd.masked_items if cmd.masked_items is not None else s.declaration.masked_items
    unmasked = sorted(BLIND_MASKED - set(masked))
    if s.campaign.blind_review and unmasked and chain.rules.enabled(BLIND_SUBMISSION_MASKED):
        return Refusal(
            "unmasked",
            f"本次评审实行盲评，提交前须遮盖姓名、照片和工作单位（未遮盖：{'、'.join(unmasked)}） / "
            f"blind review: mark name, photo and unit to mask before submitting (missing: "
            f"{', '.join(unmasked)}) (001 四(一)3)",
        )
    letter = cmd.entrustment or s.declaration.entrustment
    if s.state == S.draft and PATHS[s.declaration.route].entrustment_review and letter is None:
        return Refusal(
            "entrustment_missing",
            "委托评审须先附委托评审函 / an entrusted review needs its entrustment letter "
            "(002 五(四) 开具委托评审函)",
        )
    if s.campaign.submission_cap_scope == "applicant":
        cap = submissions.committee_submission_refusal(
            s.applicant_submissions, s.campaign.max_committee_submissions
        )
        if cap:
            return Refusal("submission_cap", cap)
    if s.state == S.draft:
        if now < s.campaign.declaration_opens_at:
            return Refusal(
                "not_open",
                f"申报尚未开始，申报时间自 {as_of(s.campaign.declaration_opens_at)} 起 / "
                "the declaration window is not open yet",
            )
        if now >= s.deadlines.declaration_closes_at:
            return Refusal(
                "closed",
                f"申报已于 {as_of(s.deadlines.declaration_closes_at)} 截止 / "
                "the declaration window has closed",
            )
        return None
    if s.state == S.returned:
        correction = s.computed.get("correction")
        if correction is not None and now >= correction.at:
            return Refusal(
                "correction_closed", "退回修改期限已过 / the correction window has closed"
            )
        if review.resubmission_target(chain) == S.committee_formal_review:
            cap = submissions.committee_submission_refusal(
                s.committee_submissions, s.campaign.max_committee_submissions
            )
            return Refusal("submission_cap", cap) if cap else None
        return None
    return wrong_state(s.state, "提交 / submit")


def apply_submit(chain: Chain, cmd: SubmitCommand, now: datetime, prepared: Prepared) -> Step:
    s = chain.s
    d = s.declaration
    if prepared.screening is not None:
        s.unit_barred_until = prepared.screening.unit_barred_until
    if cmd.materials is not None:
        d.materials = cmd.materials
    if cmd.masked_items is not None:
        d.masked_items = cmd.masked_items
    if cmd.entrustment is not None:
        d.entrustment = cmd.entrustment
    s.applicant_submissions += 1
    detail: dict[str, Any] = {
        "materials_sha256": [m.sha256 for m in d.materials],
        "masked_items": list(d.masked_items),
        "applicant_submissions": s.applicant_submissions,
    }
    if cmd.applicant is not None:
        d.applicant = cmd.applicant
        flags = eligibility.eligibility_flags(
            s.campaign, d.level, d.route, d.applicant, d.service_years
        )
        late = [f for f in s.flags if f in ("fee_late", "materials_late")]
        detail["flags"] = {"before": list(s.flags), "after": sorted({*flags, *late})}
        s.flags = sorted({*flags, *late})
    if s.state == S.draft:
        if PATHS[d.route].entrustment_review:
            assert d.entrustment is not None  # refused without it
            detail["entrustment"] = d.entrustment.model_dump()
            chain.move(cmd.actor, "submit", S.entrustment_review, now, detail=detail)
            return Step()
        chain.move(cmd.actor, "submit", S.unit_review, now, detail=detail)
        return Step()
    target = review.resubmission_target(chain)
    if target == S.authority_review:
        s.authority_index = s.returned_index or 0
    s.returned_from = s.returned_index = s.returned_at = None
    if target == S.committee_formal_review:
        review.arrive_committee(chain, cmd.actor, "resubmit", now, detail)
    else:
        chain.move(cmd.actor, "resubmit", target, now, detail=detail)
    return Step()


def refuse_withdraw(chain: Chain, cmd: WithdrawCommand, now: datetime) -> Refusal | None:
    if not is_filer(chain.s, cmd.actor):
        return Refusal(
            "not_filer", "只有申报人本人可以撤回 / only the applicant who filed it may withdraw"
        )
    return None


def apply_withdraw(chain: Chain, cmd: WithdrawCommand, now: datetime, prepared: Prepared) -> Step:
    before = chain.s.state
    chain.move(cmd.actor, "withdraw", S.withdrawn, now, opinion=cmd.reason)
    publicity.interrupt(chain, before, now)
    return Step()
