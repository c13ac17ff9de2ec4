"""``GET /inbox`` (docs/rules.md §15, §10.2): what waits on the caller's role and organisation,
soonest deadline first, and among equal deadlines the declarations at risk first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.calendar import WorkCalendar
from domain.models import Actor
from domain.periods import at_risk_from
from testing import factories as f
from testing.api import DEEP_REVIEWER, DEEP_UNIT, Api, deep_registry

#: Working days the chain still needs from unit_review: 5 publicity + 1 recommendation + levels.
NEEDS_ONE_AUTHORITY = 7
NEEDS_TEN_AUTHORITIES = 16


def at_risk(deadline: datetime, needed: int, now: datetime, cal: WorkCalendar) -> bool:
    computed = at_risk_from(deadline, needed, cal)
    return computed is not None and now >= computed.at


def pick_deadline(now: datetime) -> datetime:
    """A declaration deadline at which a chain needing 16 working days is already at risk and
    one needing 7 is not (for an hour either side), on the calendar the service uses."""
    cal = WorkCalendar()
    for hours in range(24 * 7, 24 * 40, 6):
        t = now + timedelta(hours=hours)
        if (
            at_risk(t, NEEDS_TEN_AUTHORITIES, now - timedelta(hours=1), cal)
            and not at_risk(t - timedelta(hours=2), NEEDS_ONE_AUTHORITY, now + timedelta(hours=1), cal)
        ):  # fmt: skip
            return t
    raise AssertionError("no suitable deadline in the next 40 days")


async def test_inbox_soonest_due_first_and_at_risk_first_among_equals(api: Api) -> None:
    """One unit's declarations in three campaigns: the one whose chain reaches ten levels up
    (top authority A9) is at risk, those of one level (A0) are not (§10.2, §2.4)."""
    await api.register(deep_registry())
    now = await api.now()
    t = pick_deadline(now)
    soon = await api.campaign(declaration_closes_at=t - timedelta(hours=2), top_authority="A0")
    later = await api.campaign(declaration_closes_at=t, top_authority="A9")
    same = await api.campaign(declaration_closes_at=t, top_authority="A0")
    elsewhere = await api.campaign(declaration_closes_at=t - timedelta(hours=3))

    d_soon = await api.file(soon, unit_id=DEEP_UNIT)
    d_risk = await api.file(later, unit_id=DEEP_UNIT)
    d_same = await api.file(same, unit_id=DEEP_UNIT)
    d_other_unit = await api.file(elsewhere, unit_id="U-999")
    d_draft = await api.file(
        later, unit_id=DEEP_UNIT, applicant=Actor(id="applicant-draft", role="applicant")
    )
    for d in (d_same, d_risk, d_soon, d_other_unit):  # submitted in another order on purpose
        await api.post(f"/declarations/{d}/submit", f.APPLICANT)

    views = {d: await api.view(d) for d in (d_soon, d_risk, d_same)}
    assert [views[d]["at_risk"] for d in (d_soon, d_risk, d_same)] == [False, True, False]
    assert views[d_risk]["pending"]["due_at"] == views[d_same]["pending"]["due_at"]

    assert len((await api.view(d_risk))["authority_chain"]) == 10
    inbox = await api.get("/inbox", DEEP_REVIEWER)
    assert [i["id"] for i in inbox["items"]] == [d_soon, d_risk, d_same]
    assert inbox["total"] == 3
    assert [i["id"] for i in (await api.get("/inbox", f.OTHER_UNIT))["items"]] == [d_other_unit]
    # Nothing waits on the committee yet; the draft waits on the applicant who filed it only.
    assert (await api.get("/inbox", f.COMMITTEE))["items"] == []
    mine = await api.get("/inbox", Actor(id="applicant-draft", role="applicant"))
    assert [i["id"] for i in mine["items"]] == [d_draft]
    assert (await api.get("/inbox", f.APPLICANT))["items"] == []
    # Paging keeps the order.
    first = await api.get("/inbox", DEEP_REVIEWER, page=1, page_size=2)
    second = await api.get("/inbox", DEEP_REVIEWER, page=2, page_size=2)
    assert [i["id"] for i in first["items"] + second["items"]] == [d_soon, d_risk, d_same]


async def test_declaration_list_shows_each_caller_what_they_may_see(api: Api) -> None:
    """docs/rules.md §14-§15 ``GET /declarations``: auditor and admin see everything, the committee
    its campaigns'; a unit reviewer their unit's; an authority reviewer those whose (derived)
    chain names them; an applicant their own."""
    c = await api.campaign()
    mine = await api.file(c)
    other = await api.file(c, applicant=Actor(id="applicant-2", role="applicant"),
                           unit_id="U-999")  # fmt: skip
    both = {mine, other}

    async def ids(actor: Actor, **params: Any) -> set[str]:
        page = await api.get("/declarations", actor, **params)
        return {i["id"] for i in page["items"]}

    assert await ids(f.ADMIN) == both and await ids(f.COMMITTEE) == both
    assert await ids(f.UNIT) == {mine} and await ids(f.OTHER_UNIT) == {other}
    assert await ids(f.OTHER_COMMITTEE) == set()
    other_hr = Actor(id="other-hr-reviewer", role="authority_reviewer", org="other-hr")
    assert await ids(f.COUNTY) == {mine} and await ids(other_hr) == {other}
    assert await ids(f.PREFECTURE) == both
    assert await ids(f.APPLICANT) == {mine}
    assert await ids(f.ADMIN, org="U-999") == {other}
    assert await ids(f.ADMIN, state="draft", campaign_id=c.id) == both
    assert await ids(f.ADMIN, state="unit_review") == set()
    page = await api.get("/declarations", f.ADMIN, page=2, page_size=1)
    assert page["total"] == 2 and len(page["items"]) == 1
