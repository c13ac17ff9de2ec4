"""Changes fanned out to open declarations: a campaign's deadlines (延期, docs/rules.md §3) and an
official calendar year (§7: loading it recomputes provisional deadlines)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from api.refusals import ACCESS_CHAIN
from domain.calendar import BEIJING, packaged_year
from domain.models import Actor
from settings import Settings
from testing import factories as f
from testing.api import Api, audit_rows


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_deadline_change_reaches_every_open_declaration(api: Api) -> None:
    """POST /campaigns/{id}/deadlines: the stored campaign moves; every open declaration re-arms
    (an extension applies at once; a move earlier no sooner than 24 h after the change); ended
    declarations are not addressed."""
    now = await api.now()
    c = await api.campaign(declaration_closes_at=now + timedelta(days=20))
    a = await api.file(c)
    b = await api.file(c, applicant=Actor(id="applicant-b", role="applicant"))
    ended = await api.file(c, applicant=Actor(id="applicant-c", role="applicant"))
    await api.post(f"/declarations/{ended}/withdraw", Actor(id="applicant-c", role="applicant"))
    await api.post(f"/declarations/{a}/submit", f.APPLICANT)

    later = now + timedelta(days=30)
    result = await api.post(f"/campaigns/{c.id}/deadlines", f.COMMITTEE,
                            {"declaration_closes_at": later.isoformat()})  # fmt: skip
    assert (result["declarations"], result["updated"], result["failed"]) == (2, 2, [])
    for d in (a, b):
        assert instant((await api.view(d))["deadlines"]["declaration"]) == later
    stored = await api.get(f"/campaigns/{c.id}", f.APPLICANT)
    assert instant(stored["declaration_closes_at"]) == later

    earlier = now + timedelta(hours=2)
    result = await api.post(f"/campaigns/{c.id}/deadlines", f.ADMIN,
                            {"declaration_closes_at": earlier.isoformat()})  # fmt: skip
    assert result["updated"] == 2
    moved = instant((await api.view(a))["deadlines"]["declaration"])
    assert moved >= (await api.now()) + timedelta(hours=23), "a day's notice at least"
    history = (await api.get(f"/declarations/{a}/history", f.ADMIN))["events"]
    changes = [e for e in history if e["action"] == "deadlines.changed"]
    assert [e["actor_id"] for e in changes] == [f.COMMITTEE.id, f.ADMIN.id]


def next_unpackaged_year(today: date) -> int | None:
    for year in range(today.year, today.year + 3):
        if packaged_year(year) is None:
            return year
    return None


async def test_loading_a_calendar_year_recomputes_provisional_deadlines(api: Api) -> None:
    """PUT /calendar/{year}: a correction window reaching a year without official data is
    provisional (§7); loading that year recomputes it and it is provisional no more."""
    now = await api.now()
    c = await api.campaign(
        correction_window_days=60, declaration_closes_at=now + timedelta(days=90)
    )
    d = await api.file(c)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    view = await api.decide(d, f.UNIT, "unit_review", "return", opinion="缺少学历证书",
                            reasons=["missing_material"])  # fmt: skip
    due = instant(view["deadlines"]["correction"]).astimezone(BEIJING)
    if packaged_year(due.year) is not None:
        pytest.skip(f"the packaged calendar covers {due.year}: nothing is provisional")
    # the correction window, and the at-risk instant measured against the declaration deadline
    assert view["provisional_deadlines"] == ["at_risk_from", "correction"]

    later_year = await api.call("PUT", f"/calendar/{due.year + 1}", f.ADMIN,
                                {"version": "test", "holidays": [], "workdays": []})  # fmt: skip
    assert later_year.json()["declarations"] == 0
    holidays = [date(due.year, 1, 1).isoformat()]
    answer = await api.call("PUT", f"/calendar/{due.year}", f.ADMIN,
                            {"version": f"国办发明电 {due.year}", "holidays": holidays,
                             "workdays": []})  # fmt: skip
    result = answer.json()
    assert (result["changed"], result["declarations"], result["updated"]) == (True, 1, 1)
    assert result["failed"] == []
    view = await api.view(d)
    assert view["provisional_deadlines"] == [] and view["state"] == "returned"
    again = await api.call("PUT", f"/calendar/{due.year}", f.ADMIN,
                           {"version": f"国办发明电 {due.year}", "holidays": holidays,
                            "workdays": []})  # fmt: skip
    assert again.json()["changed"] is False and again.json()["failed"] == []
    assert (await api.view(d))["deadlines"]["correction"] == view["deadlines"]["correction"]


async def test_a_calendar_load_that_drops_official_holidays_needs_replace(
    api: Api, settings: Settings
) -> None:
    """PUT /calendar/{year} with an empty holiday list for a year the packaged (State Council)
    data covers would turn 春节 and 国庆 into working days (§7): 409 with the reason and the
    difference, nothing loaded, the refusal audited; with ``"replace": true`` it loads and the
    answer shows the same difference."""
    official = packaged_year(2025)
    assert official is not None
    body = {"version": "2025 (typo)", "holidays": [], "workdays": []}
    refused = await api.call("PUT", "/calendar/2025", f.ADMIN, body, expect=409)
    answer = refused.json()
    assert refused.headers["content-type"] == "application/problem+json"
    assert answer["type"] == "/problems/holidays-dropped"
    assert answer["code"] == "put_calendar.holidays_dropped"
    assert '"replace": true' in answer["detail"] and answer["year"] == 2025
    removed = [d.isoformat() for d in sorted(official.holidays)]
    assert answer["difference"] == {
        "against_version": official.version,
        "against_source": "packaged",
        "holidays_added": [],
        "holidays_removed": removed,
        "workdays_added": [],
        "workdays_removed": [d.isoformat() for d in sorted(official.workdays)],
    }
    (row,) = [r for r in audit_rows(settings, ACCESS_CHAIN) if r["action"] == "put_calendar"]
    assert row["outcome"] == "refused" and row["actor_id"] == f.ADMIN.id
    detail = json.loads(row["detail"]) if isinstance(row["detail"], str) else row["detail"]
    assert detail["status"] == 409 and detail["difference"] == answer["difference"]

    loaded = await api.call("PUT", "/calendar/2025", f.ADMIN, {**body, "replace": True})
    result = loaded.json()
    assert result["changed"] is True and result["difference"] == answer["difference"]
    again = await api.call("PUT", "/calendar/2025", f.ADMIN, body)
    assert again.json()["changed"] is False, "the same load again needs no replace"
    assert again.json()["difference"]["holidays_removed"] == []
    await api.call("PUT", "/calendar/2025", f.ADMIN, {**body, "replace": "yes"}, expect=422)
