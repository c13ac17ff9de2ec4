"""§3 Civil Code periods, §7 working-day periods, §10.1 explanations, §10.2 held time and risk."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.calendar import WorkCalendar
from domain.periods import (
    at_risk_from,
    beijing_day,
    correction_deadline,
    count_days_civil_code,
    end_of_day,
    publicity_end,
    working_days_between,
    working_days_end,
    working_days_needed,
)
from tests.domain.notices import CST, at, campaign_000, campaign_001

PACKAGED = "chinese-calendar 1.11.0"
PROVISIONAL = "provisional:statutory-holidays;holidays 0.109"
EIGHT_HOURS = timedelta(hours=8)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


# --------------------------------------------------------------------------- helpers


def test_beijing_day_of_an_utc_instant_is_the_beijing_date():
    """§1 all times are Beijing time: 2024-09-27 16:30Z is 2024-09-28 00:30 in Beijing."""
    assert beijing_day(datetime(2024, 9, 27, 16, 30, tzinfo=UTC)) == date(2024, 9, 28)
    assert beijing_day(datetime(2024, 9, 27, 15, 59, tzinfo=UTC)) == date(2024, 9, 27)


def test_beijing_day_refuses_a_naive_instant():
    """§1: instants must carry their zone; a naive one is ambiguous."""
    with pytest.raises(ValueError, match="no time zone"):
        beijing_day(datetime(2024, 9, 27, 10, 0))


def test_end_of_day_is_24_00_beijing_the_next_midnight():
    """§1: a deadline given as a date ends at 24:00 of that date (= next day 00:00 Beijing)."""
    ends = end_of_day(date(2024, 12, 31))
    assert ends == datetime(2025, 1, 1, 0, 0, tzinfo=CST)
    assert ends.utcoffset() == EIGHT_HOURS


# --------------------------------------------------------------------------- §3 Civil Code


def test_correction_window_wednesday_return_ends_friday_24_00(cal):
    """§3 correction window, 001 退回后2日内; 民法典201/203: return 10:00 Wed 2024-09-25 →
    24:00 Fri 09-27."""
    got = count_days_civil_code(at("2024-09-25 10:00"), 2, cal)
    assert got.at == datetime(2024, 9, 28, 0, 0, tzinfo=CST)
    assert got.at.utcoffset() == EIGHT_HOURS
    assert got.first_day == date(2024, 9, 26)
    assert got.last_day == date(2024, 9, 27)


def test_correction_window_friday_return_ends_on_adjusted_sunday(cal):
    """§3 correction window, 001 退回后2日内; 民法典201/203: return Fri 2024-09-27 → 24:00
    Sun 09-29, an adjusted working day (调休上班)."""
    got = count_days_civil_code(at("2024-09-27 16:00"), 2, cal)
    assert got.at == datetime(2024, 9, 30, 0, 0, tzinfo=CST)
    assert got.last_day == date(2024, 9, 29)


def test_correction_window_sunday_return_moves_past_national_day(cal):
    """§3 correction window, 001 退回后2日内; 民法典203 (last day a holiday → next working day):
    return Sun 2024-09-29 → nominal 10-01 is a holiday → 24:00 Tue 10-08."""
    got = count_days_civil_code(at("2024-09-29 09:00"), 2, cal)
    assert got.at == datetime(2024, 10, 9, 0, 0, tzinfo=CST)
    assert got.last_day == date(2024, 10, 8)
    assert got.explanation.inputs["nominal_last_day"] == "2024-10-01"
    assert "2024-10-01" in got.explanation.text
    assert "2024-10-08 24:00" in got.explanation.text


def test_civil_code_period_counts_from_the_beijing_day_of_an_utc_instant(cal):
    """§3 民法典201 start day not counted, §1 Beijing time: 2024-09-27 17:00Z is Sat 09-28 01:00
    Beijing; +2 days → Mon 09-30, ends 10-01 00:00."""
    got = count_days_civil_code(datetime(2024, 9, 27, 17, 0, tzinfo=UTC), 2, cal)
    assert got.at == datetime(2024, 10, 1, 0, 0, tzinfo=CST)


def test_civil_code_period_return_at_23_59_still_counts_from_that_day(cal):
    """§3 民法典201: the hour of the return does not matter, only its (Beijing) day."""
    late = count_days_civil_code(at("2024-09-25 23:59"), 2, cal)
    early = count_days_civil_code(at("2024-09-25 00:00"), 2, cal)
    assert late.at == early.at == datetime(2024, 9, 28, 0, 0, tzinfo=CST)


def test_civil_code_period_explains_rule_source_inputs_and_calendar(cal):
    """§10.1 every deadline explains itself (民法典第201、203条, official 2024 calendar)."""
    got = count_days_civil_code(at("2024-09-25 10:00"), 2, cal)
    e = got.explanation
    assert e.rule == "civil_code_period"
    assert e.source == "民法典第201、203条"
    assert e.inputs["days"] == "2"
    assert e.inputs["start_day"] == "2024-09-25"
    assert e.inputs["start"] == "2024-09-25T10:00:00+08:00"
    assert e.calendar_version == f"2024={PACKAGED}"
    assert e.provisional is False
    assert "2024-09-27 24:00" in e.text


def test_civil_code_period_into_a_provisional_year_is_marked_provisional(cal):
    """§7 provisional calendar, §3 民法典203: return Wed 2026-12-30 → nominal Fri 2027-01-01
    (元旦, provisional) → Mon 01-04, ends 01-05 00:00; both years named."""
    got = count_days_civil_code(at("2026-12-30 10:00"), 2, cal)
    assert got.at == datetime(2027, 1, 5, 0, 0, tzinfo=CST)
    assert got.explanation.provisional is True
    assert got.explanation.calendar_version == f"2026={PACKAGED};2027={PROVISIONAL}"


def test_civil_code_period_refuses_a_non_positive_length(cal):
    """§3: a period is at least one day (correction_window_days ≥ 1)."""
    with pytest.raises(ValueError):
        count_days_civil_code(at("2024-09-25 10:00"), 0, cal)


def test_correction_deadline_uses_campaign_window_and_cites_001(cal):
    """§3 correction window, 001 四(一)1 退回后2日内: Fri 2024-09-27 → 24:00 Sun 09-29."""
    got = correction_deadline(at("2024-09-27 11:00"), campaign_001(review_closes_at=None), cal)
    assert got.at == datetime(2024, 9, 30, 0, 0, tzinfo=CST)
    assert got.explanation.rule == "correction_window"
    assert got.explanation.source == "001 四(一)1 退回后2日内; 民法典第201、203条"
    assert "review_closes_at" not in got.explanation.inputs


def test_correction_deadline_with_three_day_window_lands_on_adjusted_sunday(cal):
    """§3 correction_window_days is campaign data: 3 days from Wed 2024-09-25 → Sat 09-28 (off)
    → Sun 09-29 (调休上班), ends 09-30 00:00."""
    got = correction_deadline(
        at("2024-09-25 10:00"), campaign_001(correction_window_days=3, review_closes_at=None), cal
    )
    assert got.at == datetime(2024, 9, 30, 0, 0, tzinfo=CST)


def test_correction_deadline_never_runs_past_the_review_window(cal):
    """§3, 001 审核时间…9月10日: return Mon 2024-09-09 → nominal 24:00 Wed 09-11, capped at
    review_closes_at 2024-09-11 00:00 (24:00 of 09-10)."""
    got = correction_deadline(at("2024-09-09 15:00"), campaign_001(), cal)
    assert got.at == datetime(2024, 9, 11, 0, 0, tzinfo=CST)
    assert got.last_day == date(2024, 9, 10)
    assert got.explanation.inputs["review_closes_at"] == "2024-09-11T00:00:00+08:00"
    assert "capped" in got.explanation.text
    assert "不超过审核截止时间" in got.explanation.text


def test_correction_deadline_inside_the_review_window_is_not_capped(cal):
    """§3, 001: return Fri 2024-09-06 → nominal Sun 09-08 (off) → Mon 09-09, ends 09-10 00:00,
    before review_closes_at."""
    got = correction_deadline(at("2024-09-06 15:00"), campaign_001(), cal)
    assert got.at == datetime(2024, 9, 10, 0, 0, tzinfo=CST)
    assert "capped" not in got.explanation.text


# --------------------------------------------------------------------------- §7 working days


@pytest.mark.parametrize("hour", ["00:00", "09:30", "23:59"])
def test_working_days_end_publicity_from_friday_spans_national_day(cal, hour):
    """§7 example, 000-004 单位内部公示不少于5个工作日: started Fri 2024-09-27 (any time) →
    09-29, 09-30, 10-08, 10-09, 10-10 → ends 2024-10-11 00:00; notice shows 09-28 to 10-10."""
    got = working_days_end(at(f"2024-09-27 {hour}"), 5, cal, rule="r", source="s")
    assert got.at == datetime(2024, 10, 11, 0, 0, tzinfo=CST)
    assert got.first_day == date(2024, 9, 28)
    assert got.last_day == date(2024, 10, 10)
    assert got.explanation.rule == "r"
    assert got.explanation.source == "s"
    assert got.explanation.inputs["working_days"] == "5"


def test_working_days_end_over_spring_festival_2024_counts_the_adjusted_sunday(cal):
    """§7: started Thu 2024-02-08: 02-09 (Fri), 02-10..17 off, 02-18 (Sun, 调休上班), 02-19,
    02-20, 02-21 → ends 2024-02-22 00:00."""
    got = working_days_end(at("2024-02-08 10:00"), 5, cal, rule="r", source="s")
    assert got.at == datetime(2024, 2, 22, 0, 0, tzinfo=CST)
    assert got.last_day == date(2024, 2, 21)


def test_working_days_end_refuses_zero_days(cal):
    """§7: a period of N working days needs N ≥ 1."""
    with pytest.raises(ValueError):
        working_days_end(at("2024-09-27 10:00"), 0, cal, rule="r", source="s")


def test_unit_publicity_end_cites_000_004(cal):
    """§2.2 unit publicity, 000-004 单位内部公示不少于5个工作日 (001 campaign, Fri 2024-09-27)."""
    got = publicity_end("unit_publicity", at("2024-09-27 15:00"), campaign_001(), cal)
    assert got.at == datetime(2024, 10, 11, 0, 0, tzinfo=CST)
    assert got.explanation.rule == "unit_publicity"
    assert got.explanation.source == "000-004 单位内部公示不少于5个工作日"
    assert got.explanation.calendar_version == f"2024={PACKAGED}"
    assert got.explanation.text.startswith("单位内部公示")
    assert "2024-09-28" in got.explanation.text and "2024-10-10" in got.explanation.text


def test_result_publicity_end_uses_campaign_days_and_cites_40_hao_ling(cal):
    """§2.9 result publicity, 40号令 不少于5个工作日, campaign with 7: Fri 2024-09-27 → 09-29,
    09-30, 10-08..11, 10-12 (Sat, 调休上班) → ends 2024-10-13 00:00."""
    campaign = campaign_001(result_publicity_working_days=7)
    got = publicity_end("result_publicity", at("2024-09-27 15:00"), campaign, cal)
    assert got.at == datetime(2024, 10, 13, 0, 0, tzinfo=CST)
    assert got.last_day == date(2024, 10, 12)
    assert got.explanation.rule == "result_publicity"
    assert got.explanation.source == "40号令 评审结果公示不少于5个工作日"


def test_publicity_in_a_provisional_year_assumes_no_observed_days(cal):
    """§7 provisional: started Thu 2027-09-30; 10-01..03 off, no substitutes → 10-04..08 →
    ends 2027-10-09 00:00, marked provisional."""
    got = publicity_end("unit_publicity", at("2027-09-30 10:00"), campaign_001(), cal)
    assert got.at == datetime(2027, 10, 9, 0, 0, tzinfo=CST)
    assert got.explanation.provisional is True
    assert got.explanation.calendar_version == f"2027={PROVISIONAL}"
    assert "provisional" in got.explanation.text


# --------------------------------------------------------------------------- §10.2 time held


def test_working_days_between_counts_fractions_of_working_days(cal):
    """§10.2 time held per actor: Mon 2024-09-23 10:00 → Tue 09-24 16:00 = 14/24 + 16/24 =
    1.25 working days."""
    held = working_days_between(at("2024-09-23 10:00"), at("2024-09-24 16:00"), cal)
    assert held == pytest.approx(1.25)


def test_working_days_between_skips_holidays_and_counts_adjusted_days(cal):
    """§10.2 with §7: Fri 2024-09-27 12:00 → Tue 10-08 12:00 = 0.5 + 09-29 + 09-30 + 0.5 = 3."""
    held = working_days_between(at("2024-09-27 12:00"), at("2024-10-08 12:00"), cal)
    assert held == pytest.approx(3.0)


def test_working_days_between_weekend_only_is_zero_and_reversed_is_zero(cal):
    """§10.2: a file held only over a weekend held no working time; end before start is 0."""
    assert working_days_between(at("2024-09-21 09:00"), at("2024-09-22 18:00"), cal) == 0.0
    assert working_days_between(at("2024-09-24 09:00"), at("2024-09-23 09:00"), cal) == 0.0


def test_working_days_between_uses_beijing_days_for_utc_instants(cal):
    """§10.2, §1: 2024-09-27 16:00Z (Sat 00:00 Beijing) → 2024-09-29 04:00Z (Sun 12:00
    Beijing, 调休上班) = 0.5 working days."""
    held = working_days_between(
        datetime(2024, 9, 27, 16, 0, tzinfo=UTC), datetime(2024, 9, 29, 4, 0, tzinfo=UTC), cal
    )
    assert held == pytest.approx(0.5)


# --------------------------------------------------------------------------- §10.2 at risk


@pytest.mark.parametrize(
    ("state", "levels", "started", "expected"),
    [
        ("draft", 2, False, 8),  # 5 publicity + 1 recommendation + 2 levels
        ("unit_review", 0, False, 6),  # the §10.2 example: 6 working days
        ("returned", 1, False, 7),
        ("returned", 1, True, 2),  # publicity already run: 1 + 1
        ("unit_publicity", 2, True, 3),
        ("unit_recommendation", 0, True, 1),
        ("authority_review", 2, True, 2),
        ("committee_formal_review", 0, True, 0),
        ("fee_pending", 0, True, 0),
        ("certified", 0, True, 0),
    ],
)
def test_working_days_needed_before_committee_by_state(state, levels, started, expected):
    """§10.2 at risk (000-004 单位内部公示不少于5个工作日, one day per recommendation and
    authority level)."""
    got = working_days_needed(
        state, authority_levels_left=levels, publicity_started=started, campaign=campaign_001()
    )
    assert got == expected


def test_working_days_needed_follows_the_campaign_publicity_length():
    """§10.2 with unit_publicity_working_days = 7 (campaign data, 000 shape): draft → 7 + 1."""
    campaign = campaign_000(unit_publicity_working_days=7)
    got = working_days_needed(
        "draft", authority_levels_left=0, publicity_started=False, campaign=campaign
    )
    assert got == 8


def test_at_risk_from_001_deadline_friday_18_00_needing_six_days(cal):
    """§10.2, 001 截止8月30日18:00: the deadline day (18:00) does not count; back from Thu 08-29:
    29, 28, 27, 26, 23, 22 → at risk from 2024-08-22 00:00."""
    got = at_risk_from(at("2024-08-30 18:00"), 6, cal)
    assert got is not None
    assert got.at == datetime(2024, 8, 22, 0, 0, tzinfo=CST)
    assert got.last_day == date(2024, 8, 22)
    assert got.explanation.rule == "at_risk"
    assert got.explanation.inputs["working_days_needed"] == "6"
    assert got.explanation.calendar_version == f"2024={PACKAGED}"


def test_at_risk_from_with_national_day_inside_the_window(cal):
    """§10.2 with §7 holidays: deadline Thu 2024-10-10 18:00, 6 needed: 10-09, 10-08, (10-01..07
    off), 09-30, 09-29 (调休上班), 09-27, 09-26 → 2024-09-26 00:00."""
    got = at_risk_from(at("2024-10-10 18:00"), 6, cal)
    assert got is not None
    assert got.at == datetime(2024, 9, 26, 0, 0, tzinfo=CST)
    assert got.last_day == date(2024, 9, 26)


def test_at_risk_from_deadline_at_24_00_counts_its_own_day(cal):
    """§10.2, §1 (a date deadline ends at 24:00): deadline 2024-10-11 00:00 = 24:00 Thu 10-10,
    which counts: 10-10, 10-09, 10-08, 09-30, 09-29, 09-27 → 2024-09-27 00:00."""
    got = at_risk_from(datetime(2024, 10, 11, 0, 0, tzinfo=CST), 6, cal)
    assert got is not None
    assert got.at == datetime(2024, 9, 27, 0, 0, tzinfo=CST)


def test_at_risk_from_across_into_a_provisional_year_is_provisional(cal):
    """§10.2, §7 provisional: deadline 2027-01-05 00:00 (24:00 Mon 01-04), 2 needed: 01-04,
    (01-01 元旦 provisional, weekend), 2026-12-31 → 2026-12-31 00:00, provisional."""
    got = at_risk_from(datetime(2027, 1, 5, 0, 0, tzinfo=CST), 2, cal)
    assert got is not None
    assert got.at == datetime(2026, 12, 31, 0, 0, tzinfo=CST)
    assert got.explanation.provisional is True


def test_at_risk_from_is_none_when_nothing_is_needed(cal):
    """§10.2: a declaration at or past committee formal review needs nothing: never at risk."""
    assert at_risk_from(at("2024-08-30 18:00"), 0, cal) is None


def test_at_risk_from_refuses_negative_need(cal):
    """§10.2: the need is a count of working days."""
    with pytest.raises(ValueError):
        at_risk_from(at("2024-08-30 18:00"), -1, cal)


@pytest.mark.parametrize(
    "deadline",
    ["2024-08-30 18:00", "2024-10-10 18:00", "2024-10-11 00:00", "2024-02-20 09:00"],
)
def test_at_risk_from_agrees_with_working_days_end(cal, deadline):
    """§10.2 against §7: a unit approving the day before the at-risk instant still fits 5
    publicity days + 1 recommendation day before the deadline; approving at it does not."""
    limit = at(deadline)
    risk = at_risk_from(limit, 6, cal)
    assert risk is not None
    before = working_days_end(risk.at - timedelta(minutes=1), 6, cal, rule="r", source="s")
    on = working_days_end(risk.at, 6, cal, rule="r", source="s")
    assert before.at <= limit < on.at
