"""The working-day calendar (docs/rules.md §7).

"N working days" follow the Chinese official calendar: weekends are off except adjusted working
days (调休上班), and statutory holidays are off. The calendar is data:

1. a year an administrator loaded (``PUT /calendar/{year}``) wins;
2. else the maintained ``chinese_calendar`` package, which carries the State Council's notices;
3. else a *provisional* year: weekends off, the statutory holidays of 《全国年节及纪念日放假办法》
   (lunar dates computed by the ``holidays`` package), no adjusted working days. A deadline that
   touches such a year is marked provisional.

Pure: no I/O. :class:`WorkCalendar` keeps per-year frozensets so a working-day test is two set
look-ups (it sits on the hot path of every deadline computation).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays as holidays_pkg
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

__all__ = [
    "BEIJING",
    "STATUTORY_HOLIDAY_NAMES",
    "CalendarYear",
    "WorkCalendar",
    "packaged_year",
    "provisional_year",
]

BEIJING = ZoneInfo("Asia/Shanghai")

#: English names (``holidays`` package, ``en_US``) of the statutory holidays of
#: 《全国年节及纪念日放假办法》. Anything else it lists ("(observed)" substitutes, one-off days such
#: as the 2015 Victory Day, "Day off (substituted …)") is dropped.
STATUTORY_HOLIDAY_NAMES: frozenset[str] = frozenset(
    {
        "New Year's Day",
        "Chinese New Year's Eve",
        "Chinese New Year (Spring Festival)",
        "Tomb-Sweeping Day",
        "Labor Day",
        "Dragon Boat Festival",
        "Mid-Autumn Festival",
        "National Day",
    }
)

_PACKAGED_VERSION = f"chinese-calendar {chinese_calendar.__version__}"
_PROVISIONAL_VERSION = f"provisional:statutory-holidays;holidays {holidays_pkg.__version__}"


class CalendarYear(BaseModel):
    """One year of official calendar data: days off beyond weekends and weekend days worked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int
    version: str
    #: Days off (法定节假日 and the rest days around them); weekend dates may appear here too.
    holidays: list[date]
    #: Adjusted working days (调休上班): weekend dates that are worked.
    workdays: list[date]
    official: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> CalendarYear:
        """Rules between the year and its dates, or about a date's weekday, that no schema
        states: each names its rule (``calendar.<rule>``)."""
        outside = sorted(d for d in [*self.holidays, *self.workdays] if d.year != self.year)
        if outside:
            raise PydanticCustomError(
                "calendar.outside_year",
                f"dates outside {self.year}: {', '.join(map(str, outside))}",
            )
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise PydanticCustomError(
                "calendar.holiday_and_workday",
                f"dates both holiday and workday: {', '.join(map(str, both))}",
            )
        weekdays = sorted(d for d in self.workdays if d.weekday() < 5)
        if weekdays:
            raise PydanticCustomError(
                "calendar.workday_not_weekend",
                "workdays must be weekend dates (调休上班): " + ", ".join(map(str, weekdays)),
            )
        return self


@functools.lru_cache(maxsize=256)
def packaged_year(year: int) -> CalendarYear | None:
    """Official data of ``year`` from the ``chinese_calendar`` package, or None where it has none
    (it raises NotImplementedError outside the years it covers)."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    return CalendarYear(
        year=year,
        version=_PACKAGED_VERSION,
        holidays=sorted(d for d in chinese_calendar.holidays if d.year == year),
        workdays=sorted(d for d in chinese_calendar.workdays if d.year == year),
        official=True,
    )


@functools.lru_cache(maxsize=256)
def provisional_year(year: int) -> CalendarYear:
    """§7: a year without official data. Weekends off (implied), the statutory holidays of
    《全国年节及纪念日放假办法》 as the ``holidays`` package computes them for that year (2025
    revision: 元旦 1, 春节 4 incl. 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3), none of its
    "(observed)" substitutes, and no adjusted working days."""
    listed = holidays_pkg.China(years=year, language="en_US")
    days = sorted(
        day
        for day, names in listed.items()
        if day.year == year and any(n in STATUTORY_HOLIDAY_NAMES for n in names.split("; "))
    )
    return CalendarYear(
        year=year, version=_PROVISIONAL_VERSION, holidays=days, workdays=[], official=False
    )


class WorkCalendar:
    """Working days across years; administrator-loaded years override the packaged data.

    Instances are cheap to build and keep a per-year cache of the off/on sets, so a 10-day walk is
    a handful of set look-ups. Safe to share between threads (the caches only ever grow, with
    the same values).
    """

    def __init__(self, official: Mapping[int, CalendarYear] | None = None) -> None:
        self._override: dict[int, CalendarYear] = dict(official or {})
        for year, data in self._override.items():
            if data.year != year:
                raise ValueError(f"calendar data for {data.year} given under key {year}")
        self._years: dict[int, CalendarYear] = {}
        self._off: dict[int, frozenset[date]] = {}
        self._on: dict[int, frozenset[date]] = {}

    def year_data(self, year: int) -> CalendarYear:
        """The calendar of ``year``: loaded override, else packaged, else provisional."""
        data = self._years.get(year)
        if data is None:
            data = self._override.get(year) or packaged_year(year) or provisional_year(year)
            # In this order, so that a calendar shared by threads never shows a year half-built:
            # whoever finds the year in ``_on`` finds it in ``_off`` too.
            self._off[year] = frozenset(data.holidays)
            self._on[year] = frozenset(data.workdays)
            self._years[year] = data
        return data

    def is_working_day(self, d: date) -> bool:
        """Adjusted working days (调休上班) work; holidays are off; otherwise Monday-Friday."""
        year = d.year
        if year not in self._on:
            self.year_data(year)
        if d in self._on[year]:
            return True
        return d.weekday() < 5 and d not in self._off[year]

    def is_provisional(self, year: int) -> bool:
        return not self.year_data(year).official

    def version_for(self, years: Iterable[int]) -> str:
        """Each year's calendar version, sorted and ``;``-separated, e.g.
        ``2024=chinese-calendar 1.11.0;2027=provisional:statutory-holidays;holidays 0.109``."""
        return ";".join(f"{y}={self.year_data(y).version}" for y in sorted(set(years)))

    def next_working_day(self, d: date) -> date:
        """``d`` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def previous_working_day(self, d: date) -> date:
        """``d`` itself when it is a working day, else the last working day before it."""
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d
