"""What the demo says: the outcome of a load (:class:`DemoReport`) and its words, the campaign
and how it differs from the notice, each declaration and where it ended, and what the clock will
do next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.models import Campaign
from tools.demo.data import (
    DEMO_NAME_SUFFIX,
    DEMO_SUFFIX,
    DEMO_UNIT,
    INSTANTS,
    NOT_LOADED,
    NOTICE_FILE,
    PRIVATE_UNIT,
    DemoCampaign,
    demo_chain,
)

__all__ = [
    "DemoReport",
    "Loaded",
    "describe_campaign",
    "describe_declarations",
    "duration",
]


@dataclass(frozen=True)
class Loaded:
    """One demo declaration after the run: as loaded now, or as found from an earlier run."""

    number: int
    declaration_id: str
    name: str
    level: str
    expected: str
    state: str
    story: str
    new: bool
    view: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class DemoReport:
    campaign: Campaign
    created: bool
    shift: timedelta
    declarations: list[Loaded]

    @property
    def campaign_id(self) -> str:
        return self.campaign.id

    @property
    def loaded(self) -> list[Loaded]:
        return [d for d in self.declarations if d.new]

    @property
    def mismatched(self) -> list[Loaded]:
        """Declarations loaded now that did not end where planned (found ones may have moved
        on since: the clock runs)."""
        return [d for d in self.loaded if d.state != d.expected]


def duration(delta: timedelta) -> str:
    """``39 d 18 h``: days, hours and minutes, the zero ones left out."""
    days, seconds = delta.days, delta.seconds
    hours, minutes = divmod(seconds // 60, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    return " ".join(parts) or "0 min"


def _local(instant: datetime | str | None, timezone: str) -> str:
    if instant is None:
        return "none"
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def describe_campaign(demo: DemoCampaign, timezone: str, now: datetime) -> list[str]:
    """What the demo campaign is and how it differs from the notice, in a few lines."""
    c, n = demo.campaign, demo.notice
    if now < c.declaration_opens_at:
        status = "not open yet"
    elif now < c.declaration_closes_at:
        status = "open now"
    else:
        status = "CLOSED now; to load a fresh demo, stop the system and delete var/"
    window = c.declaration_closes_at - c.declaration_opens_at
    fees = ", ".join(f"{level} {amount}" for level, amount in c.fees.items())
    moved = ", ".join(
        f"{name} {_local(getattr(c, name), timezone)}"
        for name in INSTANTS[2:]
        if getattr(c, name) is not None
    )
    return [
        f"notice 001 ({NOTICE_FILE.parent.parent.name}/{NOTICE_FILE.parent.name}/"
        f"{NOTICE_FILE.name}) with its declaration window SHIFTED by {demo.shift.days} days "
        f"to open on the day the demo was loaded ({status}):",
        f"  declaration window {_local(c.declaration_opens_at, timezone)} → "
        f"{_local(c.declaration_closes_at, timezone)} ({timezone}), "
        f"{duration(window)} as in the notice ({_local(n.declaration_opens_at, timezone)} → "
        f"{_local(n.declaration_closes_at, timezone)})",
        f"  moved by the same {demo.shift.days} days, to stay after the window: {moved}",
        f"  every other value is the notice's: fees {fees} CNY; "
        f"{c.correction_window_days}-day correction window; at most "
        f"{c.max_committee_submissions} committee submissions; publicities of "
        f"{c.unit_publicity_working_days} working days; committee {c.committee_org}, results "
        f"confirmed by {c.confirming_org}; blind review {_yes(c.blind_review)}; paper "
        f"materials {_yes(c.paper_materials_required)}; campaign year {c.year}",
        f"  the demo unit {DEMO_UNIT} reports through {' → '.join(demo_chain(c))} (its "
        "registered authorities up to the campaign's top authority)",
        *_private_route(c),
        f'  only the id ("{DEMO_SUFFIX}") and the name ("{DEMO_NAME_SUFFIX}") are marked as the demo',
    ]


def _private_route(c: Campaign) -> list[str]:
    private = c.routes.get("private_enterprise")
    if private is None:
        return []
    chain = " → ".join(private.authority_chain or []) or "no authority"
    return [
        f"  the private enterprise {PRIVATE_UNIT} files on the private-enterprise route (001 "
        f"二(二)) through its fixed chain {chain} (001 三(二))"
    ]


def describe_declarations(report: DemoReport, timezone: str) -> list[str]:
    """One line per declaration (its state, its person, its story), then the clock's notes."""
    lines: list[str] = []
    width = max(len(d.state) for d in report.declarations)
    for d in report.declarations:
        mark = "" if not d.new or d.state == d.expected else f"  (!! planned: {d.expected})"
        found = "" if d.new else "  [found]"
        lines.append(
            f"  {d.declaration_id}  {d.state:<{width}}  {d.name} ({d.level}): {d.story}"
            f"{found}{mark}"
        )
    if report.mismatched:
        lines.append(f"!! {len(report.mismatched)} declarations did not end where planned")
    lines.extend(_clock_notes(report, timezone))
    return lines


def _deadlines(declarations: list[Loaded], key: str) -> list[str]:
    """The distinct instants of one deadline across ``declarations``, sorted."""
    return sorted(
        {
            str(d.view["deadlines"][key])
            for d in declarations
            if d.view.get("deadlines", {}).get(key)
        }
    )


def _clock_notes(report: DemoReport, timezone: str) -> list[str]:
    """What the clock will do to the demo, and what the demo cannot show yet."""
    lines: list[str] = []
    publicity = [d for d in report.declarations if d.state == "unit_publicity"]
    ends = _deadlines(publicity, "publicity_ends")
    if publicity and ends:
        sample = next(d for d in publicity if d.view["deadlines"].get("publicity_ends"))
        why = sample.view.get("deadline_explanations", {}).get("publicity_ends", "")
        lines.append(
            f"The unit publicity of the {len(publicity)} in unit_publicity ends at "
            f"{' / '.join(_local(e, timezone) for e in ends)} ({timezone}): {why}"
        )
        lines.append(
            "  From then on, each without an open objection moves to unit_recommendation by "
            "itself (the workflow's own timer); the unit then recommends and the authorities "
            "and the committee take it on (README: Drive one declaration by hand)."
        )
    returned = [d for d in report.declarations if d.state == "returned"]
    corrections = _deadlines(returned, "correction")
    if corrections:
        lines.append(
            f"The {len(returned)} returned ones may be corrected and resubmitted until "
            f"{' / '.join(_local(e, timezone) for e in corrections)}; after that the workflow "
            "ends them as not_accepted by itself."
        )
    c = report.campaign
    lines.append("Not loaded, because on a real clock they need time to pass first:")
    for states, why in NOT_LOADED:
        words = why.format(
            publicity=c.unit_publicity_working_days, result=c.result_publicity_working_days
        )
        lines.append(f"  {states}: {words}")
    return lines
