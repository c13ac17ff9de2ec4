"""Official calendar years loaded by administrators (docs/rules.md §7, ``PUT /calendar/{year}``).

The store holds only what an administrator loaded; :class:`domain.calendar.WorkCalendar` falls
back to the packaged data, then to a provisional year, for everything else.

A load is compared with the year in force before it (the one loaded last, else the packaged
data, else the provisional year): :class:`CalendarDifference` lists the holidays and adjusted
working days it adds and removes. A load that would remove *official* holidays (loaded or
packaged) is refused (:class:`HolidaysDropped`) unless it says ``replace``: an empty or partial
list must not silently undo the State Council's notice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from domain.calendar import CalendarYear, WorkCalendar, packaged_year, provisional_year
from store.db import advisory_xact_lock
from store.errors import Refusal
from store.tables import CalendarYearRow

__all__ = [
    "CalendarDifference",
    "CalendarLoad",
    "HolidaysDropped",
    "calendar_difference",
    "load_official_years",
    "put_calendar_year",
    "work_calendar",
]


#: Where the year in force came from.
Source = Literal["loaded", "packaged", "provisional"]


class CalendarDifference(BaseModel):
    """What a load changes against the year in force before it."""

    model_config = ConfigDict(frozen=True)

    #: The version compared with, and where it came from.
    against_version: str
    against_source: Source
    holidays_added: list[date]
    holidays_removed: list[date]
    workdays_added: list[date]
    workdays_removed: list[date]

    @property
    def official(self) -> bool:
        """Whether the year compared with was official data (loaded or packaged)."""
        return self.against_source != "provisional"


class CalendarLoad(BaseModel):
    model_config = ConfigDict(frozen=True)

    changed: bool
    difference: CalendarDifference


class HolidaysDropped(Refusal):
    """The load would remove official holidays and does not say ``replace``."""

    type = "HolidaysDropped"

    def __init__(self, year: int, difference: CalendarDifference) -> None:
        self.year = year
        self.difference = difference
        days = ", ".join(d.isoformat() for d in difference.holidays_removed)
        count = len(difference.holidays_removed)
        super().__init__(
            f"{year} 年的数据会删除 {count} 个官方节假日（{days}，见 {difference.against_version}），"
            '确需替换请注明 "replace": true / the load would remove '
            f"{count} official holiday(s) of {year} ({days}, per {difference.against_version}); "
            'send "replace": true to replace them'
        )


def _in_force(session: Session, year: int) -> tuple[CalendarYear, Source]:
    row = session.get(CalendarYearRow, year)
    if row is not None:
        return _to_model(row), "loaded"
    packaged = packaged_year(year)
    if packaged is not None:
        return packaged, "packaged"
    return provisional_year(year), "provisional"


def calendar_difference(
    before: CalendarYear, source: Source, after: CalendarYear
) -> CalendarDifference:
    old_off, new_off = set(before.holidays), set(after.holidays)
    old_on, new_on = set(before.workdays), set(after.workdays)
    return CalendarDifference(
        against_version=before.version,
        against_source=source,
        holidays_added=sorted(new_off - old_off),
        holidays_removed=sorted(old_off - new_off),
        workdays_added=sorted(new_on - old_on),
        workdays_removed=sorted(old_on - new_on),
    )


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
    session: Session,
    year: CalendarYear,
    *,
    loaded_at: datetime | None = None,
    replace: bool = False,
) -> CalendarLoad:
    """Load one official year, with what it changes against the year in force before it.
    Loading the same version with the same dates again changes nothing. Raises
    :class:`HolidaysDropped`, writing nothing, when the load would remove official holidays
    (loaded before, or packaged) and ``replace`` is not set."""
    advisory_xact_lock(session, f"calendar:{year.year}")
    before, source = _in_force(session, year.year)
    difference = calendar_difference(before, source, year)
    holidays = sorted({d.isoformat() for d in year.holidays})
    workdays = sorted({d.isoformat() for d in year.workdays})
    row = session.get(CalendarYearRow, year.year)
    if row is not None and (row.version, row.holidays, row.workdays) == (
        year.version,
        holidays,
        workdays,
    ):
        return CalendarLoad(changed=False, difference=difference)
    if difference.official and difference.holidays_removed and not replace:
        raise HolidaysDropped(year.year, difference)
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
    return CalendarLoad(changed=True, difference=difference)


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
