"""The states of a declaration, in one table: name, Chinese label, place on the chain, who must
act in it and what they must do (docs/rules.md §2). Every other list of states (terminal, before
the committee, the console's timeline, the labels of pending actions) is derived from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BEFORE_COMMITTEE",
    "FINAL",
    "MAIN_CHAIN",
    "PENDING",
    "PENDING_LABELS",
    "PUBLICITIES",
    "STATES",
    "STATE_LABELS",
    "TERMINAL",
    "StateInfo",
    "StateName",
    "label",
]


class StateName(StrEnum):
    draft = "draft"
    entrustment_review = "entrustment_review"
    unit_review = "unit_review"
    unit_publicity = "unit_publicity"
    unit_recommendation = "unit_recommendation"
    authority_review = "authority_review"
    committee_formal_review = "committee_formal_review"
    returned = "returned"
    fee_pending = "fee_pending"
    materials_pending = "materials_pending"
    defense_pending = "defense_pending"
    committee_review = "committee_review"
    result_publicity = "result_publicity"
    result_confirmation = "result_confirmation"
    certified = "certified"
    revoked = "revoked"
    not_approved = "not_approved"
    defense_failed = "defense_failed"
    not_accepted = "not_accepted"
    rejected = "rejected"
    abandoned = "abandoned"
    withdrawn = "withdrawn"
    disqualified = "disqualified"


@dataclass(frozen=True)
class StateInfo:
    """What the rest of the service needs to know about one state."""

    label: str
    #: On the main chain, drawn in this order (the console's timeline); ``False`` for a side
    #: state (``returned``) or an ending other than ``certified``.
    on_chain: bool = True
    #: The role that must act now and what it must do (the view's ``pending``).
    role: str | None = None
    action: str | None = None
    action_label: str = ""
    #: Nothing moves any more (``certified`` may still be revoked for misconduct).
    terminal: bool = False
    #: Before the declaration first reaches the committee: the declaration deadline and the
    #: at-risk warning concern these (docs/rules.md §3, §10.2).
    before_committee: bool = False
    publicity: bool = False


S = StateName

#: Every state, in the order docs/rules.md §2 draws the chain.
STATES: dict[StateName, StateInfo] = {
    S.draft: StateInfo("草稿", role="applicant", action="submit", action_label="提交申报",
                       before_committee=True),
    S.entrustment_review: StateInfo("委托评审审核", role="authority_reviewer",
                                    action="entrustment_review", action_label="审核委托评审函",
                                    before_committee=True),
    S.unit_review: StateInfo("单位审核", role="unit_reviewer", action="unit_review",
                             action_label="单位审核", before_committee=True),
    S.unit_publicity: StateInfo("单位内部公示", role="unit_reviewer",
                                action="resolve_objections", action_label="处理异议",
                                before_committee=True, publicity=True),
    S.unit_recommendation: StateInfo("单位推荐", role="unit_reviewer", action="recommend",
                                     action_label="出具推荐意见", before_committee=True),
    S.authority_review: StateInfo("主管部门审核", role="authority_reviewer",
                                  action="authority_review", action_label="主管部门审核",
                                  before_committee=True),
    S.committee_formal_review: StateInfo("评审委员会形式审核", role="committee",
                                         action="formal_review", action_label="形式审核"),
    S.fee_pending: StateInfo("待缴费", role="finance", action="record_payment",
                             action_label="确认缴费"),
    S.materials_pending: StateInfo("待报送纸质材料", role="committee",
                                   action="record_materials_received",
                                   action_label="登记纸质材料"),
    S.defense_pending: StateInfo("待答辩", role="committee", action="record_defense",
                                 action_label="登记答辩结果"),
    S.committee_review: StateInfo("评审会议", role="committee", action="record_vote",
                                  action_label="登记评审会议表决"),
    S.result_publicity: StateInfo("评审结果公示", role="committee",
                                  action="resolve_objections", action_label="处理异议",
                                  publicity=True),
    S.result_confirmation: StateInfo("结果审核确认", role="authority_reviewer",
                                     action="confirm_result",
                                     action_label="审核确认结果"),
    S.certified: StateInfo("已通过并发证", terminal=True),
    S.returned: StateInfo("退回修改", on_chain=False, role="applicant",
                          action="correct_and_resubmit", action_label="修改后重新提交",
                          before_committee=True),
    S.revoked: StateInfo("已撤销", on_chain=False, terminal=True),
    S.not_approved: StateInfo("评审未通过", on_chain=False, terminal=True),
    S.defense_failed: StateInfo("答辩不合格", on_chain=False, terminal=True),
    S.not_accepted: StateInfo("不予受理", on_chain=False, terminal=True),
    S.rejected: StateInfo("未通过审核", on_chain=False, terminal=True),
    S.abandoned: StateInfo("视为放弃", on_chain=False, terminal=True),
    S.withdrawn: StateInfo("已撤回", on_chain=False, terminal=True),
    S.disqualified: StateInfo("取消资格", on_chain=False, terminal=True),
}  # fmt: skip

TERMINAL: frozenset[StateName] = frozenset(s for s, i in STATES.items() if i.terminal)
"""States after which nothing moves; ``certified`` may still be revoked for misconduct."""

FINAL: frozenset[StateName] = TERMINAL - {S.certified}
"""States after which nothing at all can happen, so the workflow completes."""

BEFORE_COMMITTEE: frozenset[StateName] = frozenset(
    s for s, i in STATES.items() if i.before_committee
)
"""States a declaration may be in before it first reaches committee formal review."""

PUBLICITIES: frozenset[StateName] = frozenset(s for s, i in STATES.items() if i.publicity)

#: state -> (role, action) of whoever must act next.
PENDING: dict[StateName, tuple[str, str]] = {
    s: (i.role, i.action) for s, i in STATES.items() if i.role and i.action
}

#: The main chain in order (the console's timeline).
MAIN_CHAIN: tuple[str, ...] = tuple(s.value for s, i in STATES.items() if i.on_chain)

STATE_LABELS: dict[str, str] = {s.value: i.label for s, i in STATES.items()}

#: ``pending.action`` of the view -> its Chinese label.
PENDING_LABELS: dict[str, str] = {
    i.action: i.action_label for i in STATES.values() if i.action and i.action_label
}


def label(state: str) -> str:
    """``单位审核 (unit_review)``: the Chinese label with the API's id beside it."""
    return f"{STATE_LABELS.get(state, state)} ({state})"
