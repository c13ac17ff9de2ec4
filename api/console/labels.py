"""Chinese labels for the ids the API uses. The ids stay visible next to them (``单位审核
unit_review``): staff learn the API's words, and auditors can match a page to an export.

State labels are the workflow's own (:data:`domain.states.STATES`); the rest name roles,
pending actions and audit actions as the notices do.
"""

from __future__ import annotations

from domain.states import PENDING_LABELS, STATE_LABELS

__all__ = [
    "ACTION_LABELS",
    "OUTCOME_LABELS",
    "PENDING_LABELS",
    "REASON_CODES",
    "ROLE_LABELS",
    "STATE_LABELS",
    "action_label",
]

ROLE_LABELS: dict[str, str] = {
    "applicant": "申报人",
    "unit_reviewer": "用人单位审核人",
    "authority_reviewer": "主管部门审核人",
    "committee": "评审委员会",
    "finance": "财务",
    "auditor": "审计",
    "admin": "管理员",
}

OUTCOME_LABELS: dict[str, str] = {
    "approve": "同意",
    "return": "退回修改",
    "reject": "不予通过",
    "accepted": "已执行",
    "refused": "已拒绝",
}

ACTION_LABELS: dict[str, str] = {
    "created": "创建申报",
    "submit": "提交申报",
    "withdraw": "撤回申报",
    "decide": "审核决定",
    "lodge_objection": "提出异议",
    "objection.lodged": "提出异议",
    "resolve_objection": "处理异议",
    "objection.upheld": "异议成立",
    "objection.dismissed": "异议不成立",
    "record_payment": "确认缴费",
    "payment.recorded": "确认缴费",
    "record_materials_received": "登记纸质材料",
    "materials.received": "收到纸质材料",
    "record_defense": "登记答辩",
    "defense.recorded": "登记答辩",
    "record_vote": "登记表决",
    "vote.recorded": "评审会议表决",
    "record_misconduct": "登记违规行为",
    "misconduct.recorded": "登记违规行为",
    "change_deadlines": "调整期限",
    "review_form.issued": "生成评审表",
    "result.announced": "公布结果并发证",
    "result.confirmed": "结果审核确认",
    "result.not_confirmed": "结果未获确认",
    "deadlines.changed": "评审工作期限调整",
    "at_risk.changed": "风险提示变化",
    "timer.at_risk": "进入风险期（系统）",
    "unit_publicity.completed": "单位内部公示结束",
    "result_publicity.completed": "评审结果公示结束",
}

#: Return reasons offered as checkboxes (§10.4); any other code may be typed in.
REASON_CODES: dict[str, str] = {
    "missing_material": "缺少材料",
    "unclear_scan": "扫描件不清晰",
    "eligibility": "不符合申报条件",
}


def action_label(action: str) -> str:
    """``unit_review.approve`` → 单位审核：同意; ``deadline.publicity_ends.set`` → 设定期限."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    stage, _, outcome = action.rpartition(".")
    if stage in STATE_LABELS and outcome in OUTCOME_LABELS:
        return f"{STATE_LABELS[stage]}：{OUTCOME_LABELS[outcome]}"
    if action.startswith("deadline."):
        return "期限" + ("设定" if action.endswith(".set") else "变更")
    if action.startswith("timer."):
        return "期限届满（系统执行）"
    return ""
