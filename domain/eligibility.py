"""Eligibility checks shown to reviewers (docs/rules.md §6): flags, except the failed appraisal,
which blocks creation and submission.

Flag codes (sorted, stable):

- ``continuing_education_short``: a year one of the campaign's rules checks (for this level and
  route) below that rule's hours in total, professional or public courses, or missing, unless
  that year's exemption (免学审批表) is approved (001: 90 / 60, 2021-2024; 004: 90 / 60 / 30);
- ``appraisal_undetermined``: "不定等" in one of the three years before the campaign year; it adds a
  year to the required seniority (000: 考核不定等相应增加年限);
- ``appraisal_missing``: one of those three years has no appraisal (000, 001: 近3年考核), unless
  the campaign asks none of this route or employer kind (003: 民营企业不需提供);
- ``appraisal_basic``: "基本合格" in one of those years (000 asks for 合格及以上);
- ``mandarin_below_required``: public-institution staff without a Mandarin certificate of at least
  三级乙等, where the campaign asks for one (``mandarin_required``: 001 only; 000 and 004 say
  外(汉)语…不作硬性要求);
- ``skill_route``: a high-skill worker applying through 两类人才贯通 (001);
- ``skill_years_short``: the skill grade does not reach the level, or too few years in it (001);
- ``service_not_excellent``: on the 直接认定 route, the claimed years of grassroots service hold no
  three consecutive years each appraised 优秀 (004 附件2 三(二) 连续三年考核优秀): the committee's
  formal review decides; the flag points it at what to check.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.models import (
    Applicant,
    Appraisal,
    Campaign,
    ContinuingEducationRule,
    ContinuingEducationYear,
    Level,
    Route,
    ServiceYear,
)
from domain.routes import DIRECT_RECOGNITION_YEARS, excellent_service_run

__all__ = [
    "LEVEL_NAMES",
    "LEVEL_RANK",
    "MANDARIN_LEVELS",
    "MANDARIN_REQUIRED",
    "SKILL_GRADE_MAX_LEVEL",
    "SKILL_YEARS_BY_LEVEL",
    "appraisal_years",
    "blocking_reason",
    "continuing_education_years",
    "eligibility_flags",
]

LEVEL_RANK: dict[str, int] = {"junior": 0, "intermediate": 1, "deputy_senior": 2, "senior": 3}
#: Each level as certificates and notices name it (职称等级).
LEVEL_NAMES: dict[str, str] = {
    "junior": "初级",
    "intermediate": "中级",
    "deputy_senior": "副高级",
    "senior": "正高级",
}

#: Mandarin proficiency grades, best first (普通话水平测试等级).
MANDARIN_LEVELS: tuple[str, ...] = (
    "一级甲等",
    "一级乙等",
    "二级甲等",
    "二级乙等",
    "三级甲等",
    "三级乙等",
)
MANDARIN_REQUIRED = "三级乙等"

#: 001 两类人才贯通: 高级工 → 助理 (junior), 技师 → 中级, 高级技师 → 副高级.
SKILL_GRADE_MAX_LEVEL: dict[str, Level] = {
    "高级工": "junior",
    "技师": "intermediate",
    "高级技师": "deputy_senior",
}
#: Years of technical work in the grade needed for each level: 满2年、3年、4年 (001).
SKILL_YEARS_BY_LEVEL: dict[str, int] = {"junior": 2, "intermediate": 3, "deputy_senior": 4}

_PRIVATE_KINDS = frozenset({"private_enterprise", "freelance"})


def appraisal_years(campaign: Campaign) -> list[int]:
    """The three calendar years before the campaign's year (近3年考核)."""
    return [campaign.year - 3, campaign.year - 2, campaign.year - 1]


def rules_for(campaign: Campaign, level: Level, route: Route) -> list[ContinuingEducationRule]:
    """The campaign's continuing-education rules that concern this level and route (none by
    default: docs/rules.md §6 makes it campaign data)."""
    return [
        rule
        for rule in campaign.continuing_education
        if (not rule.levels or level in rule.levels) and (not rule.routes or route in rule.routes)
    ]


def continuing_education_years(
    campaign: Campaign, level: Level, route: Route = "directed"
) -> list[int]:
    """Every year a rule checks for this level and route, in order."""
    return sorted({year for rule in rules_for(campaign, level, route) for year in rule.years})


def _is_private(route: Route, applicant: Applicant) -> bool:
    return route == "private_enterprise" or applicant.employer_kind in _PRIVATE_KINDS


def _year_short(records: list[ContinuingEducationYear], rule: ContinuingEducationRule) -> bool:
    if any(r.exempt for r in records):
        return False  # an approved exemption (免学审批表) covers its own year
    if not records:
        return True
    public = sum(r.public_hours for r in records)
    professional = sum(r.professional_hours for r in records)
    return (
        (rule.min_total is not None and public + professional < rule.min_total)
        or (rule.min_professional is not None and professional < rule.min_professional)
        or (rule.min_public is not None and public < rule.min_public)
    )


def _continuing_education_short(
    campaign: Campaign, level: Level, route: Route, applicant: Applicant
) -> bool:
    for rule in rules_for(campaign, level, route):
        if (
            rule.exempt_first_time_private
            and applicant.first_time
            and _is_private(route, applicant)
        ):
            continue
        for year in rule.years:
            if _year_short([r for r in applicant.continuing_education if r.year == year], rule):
                return True
    return False


def appraisals_exempt(campaign: Campaign, route: Route, applicant: Applicant) -> bool:
    """No appraisals are asked of this route or employer kind (003: 民营企业不需提供)."""
    policy = campaign.appraisals
    return route in policy.exempt_routes or applicant.employer_kind in policy.exempt_employer_kinds


def _appraisals_in_window(campaign: Campaign, applicant: Applicant) -> dict[int, list[Appraisal]]:
    window: dict[int, list[Appraisal]] = {year: [] for year in appraisal_years(campaign)}
    for appraisal in applicant.appraisals:
        if appraisal.year in window:
            window[appraisal.year].append(appraisal)
    return window


def _mandarin_below(applicant: Applicant) -> bool:
    if applicant.employer_kind != "public_institution":
        return False
    level = (applicant.mandarin_level or "").strip()
    if level not in MANDARIN_LEVELS:
        return True
    return MANDARIN_LEVELS.index(level) > MANDARIN_LEVELS.index(MANDARIN_REQUIRED)


def _skill_years_short(level: Level, applicant: Applicant) -> bool:
    grade = applicant.skill_grade
    if grade is None:
        return False
    if LEVEL_RANK[level] > LEVEL_RANK[SKILL_GRADE_MAX_LEVEL[grade]]:
        return True
    return (applicant.skill_years or 0) < SKILL_YEARS_BY_LEVEL[level]


def eligibility_flags(
    campaign: Campaign,
    level: Level,
    route: Route,
    applicant: Applicant,
    service_years: Sequence[ServiceYear] = (),
) -> list[str]:
    """§6: the flags a reviewer sees, sorted."""
    flags: set[str] = set()
    if route == "direct_recognition" and (
        excellent_service_run(list(service_years), applicant.appraisals) < DIRECT_RECOGNITION_YEARS
    ):
        flags.add("service_not_excellent")
    if _continuing_education_short(campaign, level, route, applicant):
        flags.add("continuing_education_short")
    window = _appraisals_in_window(campaign, applicant)
    if not appraisals_exempt(campaign, route, applicant):
        if any(not found for found in window.values()):
            flags.add("appraisal_missing")
        if any(a.result == "不定等" for found in window.values() for a in found):
            flags.add("appraisal_undetermined")
        if any(a.result == "基本合格" for found in window.values() for a in found):
            flags.add("appraisal_basic")
    if campaign.mandarin_required and _mandarin_below(applicant):
        flags.add("mandarin_below_required")
    if applicant.skill_grade is not None:
        flags.add("skill_route")
    if _skill_years_short(level, applicant):
        flags.add("skill_years_short")
    return sorted(flags)


def blocking_reason(campaign: Campaign, applicant: Applicant) -> str | None:
    """§6 (000: 考核不合格不得申报): "不合格" in any of the three years before the campaign year
    blocks creation and submission (409)."""
    window = _appraisals_in_window(campaign, applicant)
    failed = [year for year, found in window.items() if any(a.result == "不合格" for a in found)]
    if not failed:
        return None
    years = "、".join(str(y) for y in failed)
    return (
        f"{years}年度考核不合格，不得申报（近3年考核不合格不得申报） / "
        f"annual appraisal {', '.join(map(str, failed))} was 不合格 (failed): "
        "the applicant may not apply in this campaign"
    )
