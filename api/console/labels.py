"""Chinese labels for the ids the service uses. The ids stay visible next to them (``单位审核
unit_review``): staff learn the API's words, and auditors can match a page to an export.

State labels are the workflow's own (:data:`domain.states.STATES`), command labels the command
table's (:data:`domain.commands.COMMANDS`), deadline labels the reminders' (``DEADLINE_KINDS``) and
delivery statuses the outbox's; the rest name roles, levels, routes, flags, reasons, refusals,
audit actions and the facts an audit event records as the notices do. Material kinds are labelled
by their campaign's catalogue. ``tests/console/test_labels.py`` fails when a code the service can
emit has no label here.
"""

from __future__ import annotations

from api.console.audit_labels import ACTION_LABELS, DETAIL_LABELS, REFUSAL_LABELS
from domain.commands import COMMANDS
from domain.eligibility import LEVEL_NAMES
from domain.materials import REASON_PREFIX
from domain.reminders import DEADLINE_KINDS, DELIVERY_STATUSES
from domain.routes import ROUTE_LABELS
from domain.states import PENDING_LABELS, STATE_LABELS

__all__ = [
    "ACTION_LABELS",
    "CHANNEL_LABELS",
    "DEADLINE_LABELS",
    "DELIVERY_STATUSES",
    "DETAIL_LABELS",
    "FLAG_LABELS",
    "LEVEL_LABELS",
    "NOTIFICATION_LABELS",
    "OBJECTOR",
    "OUTCOME_LABELS",
    "PENDING_LABELS",
    "PROBLEM_LABELS",
    "REASON_CODES",
    "REFUSAL_LABELS",
    "ROLE_LABELS",
    "ROUTE_LABELS",
    "SERIES_LABELS",
    "STATE_LABELS",
    "VALUE_LABELS",
    "action_label",
    "reason_label",
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
#: Whoever lodges an objection, whatever their role (any signed-in person may, docs/rules.md §10.8).
OBJECTOR = "异议人"

LEVEL_LABELS: dict[str, str] = LEVEL_NAMES

#: The series the notices' campaigns review (``examples/campaigns``).
SERIES_LABELS: dict[str, str] = {
    "engineering": "工程系列",
    "economics": "经济系列",
    "cadre_college_teachers": "干部院校教师",
    "technical_school_teachers": "技工院校教师",
}

OUTCOME_LABELS: dict[str, str] = {
    "approve": "同意",
    "return": "退回修改",
    "reject": "不予通过",
    "accepted": "已执行",
    "refused": "已拒绝",
}

#: Eligibility flags (docs/rules.md §6) and the late fee or materials left to the committee (§3).
FLAG_LABELS: dict[str, str] = {
    "continuing_education_short": "继续教育学时不足",
    "appraisal_missing": "缺年度考核结果",
    "appraisal_undetermined": "年度考核不定等",
    "appraisal_basic": "年度考核基本合格",
    "mandarin_below_required": "普通话等级未达要求",
    "skill_route": "技能人才贯通申报",
    "skill_years_short": "技能等级年限不足",
    "service_not_excellent": "直接认定：基层服务年度未连续三年考核优秀",
    "fee_late": "逾期缴费",
    "materials_late": "逾期报送纸质材料",
}

#: Return reasons offered as checkboxes (docs/rules.md §10.4); any other code may be typed in, and
#: ``material:<kind>`` names a material at fault (labelled by the campaign's catalogue).
REASON_CODES: dict[str, str] = {
    "missing_material": "缺少材料",
    "unclear_scan": "扫描件不清晰",
    "eligibility": "不符合申报条件",
}


#: The kinds of problem an API answer names (``api.problems.PROBLEM_KINDS``).
PROBLEM_LABELS: dict[str, str] = {
    "bad-request": "请求无法读取",
    "unauthenticated": "未登录或登录已失效",
    "forbidden": "无权操作",
    "not-found": "不存在",
    "method-not-allowed": "不支持该方法",
    "conflict": "与当前状态不符",
    "too-large": "内容过大",
    "unsupported-media-type": "不支持的内容类型",
    "invalid-input": "填写有误",
    "too-many-requests": "请求过多",
    "unavailable": "服务暂不可用",
    "server-error": "服务出错",
}

NOTIFICATION_LABELS: dict[str, str] = {
    "action_required": "待办",
    "deadline_reminder": "截止提醒",
    "outcome": "结果",
}
CHANNEL_LABELS: dict[str, str] = {"email": "邮件", "webhook": "接口推送"}

#: The deadlines of a declaration (the view's ``deadlines``) and the at-risk day.
DEADLINE_LABELS: dict[str, str] = {
    **{kind: info.label_zh for kind, info in DEADLINE_KINDS.items()},
    "at_risk_from": "风险提示起始",
}


#: What a deadline event did to the deadline it names (``deadline.<kind>.<change>``).
_DEADLINE_CHANGES = {
    "set": "设定",
    "recomputed": "重新计算",
    "confirmed": "确认",
    "changed": "变更",
}
_HTTP_METHODS = ("GET ", "POST ", "PUT ", "PATCH ", "DELETE ")


def action_label(action: str) -> str:
    """``unit_review.approve`` → 单位审核：同意; ``deadline.publicity_ends.set`` → 公示期满：设定;
    ``GET /campaigns/{campaign_id}/report`` (a refused request the API names by its route) →
    访问接口. Empty for an action the service never records."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    if action in COMMANDS:
        return COMMANDS[action].label
    if action in PENDING_LABELS:
        return PENDING_LABELS[action]
    head, _, tail = action.rpartition(".")
    if head in STATE_LABELS and tail in OUTCOME_LABELS:
        return f"{STATE_LABELS[head]}：{OUTCOME_LABELS[tail]}"
    kind, _, change = action.removeprefix("deadline.").rpartition(".")
    if action.startswith("deadline.") and kind in DEADLINE_LABELS and change in _DEADLINE_CHANGES:
        return f"{DEADLINE_LABELS[kind]}：{_DEADLINE_CHANGES[change]}"
    if action.startswith(_HTTP_METHODS):
        return "访问接口"
    return ""


def reason_label(code: str, kinds: dict[str, str] | None = None) -> str:
    """A reason an audit event records: a return reason (``missing_material``), a material at
    fault (``material:degree``, labelled by ``kinds``, the catalogue's labels) or a refusal
    (``decide.wrong_stage`` → 审核决定：环节不符). Empty for a code typed in by hand."""
    if code in REASON_CODES:
        return REASON_CODES[code]
    if code.startswith(REASON_PREFIX):
        kind = code.removeprefix(REASON_PREFIX)
        return f"材料有误：{(kinds or {}).get(kind) or kind}"
    command, _, refusal = code.rpartition(".")
    if refusal in REFUSAL_LABELS and (label := action_label(command)):
        return f"{label}：{REFUSAL_LABELS[refusal]}"
    return REFUSAL_LABELS.get(code, "")


#: Values of audit details and views that are codes, by the key they stand under.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "level": LEVEL_LABELS,
    "route": ROUTE_LABELS,
    "series": SERIES_LABELS,
    "flags": FLAG_LABELS,
    "stage": STATE_LABELS,
    "state": STATE_LABELS,
    "publicity": STATE_LABELS,
    "ended_by": ACTION_LABELS,
    "outcome": {**OUTCOME_LABELS, "completed": "期满结束", "interrupted": "中途结束"},
    "policy": {"abandon": "视为放弃", "committee_decides": "由评审委员会决定"},
    "mode": {"onsite": "现场", "video": "视频", "phone": "电话"},
    "venue": {"onsite": "现场", "remote": "远程"},
    "masked_items": {
        "name": "姓名",
        "photo": "照片",
        "unit": "工作单位",
        "secret_material": "涉密材料",
    },
    "kind": {**NOTIFICATION_LABELS, **DEADLINE_LABELS},
    "channel": CHANNEL_LABELS,
    "status": DELIVERY_STATUSES,
    "role": ROLE_LABELS,
    "actor_role": ROLE_LABELS,
}
