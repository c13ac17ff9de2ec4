"""Official calendar years loaded by administrators (docs/rules.md §7, ``PUT /calendar/{year}``).

The store holds only what an administrator loaded; :class:`domain.calendar.WorkCalendar` falls
back to the packaged data, then to a provisional year, for everything else.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
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


#: Calendars built from the loaded years, by what identifies those years (year, version and
#: load instant of each): every computation reads the fingerprint, and a calendar is built again
#: only after an administrator loaded something. Calendars keep per-year caches, so reusing one
#: also spares rebuilding the packaged years.
_BUILT: OrderedDict[tuple[tuple[Any, ...], ...], WorkCalendar] = OrderedDict()
_BUILT_MAX = 8
_BUILT_LOCK = threading.Lock()
_YEARS = CalendarYearRow.__table__  # type: ignore[attr-defined]
_FINGERPRINT = sa.select(_YEARS.c.year, _YEARS.c.version, _YEARS.c.loaded_at).order_by(
    _YEARS.c.year
)


def work_calendar(session: Session) -> WorkCalendar:
    """The calendar every computation uses: loaded years over packaged, else provisional.
    Always current: one small query tells whether the loaded years changed since the last
    build (then they are read and a new calendar is built)."""
    fingerprint = tuple(tuple(row) for row in session.connection().execute(_FINGERPRINT))
    with _BUILT_LOCK:
        cal = _BUILT.get(fingerprint)
        if cal is not None:
            _BUILT.move_to_end(fingerprint)
            return cal
    cal = WorkCalendar(load_official_years(session))
    with _BUILT_LOCK:
        _BUILT[fingerprint] = cal
        while len(_BUILT) > _BUILT_MAX:
            _BUILT.popitem(last=False)
    return cal
