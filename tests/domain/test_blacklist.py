"""docs/rules.md §2 (end): bars after misconduct (个人五年内不得申报相应职称评审; 单位三年内取消参评资格),
always from the finding, the whole series by default."""

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
    return applicant_bar(
        campaign, "engineering", "deputy_senior", ID, at("2024-09-05 10:00"), "D-1", "伪造论文"
    )


def test_applicant_bar_000_five_years_from_the_finding():
    """§2 blacklist, 000 四(三) 个人五年内不得申报相应职称评审: from the finding, 5 years."""
    entry = bar_000()
    assert entry.subject_kind == "applicant"
    assert entry.subject_id == ID
    assert entry.from_at == datetime(2024, 9, 5, 10, 0, tzinfo=CST)
    assert entry.until == datetime(2029, 9, 5, 10, 0, tzinfo=CST)
    assert (entry.series, entry.level) == ("engineering", None)
    assert entry.declaration_id == "D-1"
    assert entry.reason == "伪造论文"


def test_applicant_bar_001_runs_from_the_finding_not_from_the_next_year():
    """§2 blacklist, v3: a bar never starts later than the finding. 001 四(九) defers to the
    自治区 rules; a campaign still carrying ``applicant_from_next_year`` is read from the finding:
    a finding on 2024-09-05 bars at once, not from 2025-01-01."""
    entry = applicant_bar(
        campaign_001(blacklist={"applicant_years": 5, "applicant_from_next_year": True}),
        "engineering",
        "intermediate",
        ID,
        at("2024-09-05 10:00"),
        "D-1",
        "弄虚作假",
    )
    assert entry.from_at == datetime(2024, 9, 5, 10, 0, tzinfo=CST)
    assert entry.until == datetime(2029, 9, 5, 10, 0, tzinfo=CST)
    assert applicant_barred([entry], ID, "engineering", "intermediate", at("2024-09-06 09:00"))


def test_applicant_bar_series_scope_bars_every_level_of_the_series():
    """§2 blacklist.scope series (default; 相应职称评审): a deputy-senior cheater may not apply for
    senior (or any level) in the same series, but may in another series."""
    entry = bar_000()
    when = at("2026-03-01 09:00")
    assert applicant_barred([entry], ID, "engineering", "senior", when) == entry
    assert applicant_barred([entry], ID, "engineering", "junior", when) == entry
    assert applicant_barred([entry], ID, "economics", "senior", when) is None


def test_a_bar_recorded_for_a_lower_case_x_bars_the_upper_case_number():
    """§2.1: ID numbers are normalised (upper-case X), so …x and …X are one person."""
    lower = "11010519491231002x"
    entry = applicant_bar(
        campaign_000(), "engineering", "deputy_senior", lower, at("2024-09-05 10:00"), "D-1", "r"
    )
    assert entry.subject_id == "11010519491231002X"
    when = at("2025-01-01 00:00")
    assert applicant_barred([entry], "11010519491231002X", "engineering", "senior", when) == entry
    assert applicant_barred([entry], lower, "engineering", "senior", when) == entry


def test_applicant_bar_scope_all_covers_every_title():
    """§2 blacklist.scope all: no series or level."""
    entry = bar_000(scope="all")
    assert (entry.series, entry.level) == (None, None)
    assert applicant_barred([entry], ID, "economics", "senior", at("2025-01-01 00:00")) == entry


def test_applicant_bar_found_on_29_february_ends_on_28_february():
    """§2 blacklist, 民法典202 (no corresponding day → last day of the month): 2024-02-29 + 5
    years → 2029-02-28."""
    entry = applicant_bar(
        campaign_000(), "engineering", "junior", ID, at("2024-02-29 09:00"), "D-1", "r"
    )
    assert entry.until == datetime(2029, 2, 28, 9, 0, tzinfo=CST)


def test_applicant_bar_from_an_utc_instant_is_kept_in_beijing_time():
    """§1 Beijing time: a finding at 2024-09-05 02:00Z is 10:00 Beijing."""
    entry = applicant_bar(
        campaign_000(),
        "engineering",
        "junior",
        ID,
        datetime(2024, 9, 5, 2, 0, tzinfo=UTC),
        "D-1",
        "r",
    )
    assert entry.from_at.utcoffset() == timedelta(hours=8)
    assert entry.until == datetime(2029, 9, 5, 10, 0, tzinfo=CST)


def test_applicant_barred_for_the_same_series_and_level_only():
    """§2 blacklist.scope series_level: the same series and level is barred; another level or
    series is not."""
    entry = bar_000(scope="series_level")
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
    assert "engineering *" in text


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
