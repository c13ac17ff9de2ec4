"""§7: the calendar is data; an administrator's official year overrides the packaged one."""

from __future__ import annotations

from datetime import date

from domain.calendar import CalendarYear
from store.calendar import load_official_years, put_calendar_year, work_calendar
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
        assert put_calendar_year(session, YEAR_2040)
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
        assert not put_calendar_year(session, YEAR_2040)
        revised = YEAR_2040.model_copy(update={"version": "v2", "workdays": []})
        assert put_calendar_year(session, revised)
    with store.session(readonly=True) as session:
        assert load_official_years(session)[2040].version == "v2"
        assert load_official_years(session)[2040].workdays == []
