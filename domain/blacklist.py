"""Bars after misconduct (docs/rules.md §2 end; 40号令).

A person found to have cheated (弄虚作假、营私舞弊) may not apply for the corresponding title
(相应职称评审) for ``blacklist.applicant_years`` (000, 002, 003, 004: 个人五年内不得申报; 001 四(九)
defers to the 自治区 rules, so 5 as well), always counted from the finding: a bar never starts
later than the finding. "The corresponding title" is the same series at every level
(``scope: series``, the default: a deputy-senior cheater may not apply for senior either), the
same series and level (``series_level``) or every title (``all``). A unit found at fault may not
recommend for ``blacklist.unit_years`` (被处理单位三年内取消参评资格), read whenever the unit decides.

A bar covers ``[from_at, until)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel

from domain.calendar import BEIJING
from domain.identity import normalise_id_number
from domain.models import Campaign, Level

__all__ = [
    "BarEntry",
    "add_years",
    "applicant_bar",
    "applicant_barred",
    "bar_refusal",
    "unit_bar",
    "unit_barred",
]


class BarEntry(BaseModel):
    subject_kind: Literal["applicant", "unit"]
    #: The applicant's ID number or the unit id.
    subject_id: str
    #: None: every series (or level).
    series: str | None = None
    level: str | None = None
    from_at: AwareDatetime
    until: AwareDatetime
    reason: str
    declaration_id: str


def add_years(at: datetime, years: int) -> datetime:
    """The same Beijing wall-clock instant ``years`` later; 29 February becomes 28 February
    (《民法典》第202条: no such day in the last month → its last day)."""
    local = at.astimezone(BEIJING)
    try:
        return local.replace(year=local.year + years)
    except ValueError:
        return local.replace(year=local.year + years, day=28)


def applicant_bar(
    campaign: Campaign,
    series: str,
    level: Level,
    id_number: str,
    found_at: datetime,
    declaration_id: str,
    reason: str,
) -> BarEntry:
    """Bar the applicant from the finding for ``applicant_years``, from the titles the
    campaign's ``scope`` names."""
    policy = campaign.blacklist
    from_at = found_at.astimezone(BEIJING)
    return BarEntry(
        subject_kind="applicant",
        subject_id=normalise_id_number(id_number),
        series=series if policy.scope in ("series", "series_level") else None,
        level=level if policy.scope == "series_level" else None,
        from_at=from_at,
        until=add_years(from_at, policy.applicant_years),
        reason=reason,
        declaration_id=declaration_id,
    )


def unit_bar(
    campaign: Campaign, unit_id: str, found_at: datetime, declaration_id: str, reason: str
) -> BarEntry | None:
    """Bar the unit from recommending for ``unit_years`` from the finding; None when 0."""
    years = campaign.blacklist.unit_years
    if years == 0:
        return None
    from_at = found_at.astimezone(BEIJING)
    return BarEntry(
        subject_kind="unit",
        subject_id=unit_id,
        from_at=from_at,
        until=add_years(from_at, years),
        reason=reason,
        declaration_id=declaration_id,
    )


def _active(entries: Iterable[BarEntry], kind: str, subject: str, at: datetime) -> list[BarEntry]:
    return [
        e
        for e in entries
        if e.subject_kind == kind and e.subject_id == subject and e.from_at <= at < e.until
    ]


def _longest(entries: list[BarEntry]) -> BarEntry | None:
    return max(entries, key=lambda e: e.until) if entries else None


def applicant_barred(
    entries: Iterable[BarEntry], id_number: str, series: str, level: str, at: datetime
) -> BarEntry | None:
    """The bar (the one lasting longest) that keeps this person from this title at ``at``."""
    matching = [
        e
        for e in _active(entries, "applicant", normalise_id_number(id_number), at)
        if e.series in (None, series) and e.level in (None, level)
    ]
    return _longest(matching)


def unit_barred(entries: Iterable[BarEntry], unit_id: str, at: datetime) -> BarEntry | None:
    """The bar (the one lasting longest) that keeps this unit from recommending at ``at``."""
    return _longest(_active(entries, "unit", unit_id, at))


def bar_refusal(entry: BarEntry) -> str:
    """A refusal naming the end of the bar (Beijing time) and its reason."""
    until = entry.until.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    if entry.subject_kind == "unit":
        return (
            f"单位 {entry.subject_id} 因“{entry.reason}”在 {until}（北京时间）前取消推荐资格 / "
            f"unit {entry.subject_id} may not recommend until {until} Beijing time: {entry.reason}"
        )
    if entry.series is None and entry.level is None:
        scope = "任何职称 / any title"
    else:
        scope = f"{entry.series or '*'} {entry.level or '*'}"
    return (
        f"申报人因“{entry.reason}”在 {until}（北京时间）前不得申报相应职称评审（{scope}） / "
        f"the applicant is barred from this title ({scope}) until {until} Beijing time: "
        f"{entry.reason}"
    )
