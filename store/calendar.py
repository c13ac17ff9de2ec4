"""Official calendar years loaded by administrators (domain.md §7, ``PUT /calendar/{year}``).

The store holds only what an administrator loaded; :class:`domain.calendar.WorkCalendar` falls
back to the packaged data, then to a provisional year, for everything else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from domain.calendar import CalendarYear, WorkCalendar
from store.db import advisory_xact_lock
from store.tables import CalendarYearRow

__all__ = ["load_official_years", "put_calendar_year", "work_calendar"]


def _to_model(row: CalendarYearRow) -> CalendarYear:
    return CalendarYear(
        year=row.year,
        version=row.version,
        holidays=[date.fromisoformat(d) for d in row.holidays],
        workdays=[date.fromisoformat(d) for d in row.workdays],
        official=True,
    )


def load_official_years(session: Session) -> dict[int, CalendarYear]:
    """Every administrator-loaded year, by year."""
    rows = session.exec(select(CalendarYearRow).order_by(col(CalendarYearRow.year)))
    return {row.year: _to_model(row) for row in rows}


def put_calendar_year(
    session: Session, year: CalendarYear, *, loaded_at: datetime | None = None
) -> bool:
    """Load (or replace) one official year; True when something changed. Loading the same
    version with the same dates again is a no-op."""
    advisory_xact_lock(session, f"calendar:{year.year}")
    holidays = sorted({d.isoformat() for d in year.holidays})
    workdays = sorted({d.isoformat() for d in year.workdays})
    row = session.get(CalendarYearRow, year.year)
    if row is not None and (row.version, row.holidays, row.workdays) == (
        year.version,
        holidays,
        workdays,
    ):
        return False
    if row is None:
        row = CalendarYearRow(
            year=year.year, version="", holidays=[], workdays=[], loaded_at=datetime.now(UTC)
        )
    row.version = year.version
    row.holidays = holidays
    row.workdays = workdays
    row.loaded_at = loaded_at or datetime.now(UTC)
    session.add(row)
    session.flush()
    return True


def work_calendar(session: Session) -> WorkCalendar:
    """The calendar every computation uses: loaded years over packaged, else provisional."""
    return WorkCalendar(load_official_years(session))
