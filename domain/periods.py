"""Deadline arithmetic (docs/rules.md §3, §7, §10.1, §10.2).

Every function takes timezone-aware instants, does its day arithmetic on Beijing calendar days and
returns aware instants in Beijing time. "24:00 of day D" is D+1 00:00 Beijing. Each deadline comes
back as a :class:`~domain.models.ComputedDeadline` that explains itself: the rule, the notice
clause, the inputs, the calendar version of every year it touched and whether any of those years
was provisional.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from domain.calendar import BEIJING, WorkCalendar
from domain.models import Campaign, ComputedDeadline, DeadlineExplanation, PublicityKind, as_of

__all__ = [
    "CIVIL_CODE_SOURCE",
    "CORRECTION_SOURCE",
    "PUBLICITY_SOURCES",
    "at_risk_from",
    "beijing_day",
    "correction_deadline",
    "count_days_civil_code",
    "end_of_day",
    "notice_time",
    "publicity_end",
    "working_days_between",
    "working_days_end",
    "working_days_needed",
]

CIVIL_CODE_SOURCE = "民法典第201、203条"
CORRECTION_SOURCE = f"001 四(一)1 退回后2日内; {CIVIL_CODE_SOURCE}"
PUBLICITY_SOURCES: dict[str, str] = {
    "unit_publicity": "000-004 单位内部公示不少于5个工作日",
    "result_publicity": "40号令 评审结果公示不少于5个工作日",
}
_PUBLICITY_LABELS: dict[str, tuple[str, str]] = {
    "unit_publicity": ("单位内部公示", "unit publicity: "),
    "result_publicity": ("评审结果公示", "result publicity: "),
}
_TICK = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)


# --------------------------------------------------------------------------- helpers


def beijing_day(at: datetime) -> date:
    """The Beijing calendar day of an aware instant."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"instant {at.isoformat()} has no time zone")
    return at.astimezone(BEIJING).date()


def end_of_day(d: date) -> datetime:
    """24:00 of ``d`` in Beijing time, i.e. ``d + 1`` at 00:00."""
    return datetime.combine(d + _ONE_DAY, time(0), tzinfo=BEIJING)


def notice_time(at: datetime) -> str:
    """An instant in Beijing time, the way notices write a deadline: an instant at midnight is
    the end of the day before (``2024-10-11 00:00`` → ``2024-10-10 24:00``)."""
    local = at.astimezone(BEIJING)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return (local - _ONE_DAY).strftime("%Y-%m-%d 24:00")
    return local.strftime("%Y-%m-%d %H:%M")


def _start_of_day(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=BEIJING)


def _at_24(d: date) -> str:
    return f"{d.isoformat()} 24:00"


def _explain(
    cal: WorkCalendar,
    first: date,
    last: date,
    *,
    rule: str,
    source: str,
    inputs: dict[str, str],
    zh: str,
    en: str,
) -> DeadlineExplanation:
    """An explanation naming the calendar of every year between ``first`` and ``last``; the text
    is ``"<Chinese> / <English>"``."""
    lo, hi = min(first, last), max(first, last)
    years = range(lo.year, hi.year + 1)
    provisional = any(cal.is_provisional(y) for y in years)
    if provisional:
        zh += "（含无官方数据的年份，按暂定日历计算，官方日历发布后重算）"
        en += " (provisional: a year without official calendar data)"
    return DeadlineExplanation(
        rule=rule,
        source=source,
        inputs=inputs,
        calendar_version=cal.version_for(years),
        provisional=provisional,
        text=f"{zh} / {en}",
    )


# --------------------------------------------------------------------------- periods of days


def _civil_code_period(
    start: datetime,
    days: int,
    cal: WorkCalendar,
    *,
    rule: str,
    source: str,
    label: tuple[str, str] = ("", ""),
    cap: datetime | None = None,
) -> ComputedDeadline:
    if days < 1:
        raise ValueError(f"a period of days must be at least 1 day, got {days}")
    start_day = beijing_day(start)
    nominal = start_day + timedelta(days=days)
    last = cal.next_working_day(nominal)
    at = end_of_day(last)
    zh = f"{label[0]}自 {start_day} 起 {days} 日，开始当日不计入，至 {_at_24(last)}（北京时间）止"
    en = (
        f"{label[1]}{days} days from {start_day} (start day not counted), "
        f"ending {_at_24(last)} Beijing time"
    )
    if last != nominal:
        zh += f"（末日 {nominal} 非工作日，顺延至 {last}）"
        en += f" ({nominal} is not a working day, moved to {last})"
    inputs = {
        "start": as_of(start),
        "start_day": start_day.isoformat(),
        "days": str(days),
        "nominal_last_day": nominal.isoformat(),
        "last_day": last.isoformat(),
    }
    if cap is not None:
        inputs["review_closes_at"] = as_of(cap)
        if cap < at:
            at = cap.astimezone(BEIJING)
            zh += f"；不超过审核截止时间 {as_of(at)}，截止于此"
            en += f"; capped at the end of the review window {as_of(at)}"
    explanation = _explain(
        cal, start_day, last, rule=rule, source=source, inputs=inputs, zh=zh, en=en
    )
    return ComputedDeadline(
        at=at,
        explanation=explanation,
        first_day=start_day + _ONE_DAY,
        last_day=beijing_day(at - timedelta(microseconds=1)),
    )


def count_days_civil_code(start: datetime, days: int, cal: WorkCalendar) -> ComputedDeadline:
    """§3 "Counting a period of days" (《民法典》第201、203条).

    The day of ``start`` does not count; the period ends at 24:00 of its last day; when that last
    day is not a working day (§7) it ends at 24:00 of the next working day. ``first_day`` is the
    day after the start day, ``last_day`` the (moved) last day.
    """
    return _civil_code_period(start, days, cal, rule="civil_code_period", source=CIVIL_CODE_SOURCE)


def correction_deadline(
    returned_at: datetime, campaign: Campaign, cal: WorkCalendar
) -> ComputedDeadline:
    """§3 correction window (001 四(一)1: 退回后2日内…逾期不予受理): ``correction_window_days``
    counted as the Civil Code counts, never past the campaign's review window
    (``review_closes_at``, 001: 审核时间…9月10日) when it has one; the explanation says when it
    was capped (``last_day`` is then the day the cap falls in). A campaign without a window
    (the default: only 001 sets one) allows a resubmission until ``review_closes_at``."""
    if campaign.correction_window_days is None:
        return resubmission_limit(returned_at, campaign)
    return _civil_code_period(
        returned_at,
        campaign.correction_window_days,
        cal,
        rule="correction_window",
        source=CORRECTION_SOURCE,
        label=("退回后补正期限：", "correction window: "),
        cap=campaign.review_closes_at,
    )


def resubmission_limit(returned_at: datetime, campaign: Campaign) -> ComputedDeadline:
    """§3 resubmission limit where the notice sets no correction window: the campaign's review
    window (``review_closes_at``). Without one there is no limit to compute: the committee closes
    the review (``close-review``)."""
    if campaign.review_closes_at is None:
        raise ValueError("no correction window and no review_closes_at: nothing to compute")
    at = campaign.review_closes_at.astimezone(BEIJING)
    explanation = DeadlineExplanation(
        rule="resubmission_limit",
        source="notice: no correction window (退回后修改期限未规定); review_closes_at",
        inputs={"returned_at": returned_at.isoformat(), "review_closes_at": at.isoformat()},
        text=(
            f"通知未规定退回后的补正期限，可在审核截止 {at.isoformat()} 前修改后重新提交 / "
            f"no correction window: resubmit before the review closes at {at.isoformat()}"
        ),
    )
    return ComputedDeadline(at=at, explanation=explanation, last_day=beijing_day(at - _TICK))


# --------------------------------------------------------------------------- working days


def _nth_working_day_after(d: date, n: int, cal: WorkCalendar) -> date:
    """The ``n``-th working day strictly after ``d``."""
    found = 0
    while found < n:
        d += _ONE_DAY
        if cal.is_working_day(d):
            found += 1
    return d


def _working_days(
    start: datetime,
    n: int,
    cal: WorkCalendar,
    *,
    rule: str,
    source: str,
    label: tuple[str, str] = ("", ""),
) -> ComputedDeadline:
    if n < 1:
        raise ValueError(f"a period of working days must be at least 1, got {n}")
    start_day = beijing_day(start)
    first = start_day + _ONE_DAY
    last = _nth_working_day_after(start_day, n, cal)
    explanation = _explain(
        cal,
        start_day,
        last,
        rule=rule,
        source=source,
        inputs={
            "start": as_of(start),
            "start_day": start_day.isoformat(),
            "working_days": str(n),
        },
        zh=f"{label[0]}{n}个工作日，自 {first} 起至 {last} 止，{_at_24(last)}（北京时间）结束",
        en=f"{label[1]}{n} working days from {first} to {last}, ending {_at_24(last)} Beijing time",
    )
    return ComputedDeadline(
        at=end_of_day(last), explanation=explanation, first_day=first, last_day=last
    )


def working_days_end(
    start: datetime, n: int, cal: WorkCalendar, *, rule: str, source: str
) -> ComputedDeadline:
    """§7: N working days end at 24:00 of the N-th full working day after the day it starts (the
    start day never counts, so "不少于N个工作日" always holds). ``first_day`` is the day after the
    start day and ``last_day`` the N-th working day, as a publicity notice shows them
    (公示时间从…起至…止)."""
    return _working_days(start, n, cal, rule=rule, source=source)


def publicity_end(
    kind: PublicityKind,
    start: datetime,
    campaign: Campaign,
    cal: WorkCalendar,
) -> ComputedDeadline:
    """§3/§7: end of the unit publicity (000-004: 单位内部公示不少于5个工作日) or of the result
    publicity (40号令: 不少于5个工作日), by the campaign's number of working days."""
    n = (
        campaign.unit_publicity_working_days
        if kind == "unit_publicity"
        else campaign.result_publicity_working_days
    )
    return _working_days(
        start, n, cal, rule=kind, source=PUBLICITY_SOURCES[kind], label=_PUBLICITY_LABELS[kind]
    )


def working_days_between(start: datetime, end: datetime, cal: WorkCalendar) -> float:
    """§10.2 time held: the working time between two instants, in working days.

    Fractional: each Beijing working day counts by the share of its 24 hours that lies inside
    ``[start, end)``; days off count nothing. Monday 10:00 to Tuesday 16:00 (both working) is
    0.5833… + 0.6667 = 1.25. Returns 0.0 when ``end`` is not after ``start``.
    """
    if end <= start:
        return 0.0
    first, last = beijing_day(start), beijing_day(end)
    total = 0.0
    d = first
    while d <= last:
        if cal.is_working_day(d):
            lo = max(start, _start_of_day(d))
            hi = min(end, end_of_day(d))
            if hi > lo:
                total += (hi - lo) / _ONE_DAY
        d += _ONE_DAY
    return total


# --------------------------------------------------------------------------- at risk (§10.2)

_BEFORE_PUBLICITY = frozenset({"draft", "entrustment_review", "returned", "unit_review"})
_AFTER_PUBLICITY = frozenset({"unit_publicity", "unit_recommendation"})


def working_days_needed(
    state: str, *, authority_levels_left: int, publicity_started: bool, campaign: Campaign
) -> int:
    """§10.2: the working days the chain still needs before it first reaches committee formal
    review: the unit publicity (000-004, unless it has already started, in which case it is bounded
    by its own end), one day for the unit recommendation, and one per authority level left.

    ``draft`` / ``returned`` / ``unit_review``: publicity + 1 + levels (1 + levels when
    ``publicity_started``: a return after the publicity resumes past it); ``unit_publicity`` and
    ``unit_recommendation``: 1 + levels; ``authority_review``: levels; anything else: 0.
    """
    levels = max(authority_levels_left, 0)
    if state in _BEFORE_PUBLICITY:
        publicity = 0 if publicity_started else campaign.unit_publicity_working_days
        return publicity + 1 + levels
    if state in _AFTER_PUBLICITY:
        return 1 + levels
    if state == "authority_review":
        return levels
    return 0


def at_risk_from(deadline: datetime, needed: int, cal: WorkCalendar) -> ComputedDeadline | None:
    """§10.2: the instant from which the chain no longer has ``needed`` working days left.

    At an instant ``t`` the days left are the working days *after* the Beijing day of ``t`` (the
    current day never counts, as a period never counts its start day, §7) that end, at 24:00, no
    later than ``deadline``. So the deadline's own day counts only when the deadline is at 24:00
    (next-day 00:00); a deadline at 18:00 leaves its day out. Walking back from the day before the
    deadline's Beijing day, let D be the ``needed``-th working day: from 00:00 of D on, fewer than
    ``needed`` days are left; at any earlier instant at least ``needed`` are. The result is 00:00 of
    D (``last_day`` = D). None when nothing is needed.

    Example (001): deadline 2024-08-30 18:00 (Friday), needed 6 → 08-29, 28, 27, 26, 23, 22 → at
    risk from 2024-08-22 00:00: a unit approving on 08-21 still fits 5 publicity days and a
    recommendation day before the deadline, one approving on 08-22 does not.
    """
    if needed < 0:
        raise ValueError(f"working days needed must not be negative, got {needed}")
    if needed == 0:
        return None
    deadline_day = beijing_day(deadline)
    d = deadline_day
    found = 0
    while found < needed:
        d -= _ONE_DAY
        if cal.is_working_day(d):
            found += 1
    at = _start_of_day(d)
    explanation = _explain(
        cal,
        d,
        deadline_day,
        rule="at_risk",
        source="§10.2 time held per actor; 000-004 单位内部公示不少于5个工作日",
        inputs={
            "deadline": as_of(deadline),
            "working_days_needed": str(needed),
            "needed_th_working_day_back": d.isoformat(),
        },
        zh=f"自 {d} 00:00（北京时间）起，距截止时间 {as_of(deadline)} 不足 {needed} 个工作日",
        en=f"from {d} 00:00 fewer than {needed} working days remain before {as_of(deadline)}",
    )
    return ComputedDeadline(at=at, explanation=explanation, last_day=d)
