"""§2 end: bars after misconduct (个人五年内不得申报相应职称评审; 单位三年内取消参评资格)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.blacklist import (
    BarEntry,
    applicant_bar,
    applicant_barred,
    bar_refusal,
    unit_bar,
    unit_barred,
)
from tests.domain.notices import CST, at, campaign_000, campaign_001

ID = "650100199001011234"
ONE_SECOND = timedelta(seconds=1)


def bar_000(**blacklist) -> BarEntry:
    campaign = campaign_000(blacklist=blacklist) if blacklist else campaign_000()
    return applicant_bar(campaign, "deputy_senior", ID, at("2024-09-05 10:00"), "D-1", "伪造论文")


def test_applicant_bar_000_five_years_from_the_finding():
    """§2 blacklist, 000 四(三) 个人五年内不得申报相应职称评审: from the finding, 5 years."""
    entry = bar_000()
    assert entry.subject_kind == "applicant"
    assert entry.subject_id == ID
    assert entry.from_at == datetime(2024, 9, 5, 10, 0, tzinfo=CST)
    assert entry.until == datetime(2029, 9, 5, 10, 0, tzinfo=CST)
    assert (entry.series, entry.level) == ("engineering", "deputy_senior")
    assert entry.declaration_id == "D-1"
    assert entry.reason == "伪造论文"


def test_applicant_bar_001_pledge_three_years_from_the_next_year():
    """§2 blacklist, 001 承诺书 从申报年度下一年度起3年内: campaign year 2024 → 2025-01-01 to
    2028-01-01 (2025, 2026, 2027)."""
    entry = applicant_bar(
        campaign_001(), "intermediate", ID, at("2024-09-05 10:00"), "D-1", "弄虚作假"
    )
    assert entry.from_at == datetime(2025, 1, 1, 0, 0, tzinfo=CST)
    assert entry.until == datetime(2028, 1, 1, 0, 0, tzinfo=CST)


def test_applicant_bar_scope_all_covers_every_title():
    """§2 blacklist.scope all: no series or level."""
    entry = bar_000(scope="all")
    assert (entry.series, entry.level) == (None, None)
    assert applicant_barred([entry], ID, "economics", "senior", at("2025-01-01 00:00")) == entry


def test_applicant_bar_found_on_29_february_ends_on_28_february():
    """§2 blacklist, 民法典202 (no corresponding day → last day of the month): 2024-02-29 + 5
    years → 2029-02-28."""
    entry = applicant_bar(campaign_000(), "junior", ID, at("2024-02-29 09:00"), "D-1", "r")
    assert entry.until == datetime(2029, 2, 28, 9, 0, tzinfo=CST)


def test_applicant_bar_from_an_utc_instant_is_kept_in_beijing_time():
    """§1 Beijing time: a finding at 2024-09-05 02:00Z is 10:00 Beijing."""
    entry = applicant_bar(
        campaign_000(),
        "junior",
        ID,
        datetime(2024, 9, 5, 2, 0, tzinfo=UTC),
        "D-1",
        "r",
    )
    assert entry.from_at.utcoffset() == timedelta(hours=8)
    assert entry.until == datetime(2029, 9, 5, 10, 0, tzinfo=CST)


def test_applicant_barred_for_the_same_series_and_level_only():
    """§2 blacklist.scope series_level (相应职称评审): the same series and level is barred;
    another level or series is not."""
    entry = bar_000()
    when = at("2026-03-01 09:00")
    assert applicant_barred([entry], ID, "engineering", "deputy_senior", when) == entry
    assert applicant_barred([entry], ID, "engineering", "intermediate", when) is None
    assert applicant_barred([entry], ID, "economics", "deputy_senior", when) is None
    assert (
        applicant_barred([entry], "650100199001019999", "engineering", "deputy_senior", when)
        is None
    )


def test_applicant_bar_is_half_open_from_finding_until_end():
    """§2 blacklist: barred from the finding up to (not including) the end instant."""
    entry = bar_000()
    barred = applicant_barred
    assert barred([entry], ID, "engineering", "deputy_senior", entry.from_at) == entry
    assert barred([entry], ID, "engineering", "deputy_senior", entry.from_at - ONE_SECOND) is None
    assert barred([entry], ID, "engineering", "deputy_senior", entry.until - ONE_SECOND) == entry
    assert barred([entry], ID, "engineering", "deputy_senior", entry.until) is None


def test_applicant_bar_001_starts_only_the_next_year():
    """§2 blacklist, 001 从申报年度下一年度起: not yet barred on 2024-12-31, barred 2025-01-01."""
    entry = applicant_bar(
        campaign_001(), "intermediate", ID, at("2024-09-05 10:00"), "D-1", "弄虚作假"
    )
    assert (
        applicant_barred([entry], ID, "engineering", "intermediate", at("2024-12-31 23:59")) is None
    )
    assert (
        applicant_barred([entry], ID, "engineering", "intermediate", at("2025-01-01 00:00"))
        == entry
    )


def test_applicant_barred_returns_the_longest_bar_and_ignores_unit_bars():
    """§2 blacklist: of several bars the one lasting longest is named; unit bars never bar a
    person with the same id."""
    short = bar_000(applicant_years=2)
    long = bar_000(applicant_years=5)
    unit = unit_bar(campaign_000(), ID, at("2024-09-05 10:00"), "D-1", "r")
    assert unit is not None
    got = applicant_barred(
        [short, unit, long], ID, "engineering", "deputy_senior", at("2025-06-01 00:00")
    )
    assert got == long


def test_unit_bar_three_years_from_the_finding():
    """§2 blacklist, 000/002/003/004 被处理单位三年内取消参评资格."""
    entry = unit_bar(campaign_000(), "U-001", at("2024-09-05 10:00"), "D-1", "审核失职")
    assert entry is not None
    assert entry.subject_kind == "unit"
    assert entry.from_at == datetime(2024, 9, 5, 10, 0, tzinfo=CST)
    assert entry.until == datetime(2027, 9, 5, 10, 0, tzinfo=CST)
    assert (entry.series, entry.level) == (None, None)


def test_unit_bar_zero_years_is_none():
    """§2 blacklist.unit_years 0: no unit bar."""
    campaign = campaign_000(blacklist={"unit_years": 0})
    assert unit_bar(campaign, "U-001", at("2024-09-05 10:00"), "D-1", "r") is None


def test_unit_barred_only_that_unit_and_only_while_it_lasts():
    """§2 blacklist: the unit's approvals are refused while barred."""
    entry = unit_bar(campaign_000(), "U-001", at("2024-09-05 10:00"), "D-1", "r")
    assert entry is not None
    assert unit_barred([entry], "U-001", at("2026-01-01 00:00")) == entry
    assert unit_barred([entry], "U-002", at("2026-01-01 00:00")) is None
    assert unit_barred([entry], "U-001", at("2027-09-05 10:00")) is None
    assert unit_barred([entry], "U-001", at("2024-09-05 09:59")) is None


def test_bar_refusal_names_until_and_reason_for_an_applicant():
    """§2 blacklist: a clear refusal (409) naming the end of the bar and why."""
    text = bar_refusal(bar_000())
    assert "2029-09-05 10:00" in text
    assert "伪造论文" in text
    assert "不得申报相应职称评审" in text
    assert "engineering deputy_senior" in text


def test_bar_refusal_for_a_unit_says_it_may_not_recommend():
    """§2 blacklist: a barred unit's approval is refused naming until and reason."""
    entry = unit_bar(campaign_000(), "U-001", at("2024-09-05 10:00"), "D-1", "审核失职")
    assert entry is not None
    text = bar_refusal(entry)
    assert "2027-09-05 10:00" in text
    assert "审核失职" in text
    assert "may not recommend" in text


def test_bar_refusal_for_scope_all_says_any_title():
    """§2 blacklist.scope all: the refusal says every title."""
    assert "any title" in bar_refusal(bar_000(scope="all"))
