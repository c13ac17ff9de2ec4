"""docs/rules.md §6 eligibility flags shown to reviewers (campaign data: continuing education,
appraisals, Mandarin), and the failed appraisal that blocks."""

from __future__ import annotations

from typing import Any

import pytest

from domain.eligibility import blocking_reason, continuing_education_years, eligibility_flags
from tests.domain.notices import applicant, campaign_000, campaign_001, campaign_003, campaign_004

FULL = {"public_hours": 30, "professional_hours": 60}
GOOD_APPRAISALS_2024 = [{"year": y, "result": "合格"} for y in (2021, 2022, 2023)]


def person_001(**changes: Any):
    """An applicant to 001 (2024) with everything in order."""
    data: dict[str, Any] = {
        "continuing_education": [{"year": y, **FULL} for y in (2021, 2022, 2023, 2024)],
        "appraisals": GOOD_APPRAISALS_2024,
    }
    data.update(changes)
    return applicant(**data)


def flags_001(person, level="intermediate", route="directed", **campaign):
    return eligibility_flags(campaign_001(**campaign), level, route, person)


def with_year(year: int, **hours: Any) -> list[dict[str, Any]]:
    """001's four years in order, with ``year`` replaced by ``hours``."""
    return [{"year": y, **(hours if y == year else FULL)} for y in (2021, 2022, 2023, 2024)]


# --------------------------------------------------------------------------- continuing education


def test_continuing_education_complete_for_001_years_2021_2024_has_no_flag():
    """§6, 001 四(一)6 每年不少于90学时（专业课不少于60学时）, 近4年（2021-2024年）."""
    assert flags_001(person_001()) == []


@pytest.mark.parametrize(
    "hours",
    [
        {"public_hours": 31, "professional_hours": 59},  # professional < 60 (001)
        {"public_hours": 30, "professional_hours": 59},  # total 89 < 90
    ],
)
def test_continuing_education_short_year_is_flagged(hours):
    """§6 continuing education, 001 四(一)6: ≥ 90 h a year, ≥ 60 of them professional."""
    person = person_001(continuing_education=with_year(2022, **hours))
    assert flags_001(person) == ["continuing_education_short"]


def test_continuing_education_missing_year_is_flagged():
    """§6, 001 需上传近4年…合格证书: a year with no record (2023) is short."""
    records = [r for r in with_year(2023) if r["year"] != 2023]
    assert flags_001(person_001(continuing_education=records)) == ["continuing_education_short"]


def test_continuing_education_exemption_covers_its_own_year_only():
    """§6 免学审批表 (001; 004 可免去当年继续教育): 2023 exempt with no hours is fine; an
    exemption for 2023 does not cover a missing 2024."""
    exempt_2023 = with_year(2023, exempt=True, public_hours=0, professional_hours=0)
    assert flags_001(person_001(continuing_education=exempt_2023)) == []
    no_2024 = [r for r in exempt_2023 if r["year"] != 2024]
    assert flags_001(person_001(continuing_education=no_2024)) == ["continuing_education_short"]


def test_continuing_education_records_outside_the_checked_years_do_not_count():
    """§6, 001 checks 2021-2024: a full 2020 does not replace a missing 2021."""
    records = [{"year": 2020, **FULL}] + [r for r in with_year(2021) if r["year"] != 2021]
    assert flags_001(person_001(continuing_education=records)) == ["continuing_education_short"]


def test_continuing_education_years_by_level_003():
    """§6, 003 五(一)4: 初级 the current year (2021); 中级 the last 4 years (2018-2021)."""
    campaign = campaign_003()
    assert continuing_education_years(campaign, "junior") == [2021]
    assert continuing_education_years(campaign, "intermediate") == [2018, 2019, 2020, 2021]
    only_2021 = applicant(
        continuing_education=[{"year": 2021, **FULL}],
        appraisals=[{"year": y, "result": "合格"} for y in (2018, 2019, 2020)],
    )
    assert eligibility_flags(campaign, "junior", "directed", only_2021) == []
    assert eligibility_flags(campaign, "intermediate", "directed", only_2021) == [
        "continuing_education_short"
    ]


def test_001_states_no_public_minimum_so_29_public_hours_are_not_flagged():
    """§6, 001 四(一)6 每年须完成不少于90学时（专业课不少于60学时）: no public-course minimum."""
    person = person_001(
        continuing_education=with_year(2022, public_hours=29, professional_hours=61)
    )
    assert flags_001(person) == []


def test_004_public_courses_below_30_hours_are_flagged():
    """§6, 004 自2021年起…公需科目不少于30学时."""
    person = applicant(
        continuing_education=[{"year": 2021, "public_hours": 29, "professional_hours": 61}],
        appraisals=[{"year": y, "result": "合格"} for y in (2018, 2019, 2020)],
    )
    assert eligibility_flags(campaign_004(), "intermediate", "directed", person) == [
        "continuing_education_short"
    ]


def test_no_continuing_education_rule_by_default():
    """§6 v3: continuing education is campaign data; a campaign that states none checks none
    (no 90-hour rule before 2021, none imposed on 000's 120-hour online courses)."""
    assert continuing_education_years(campaign_000(), "deputy_senior") == []
    person = applicant(appraisals=[{"year": y, "result": "合格"} for y in (2017, 2018, 2019)])
    assert eligibility_flags(campaign_000(), "deputy_senior", "directed", person) == []


def test_003_rules_differ_by_level():
    """§6, 003: junior the current year; intermediate the last 4 years (2018-2021)."""
    assert continuing_education_years(campaign_003(), "junior") == [2021]
    assert continuing_education_years(campaign_003(), "intermediate") == [2018, 2019, 2020, 2021]


def test_private_enterprise_route_first_time_is_not_checked():
    """§6, 001 民营企业专业技术人员初次参加职称评审对继续教育不做硬性要求."""
    person = person_001(continuing_education=[], first_time=True)
    assert flags_001(person, route="private_enterprise") == []


@pytest.mark.parametrize("kind", ["private_enterprise", "freelance"])
def test_private_or_freelance_employer_first_time_is_not_checked(kind):
    """§6, 001: the exemption follows the employer kind (民营企业 / 自由职业) too."""
    person = person_001(continuing_education=[], first_time=True, employer_kind=kind)
    assert flags_001(person) == []


def test_private_enterprise_not_first_time_is_checked():
    """§6, 001 初次参加 only: a second-time private-enterprise applicant is checked."""
    person = person_001(continuing_education=[], first_time=False)
    assert flags_001(person, route="private_enterprise") == ["continuing_education_short"]


def test_private_enterprise_exemption_can_be_switched_off():
    """§6 private_enterprise_first_time_exempt is campaign data (a notice without 001's rule)."""
    person = person_001(continuing_education=[], first_time=True)
    policy = {"default_years": [2024], "private_enterprise_first_time_exempt": False}
    got = flags_001(person, route="private_enterprise", continuing_education=policy)
    assert got == ["continuing_education_short"]


def test_public_institution_first_time_is_still_checked():
    """§6, 001: the first-time exemption is for private enterprises only."""
    person = person_001(continuing_education=[], first_time=True)
    assert flags_001(person) == ["continuing_education_short"]


# --------------------------------------------------------------------------- appraisal


def test_appraisal_undetermined_is_flagged():
    """§6, 000 四 7 考核不定等相应增加年限: 不定等 in 2022 (of 2021-2023) is flagged."""
    appraisals = [
        {"year": 2021, "result": "优秀"},
        {"year": 2022, "result": "不定等"},
        {"year": 2023, "result": "合格"},
    ]
    assert flags_001(person_001(appraisals=appraisals)) == ["appraisal_undetermined"]


def test_appraisal_basically_competent_is_flagged():
    """§6, 000 四 7 考核合格及以上: "基本合格" in one of the three years is flagged."""
    appraisals = [*GOOD_APPRAISALS_2024[:2], {"year": 2023, "result": "基本合格"}]
    assert flags_001(person_001(appraisals=appraisals)) == ["appraisal_basic"]


def test_003_asks_no_appraisals_of_private_enterprise_staff():
    """§6, 003 民营企业不需提供 (考核): no appraisal flags for the exempt employer kinds."""
    campaign = campaign_003(
        appraisals={"exempt_employer_kinds": ["private_enterprise", "freelance"]}
    )
    person = applicant(employer_kind="private_enterprise", appraisals=[])
    assert "appraisal_missing" not in eligibility_flags(campaign, "junior", "directed", person)
    public = applicant(appraisals=[])
    assert "appraisal_missing" in eligibility_flags(campaign, "junior", "directed", public)


def test_appraisal_missing_year_is_flagged():
    """§6, 001 四(一)5 近3年考核: no appraisal for 2021 is flagged."""
    appraisals = [a for a in GOOD_APPRAISALS_2024 if a["year"] != 2021]
    assert flags_001(person_001(appraisals=appraisals)) == ["appraisal_missing"]


def test_appraisals_outside_the_three_previous_years_are_ignored():
    """§6: the three calendar years before the campaign year (2024 → 2021-2023); 不定等 in 2024
    or 2020 is not among them."""
    appraisals = [
        *GOOD_APPRAISALS_2024,
        {"year": 2024, "result": "不定等"},
        {"year": 2020, "result": "不定等"},
    ]
    assert flags_001(person_001(appraisals=appraisals)) == []


def test_failed_appraisal_blocks_naming_the_year():
    """§6, 000 四 7 考核不合格不得申报: 不合格 in 2023 blocks creation and submission."""
    appraisals = [*GOOD_APPRAISALS_2024[:2], {"year": 2023, "result": "不合格"}]
    reason = blocking_reason(campaign_001(), person_001(appraisals=appraisals))
    assert reason is not None
    assert "2023年度考核不合格" in reason
    assert "2023" in reason.split(" / ")[1]


def test_failed_appraisal_names_every_failed_year():
    """§6, 000: 不合格 in 2021 and 2023 → both named."""
    appraisals = [
        {"year": 2021, "result": "不合格"},
        {"year": 2022, "result": "合格"},
        {"year": 2023, "result": "不合格"},
    ]
    reason = blocking_reason(campaign_001(), person_001(appraisals=appraisals))
    assert reason is not None and "2021、2023" in reason


def test_failed_appraisal_outside_the_window_does_not_block():
    """§6: 不合格 in 2020 is not one of the three years before 2024."""
    appraisals = [*GOOD_APPRAISALS_2024, {"year": 2020, "result": "不合格"}]
    assert blocking_reason(campaign_001(), person_001(appraisals=appraisals)) is None


def test_no_failed_appraisal_does_not_block():
    """§6: 合格/基本合格/优秀/不定等 never block."""
    appraisals = [
        {"year": 2021, "result": "基本合格"},
        {"year": 2022, "result": "不定等"},
        {"year": 2023, "result": "优秀"},
    ]
    assert blocking_reason(campaign_001(), person_001(appraisals=appraisals)) is None


# --------------------------------------------------------------------------- Mandarin


@pytest.mark.parametrize("level", ["一级甲等", "二级乙等", "三级甲等", "三级乙等"])
def test_mandarin_at_or_above_three_b_is_fine(level):
    """§6, 001 四(一)7 事业单位…普通话水平不得低于三级乙等."""
    assert flags_001(person_001(mandarin_level=level)) == []


@pytest.mark.parametrize("level", [None, "", "无", "四级"])
def test_mandarin_missing_or_unrecognised_is_flagged_for_public_institutions(level):
    """§6, 001 事业单位专业技术人员申报职称，须上传普通话等级证书."""
    assert flags_001(person_001(mandarin_level=level)) == ["mandarin_below_required"]


def test_mandarin_is_not_required_where_the_notice_says_so():
    """§6, 000 and 004 外(汉)语…不作硬性要求: only a campaign that asks (001) flags Mandarin."""
    assert flags_001(person_001(mandarin_level=None), mandarin_required=False) == []


@pytest.mark.parametrize("kind", ["state_enterprise", "private_enterprise", "freelance"])
def test_mandarin_not_required_outside_public_institutions(kind):
    """§6, 001: the Mandarin rule is for 事业单位 staff only."""
    assert flags_001(person_001(mandarin_level=None, employer_kind=kind)) == []


# --------------------------------------------------------------------------- 两类人才贯通


@pytest.mark.parametrize(
    ("grade", "years", "level"),
    [
        ("高级工", 2, "junior"),
        ("技师", 3, "intermediate"),
        ("高级技师", 4, "deputy_senior"),
        ("技师", 2, "junior"),  # a 技师 is 高级工以上: 2 years suffice for 助理
        ("高级技师", 3, "intermediate"),
    ],
)
def test_skill_route_with_enough_years_is_only_marked(grade, years, level):
    """§6, 001 四(七) 两类人才贯通: 高级工/技师/高级技师 满2年/3年/4年 → 助理/中级/副高级."""
    person = person_001(skill_grade=grade, skill_years=years)
    assert flags_001(person, level=level) == ["skill_route"]


@pytest.mark.parametrize(
    ("grade", "years", "level"),
    [
        ("高级工", 1, "junior"),
        ("技师", 2, "intermediate"),
        ("高级技师", 3, "deputy_senior"),
        ("高级技师", None, "deputy_senior"),
        ("高级工", 9, "intermediate"),  # 高级工 reaches 助理 only
        ("技师", 9, "deputy_senior"),  # 技师 reaches 中级 only
        ("高级技师", 9, "senior"),  # no skill grade reaches 正高
    ],
)
def test_skill_route_short_years_or_level_beyond_grade_is_flagged(grade, years, level):
    """§6, 001 四(七): too few years in the grade, or a level above what the grade allows."""
    person = person_001(skill_grade=grade, skill_years=years)
    assert flags_001(person, level=level) == ["skill_route", "skill_years_short"]


def test_flags_are_sorted_and_combined():
    """§6 flags are stable sorted codes (docs/rules.md §15, the view's ``flags``)."""
    person = person_001(
        continuing_education=[],
        appraisals=[{"year": 2022, "result": "不定等"}],
        mandarin_level=None,
        skill_grade="高级工",
        skill_years=1,
    )
    assert flags_001(person, level="junior") == [
        "appraisal_missing",
        "appraisal_undetermined",
        "continuing_education_short",
        "mandarin_below_required",
        "skill_route",
        "skill_years_short",
    ]
