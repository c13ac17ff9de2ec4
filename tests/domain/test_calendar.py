"""§7 working days: the official calendar as data, provisional years, the hot-path cache."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from domain.calendar import (
    BEIJING,
    CalendarYear,
    WorkCalendar,
    packaged_year,
    provisional_year,
)

PACKAGED = "chinese-calendar 1.11.0"
PROVISIONAL = "provisional:statutory-holidays;holidays 0.109"


def test_beijing_zone_is_asia_shanghai():
    """§1: all times are Beijing time (Asia/Shanghai)."""
    assert str(BEIJING) == "Asia/Shanghai"


def test_packaged_2024_national_day_and_mid_autumn_match_state_council_notice():
    """§7 official calendar seeded from chinese_calendar (国办发明电〔2023〕7号, used by 001's
    2024 examples): 09-15..17 and 10-01..07 off; 09-14 (Sat), 09-29 (Sun), 10-12 (Sat) worked."""
    year = packaged_year(2024)
    assert year is not None
    assert year.official is True
    assert year.version == PACKAGED
    for d in [date(2024, 9, 15), date(2024, 9, 16), date(2024, 9, 17)]:
        assert d in year.holidays
    for day in range(1, 8):
        assert date(2024, 10, day) in year.holidays
    assert year.workdays == [
        date(2024, 2, 4),
        date(2024, 2, 18),
        date(2024, 4, 7),
        date(2024, 4, 28),
        date(2024, 5, 11),
        date(2024, 9, 14),
        date(2024, 9, 29),
        date(2024, 10, 12),
    ]
    assert len(year.holidays) == 28


def test_packaged_year_is_none_where_the_package_has_no_data():
    """§7: years the maintained package does not cover (before 2004, after 2026) have no
    official data."""
    assert packaged_year(2027) is None
    assert packaged_year(2003) is None


def test_packaged_year_is_cached():
    """§7 hot path: the packaged data is built once per year."""
    assert packaged_year(2024) is packaged_year(2024)


def test_provisional_2027_has_exactly_the_statutory_holidays_of_the_2025_revision():
    """§7 provisional year: 《全国年节及纪念日放假办法》 (2025): 元旦 1, 春节 4 (除夕 02-05,
    初一..初三 02-06..08), 清明 04-05, 劳动节 05-01..02, 端午 06-09, 中秋 09-15, 国庆
    10-01..03; no adjusted working days."""
    year = provisional_year(2027)
    assert year.official is False
    assert year.version == PROVISIONAL
    assert year.workdays == []
    assert year.holidays == [
        date(2027, 1, 1),
        date(2027, 2, 5),
        date(2027, 2, 6),
        date(2027, 2, 7),
        date(2027, 2, 8),
        date(2027, 4, 5),
        date(2027, 5, 1),
        date(2027, 5, 2),
        date(2027, 6, 9),
        date(2027, 9, 15),
        date(2027, 10, 1),
        date(2027, 10, 2),
        date(2027, 10, 3),
    ]


def test_provisional_drops_observed_substitute_days():
    """§7 provisional: no "(observed)" substitutes are assumed: 2027-02-09/10, 05-03/04 and
    10-04/05 (Mon-Tue) are working days."""
    cal = WorkCalendar()
    for d in [date(2027, 2, 9), date(2027, 2, 10), date(2027, 5, 3), date(2027, 10, 4)]:
        assert cal.is_working_day(d), d


def test_provisional_drops_one_off_and_non_statutory_days():
    """§7 provisional: only statutory holidays; the 2015 Victory Day (09-03) and the 2020
    extended Spring Festival (01-31) are not in the law."""
    assert date(2015, 9, 3) not in provisional_year(2015).holidays
    assert date(2015, 9, 27) in provisional_year(2015).holidays  # 中秋 2015
    assert date(2020, 1, 31) not in provisional_year(2020).holidays


def test_calendar_year_rejects_dates_outside_its_year():
    """§7 calendar data loaded by an administrator (PUT /calendar/{year}) is validated."""
    with pytest.raises(ValidationError, match="outside 2025"):
        CalendarYear(year=2025, version="x", holidays=[date(2024, 12, 31)], workdays=[])


def test_calendar_year_rejects_a_date_both_off_and_worked():
    """§7: a day is either a holiday or an adjusted working day."""
    with pytest.raises(ValidationError, match="both holiday and workday"):
        CalendarYear(
            year=2025, version="x", holidays=[date(2025, 1, 26)], workdays=[date(2025, 1, 26)]
        )


def test_calendar_year_rejects_a_weekday_as_adjusted_working_day():
    """§7: adjusted working days (调休上班) are weekend dates."""
    with pytest.raises(ValidationError, match="weekend"):
        CalendarYear(year=2025, version="x", holidays=[], workdays=[date(2025, 1, 27)])


def test_working_days_around_2024_national_day():
    """§7 example: 09-28 (Sat) off, 09-29 (Sun) adjusted working day, 10-01..07 off, 10-08
    working, 10-12 (Sat) adjusted working day, ordinary Wednesday working."""
    cal = WorkCalendar()
    assert cal.is_working_day(date(2024, 9, 25))
    assert not cal.is_working_day(date(2024, 9, 28))
    assert cal.is_working_day(date(2024, 9, 29))
    assert cal.is_working_day(date(2024, 9, 30))
    assert not any(cal.is_working_day(date(2024, 10, d)) for d in range(1, 8))
    assert cal.is_working_day(date(2024, 10, 8))
    assert cal.is_working_day(date(2024, 10, 12))
    assert not cal.is_working_day(date(2024, 10, 13))


def test_administrator_loaded_year_overrides_the_package():
    """§7: the calendar is data, overridable by an administrator per year as the State Council
    publishes it."""
    loaded = CalendarYear(
        year=2024,
        version="国办发明电〔2023〕7号 (admin)",
        holidays=[date(2024, 9, 25)],
        workdays=[date(2024, 9, 28)],
    )
    cal = WorkCalendar({2024: loaded})
    assert cal.year_data(2024) is loaded
    assert not cal.is_working_day(date(2024, 9, 25))
    assert cal.is_working_day(date(2024, 9, 28))
    assert cal.is_working_day(date(2024, 10, 1))  # not in the loaded data any more
    assert cal.version_for([2024]) == "2024=国办发明电〔2023〕7号 (admin)"


def test_loading_official_data_for_a_provisional_year_makes_it_official():
    """§7: loading a year's official data replaces the provisional calendar (2027)."""
    cal = WorkCalendar(
        {2027: CalendarYear(year=2027, version="official 2027", holidays=[], workdays=[])}
    )
    assert not cal.is_provisional(2027)
    assert cal.is_working_day(date(2027, 10, 1))


def test_override_keyed_under_the_wrong_year_is_refused():
    """§7 data integrity: the key must be the data's year."""
    data = CalendarYear(year=2027, version="x", holidays=[], workdays=[])
    with pytest.raises(ValueError, match="2027"):
        WorkCalendar({2028: data})


def test_is_provisional_only_for_years_without_official_data():
    """§7: years beyond the package (2027) are provisional; packaged years are not."""
    cal = WorkCalendar()
    assert cal.is_provisional(2027)
    assert not cal.is_provisional(2024)
    assert cal.year_data(2027).version == PROVISIONAL


def test_version_for_names_each_year_once_in_order():
    """§10.1: every deadline names the calendar version of each year it used."""
    cal = WorkCalendar()
    assert cal.version_for([2027, 2024, 2024]) == f"2024={PACKAGED};2027={PROVISIONAL}"


def test_next_working_day_after_national_day_and_across_new_year():
    """§3/§7: next working day is the day itself when working, else the first working day after
    (2024-10-01 → 10-08; 2027-01-01 Fri, provisional 元旦 → 01-04 Mon)."""
    cal = WorkCalendar()
    assert cal.next_working_day(date(2024, 9, 25)) == date(2024, 9, 25)
    assert cal.next_working_day(date(2024, 9, 28)) == date(2024, 9, 29)
    assert cal.next_working_day(date(2024, 10, 1)) == date(2024, 10, 8)
    assert cal.next_working_day(date(2027, 1, 1)) == date(2027, 1, 4)


def test_previous_working_day_before_spring_festival_2024():
    """§7: 2024-02-17 (Sat, holiday) → 02-09 (除夕 2024 was a working Friday)."""
    cal = WorkCalendar()
    assert cal.previous_working_day(date(2024, 2, 17)) == date(2024, 2, 9)
    assert cal.previous_working_day(date(2024, 2, 18)) == date(2024, 2, 18)


def test_working_day_checks_are_cheap_on_the_hot_path():
    """§7 hot path: 100 000 look-ups (10 000 ten-day windows) well under a second."""
    cal = WorkCalendar()
    start = date(2024, 1, 1)
    began = time.perf_counter()
    count = 0
    for i in range(10_000):
        base = start + timedelta(days=i % 1500)
        for k in range(10):
            count += cal.is_working_day(base + timedelta(days=k))
    assert time.perf_counter() - began < 1.0
    assert count > 0
