"""§7: the calendar is data; an administrator's official year overrides the packaged one."""

from __future__ import annotations

from datetime import date

import pytest

from domain.calendar import CalendarYear, packaged_year
from store.calendar import HolidaysDropped, load_official_years, put_calendar_year, work_calendar
from store.db import Store

YEAR_2040 = CalendarYear(
    year=2040,
    version="国办发明电〔2039〕7号",
    holidays=[date(2040, 1, 1), date(2040, 1, 2)],
    workdays=[date(2040, 1, 7)],
)


def test_a_loaded_year_is_official_and_overrides_the_fallback(store: Store) -> None:
    with store.session() as session:
        assert work_calendar(session).is_provisional(2040)
        assert put_calendar_year(session, YEAR_2040).changed
    with store.session(readonly=True) as session:
        assert load_official_years(session) == {2040: YEAR_2040}
        cal = work_calendar(session)
    assert not cal.is_provisional(2040)
    assert not cal.is_working_day(date(2040, 1, 2)), "a loaded holiday (a Monday) is off"
    assert cal.is_working_day(date(2040, 1, 7)), "a loaded adjusted working Saturday works"
    assert "国办发明电〔2039〕7号" in cal.version_for([2040])


def test_loading_the_same_year_again_changes_nothing_and_a_new_version_replaces_it(
    store: Store,
) -> None:
    with store.session() as session:
        put_calendar_year(session, YEAR_2040)
    with store.session() as session:
        assert not put_calendar_year(session, YEAR_2040).changed
        revised = YEAR_2040.model_copy(update={"version": "v2", "workdays": []})
        assert put_calendar_year(session, revised).changed
    with store.session(readonly=True) as session:
        assert load_official_years(session)[2040].version == "v2"
        assert load_official_years(session)[2040].workdays == []


# --------------------------------------------------------------------------- guarded loads


def _official_2025() -> CalendarYear:
    packaged = packaged_year(2025)
    assert packaged is not None, "the packaged data covers 2025"
    return packaged


def test_a_load_that_drops_packaged_holidays_is_refused_and_writes_nothing(store: Store) -> None:
    """§7: an empty holiday list for a year the packaged (State Council) data covers would
    silently make 春节 and 国庆 working days; it is refused, naming every holiday it drops."""
    official = _official_2025()
    empty = CalendarYear(year=2025, version="typo", holidays=[], workdays=official.workdays)
    with store.session() as session, pytest.raises(HolidaysDropped) as refused:
        put_calendar_year(session, empty)
    difference = refused.value.difference
    assert difference.against_source == "packaged" and difference.official
    assert difference.against_version == official.version
    assert difference.holidays_removed == sorted(official.holidays)
    assert difference.holidays_added == difference.workdays_added == []
    assert difference.workdays_removed == []
    assert '"replace": true' in str(refused.value) and "2025-01-28" in str(refused.value)
    with store.session(readonly=True) as session:
        assert load_official_years(session) == {}
        assert work_calendar(session).year_data(2025) == official


def test_replace_loads_it_and_tells_what_it_dropped(store: Store) -> None:
    """§7: with ``replace`` the administrator's year wins, and the answer lists the difference."""
    official = _official_2025()
    kept = sorted(official.holidays)[:3]
    smaller = CalendarYear(year=2025, version="admin", holidays=kept, workdays=[])
    with store.session() as session:
        loaded = put_calendar_year(session, smaller, replace=True)
    assert loaded.changed
    assert loaded.difference.holidays_removed == sorted(set(official.holidays) - set(kept))
    assert loaded.difference.workdays_removed == sorted(official.workdays)
    with store.session(readonly=True) as session:
        assert load_official_years(session)[2025].holidays == kept


def test_adding_holidays_or_removing_workdays_needs_no_replace(store: Store) -> None:
    """Only dropping official holidays is guarded: a load that keeps them all goes through and
    reports what it adds and removes."""
    official = _official_2025()
    extra = date(2025, 12, 31)  # a Wednesday
    more = CalendarYear(
        year=2025,
        version="revised",
        holidays=[*official.holidays, extra],
        workdays=official.workdays[1:],
    )
    with store.session() as session:
        loaded = put_calendar_year(session, more)
    assert loaded.changed and loaded.difference.holidays_added == [extra]
    assert loaded.difference.holidays_removed == []
    assert loaded.difference.workdays_removed == sorted(official.workdays)[:1]


def test_the_previously_loaded_year_is_what_a_load_is_compared_with(store: Store) -> None:
    """A year without packaged data: its first load is compared with the provisional year and
    may drop provisional days; once loaded, dropping one of its holidays needs ``replace``."""
    with store.session() as session:
        first = put_calendar_year(session, YEAR_2040)
    assert first.difference.against_source == "provisional" and not first.difference.official
    assert date(2040, 1, 2) in first.difference.holidays_added
    fewer = YEAR_2040.model_copy(update={"version": "v2", "holidays": [date(2040, 1, 1)]})
    with store.session() as session, pytest.raises(HolidaysDropped) as refused:
        put_calendar_year(session, fewer)
    assert refused.value.difference.against_source == "loaded"
    assert refused.value.difference.against_version == YEAR_2040.version
    assert refused.value.difference.holidays_removed == [date(2040, 1, 2)]
    with store.session() as session:
        assert not put_calendar_year(session, YEAR_2040).changed, "the same load again is a no-op"
        assert put_calendar_year(session, fewer, replace=True).changed
