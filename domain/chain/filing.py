"""The applicant's own commands: submit (and resubmit after a return) and withdraw
(docs/rules.md §2.1, §3)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain import eligibility, submissions
from domain.chain import publicity, review
from domain.chain.state import Prepared, Refusal, Step, is_filer, wrong_state
from domain.models import SubmitCommand, WithdrawCommand, as_of
from domain.states import StateName

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = ["apply_submit", "apply_withdraw", "refuse_submit", "refuse_withdraw"]

S = StateName


def refuse_submit(chain: Chain, cmd: SubmitCommand, now: datetime) -> Refusal | None:
    s = chain.s
    if not is_filer(s, cmd.actor):
        return Refusal(
            "not_filer", "只有申报人本人可以提交 / only the applicant who filed it may submit"
        )
    block = eligibility.blocking_reason(s.campaign, s.declaration.applicant)
    if block:
        return Refusal("ineligible", block)
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
    if prepared.screening is not None:
        s.unit_barred_until = prepared.screening.unit_barred_until
    if cmd.materials is not None:
        s.declaration.materials = cmd.materials
    if cmd.masked_items is not None:
        s.declaration.masked_items = cmd.masked_items
    s.applicant_submissions += 1
    detail: dict[str, Any] = {
        "materials_sha256": [m.sha256 for m in s.declaration.materials],
        "masked_items": list(s.declaration.masked_items),
        "applicant_submissions": s.applicant_submissions,
    }
    if s.state == S.draft:
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
