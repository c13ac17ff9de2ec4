"""One way of writing a time in the console (api/console/render.py): Beijing time on a 24-hour
clock, a deadline at midnight as the end of the day before (24:00). A time field is prefilled
exactly as the page writes the time beside it and reads 24:00 back; no form uses the browser's
``datetime-local`` picker, which many locales draw on a 12-hour clock ("12:00 AM")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.console.committee import _meeting_defaults
from api.console.render import HERE, parse_time
from domain.calendar import BEIJING
from testing import factories as f
from testing.api import Api
from tests.console.helpers import Console

MIDNIGHT = datetime(2024, 10, 11, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("typed", "instant"),
    [
        ("2024-10-10 24:00", MIDNIGHT),
        ("2024-10-11 00:00", MIDNIGHT),
        (" 2024-10-11T00:00 ", MIDNIGHT),
        ("2024-10-10 18:05", datetime(2024, 10, 10, 18, 5, tzinfo=BEIJING)),
        ("2024-10-10 9:30", datetime(2024, 10, 10, 9, 30, tzinfo=BEIJING)),
    ],
)
def test_a_typed_time_is_read_in_beijing_time_24_00_included(typed: str, instant: datetime) -> None:
    assert parse_time(typed) == instant


@pytest.mark.parametrize(
    "typed",
    [
        "2024-10-10 24:30",
        "2024-10-10 25:00",
        "2024-10-10 18:60",
        "10/11/2024, 12:00 AM",
        "2024-10-10",
        "",
    ],
)
def test_anything_else_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_time(typed)


def test_no_console_form_uses_the_browsers_datetime_picker() -> None:
    templates = sorted(Path(HERE, "templates").glob("*.html"))
    assert templates
    assert [t.name for t in templates if "datetime-local" in t.read_text(encoding="utf-8")] == []


def field(page: str, name: str) -> tuple[str, str]:
    """The value a time field is prefilled with, and the time written beside it."""
    value = re.search(rf'<input id="{name}" name="{name}" [^>]*value="([^"]*)"', page)
    now = re.search(rf'id="{name}-now">现为 now: ([^<]*)<', page)
    assert value and now, f"no field {name}"
    return value.group(1), now.group(1)


async def test_the_deadline_field_shows_what_the_page_says_and_reads_24_00_back(
    api: Api, console: Console
) -> None:
    day = (await api.now()).date() + timedelta(days=90)
    midnight = datetime(day.year, day.month, day.day, tzinfo=BEIJING)
    c = await api.campaign(fee_deadline=midnight)
    committee = await console.sign_in(f.COMMITTEE)
    page = f"/console/campaigns/{c.id}/deadlines"
    written = f"{day - timedelta(days=1):%Y-%m-%d} 24:00"
    assert field((await committee.get(page)).text, "fee_deadline") == (written, written)

    unchanged = await committee.post(page, page, {"fee_deadline": written}, expect=422)
    assert "没有修改任何期限" in unchanged.text  # the prefilled value is the deadline itself

    later = f"{day:%Y-%m-%d} 24:00"
    answer = await committee.post(page, page, {"fee_deadline": later}, expect=200)
    assert field(answer.text, "fee_deadline") == (later, later)
    campaign = await api.get(f"/campaigns/{c.id}", f.ADMIN)
    assert campaign["fee_deadline"] == (midnight + timedelta(days=1)).isoformat()


def test_the_meeting_time_is_prefilled_on_a_24_hour_clock() -> None:
    afternoon = datetime(2024, 9, 20, 5, 30, tzinfo=UTC)  # 13:30 in Beijing
    assert _meeting_defaults(afternoon)["held_at"] == "2024-09-20 13:30"
    assert parse_time(_meeting_defaults(afternoon)["held_at"]) == afternoon


async def test_the_meeting_page_counts_the_registered_committee(api: Api, console: Console) -> None:
    """The campaign names its committee; the quorum counts the members registered for it
    (docs/rules.md §2.8, §11), which the page states rather than the campaign's empty field."""
    c = await api.campaign()
    committee = await console.sign_in(f.COMMITTEE)
    for page in (f"/console/campaigns/{c.id}/meeting", f"/console/campaigns/{c.id}"):
        text = (await committee.get(page)).text
        assert "评审委员会 25 人" in text and "评审委员会 None" not in text
