"""Publicity periods and deadlines on the store's calendar (docs/rules.md §3, §7, §10.1)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.deadlines import DeadlineActivities
from activities.messages import (
    DeadlineRequest,
    PublicityClosed,
    PublicityCloseRequest,
    PublicityOpened,
    PublicityRequest,
)
from activities.publicity import PublicityActivities
from domain.calendar import BEIJING, CalendarYear
from domain.models import Campaign, ComputedDeadline
from store.audit import append_events
from store.calendar import put_calendar_year
from store.db import Store
from testing import factories
from testing.builders import declaration_id, event

PublicityKind = Literal["unit_publicity", "result_publicity"]
CAMPAIGN: Campaign = factories.campaign(datetime(2024, 8, 1, tzinfo=BEIJING))


def bj(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=BEIJING)


async def open_(
    store: Store, d: str, start: datetime, kind: PublicityKind = "unit_publicity"
) -> PublicityOpened:
    request = PublicityRequest(declaration_id=d, campaign=CAMPAIGN, kind=kind, start=start)
    return await ActivityEnvironment().run(PublicityActivities(store).open_publicity, request)


async def close(
    store: Store, d: str, at: datetime, kind: PublicityKind = "unit_publicity"
) -> PublicityClosed:
    request = PublicityCloseRequest(declaration_id=d, kind=kind, closed_at=at)
    return await ActivityEnvironment().run(PublicityActivities(store).close_publicity, request)


async def compute(store: Store, **fields: Any) -> ComputedDeadline:
    request = DeadlineRequest(declaration_id="D-1", campaign=CAMPAIGN, **fields)
    return await ActivityEnvironment().run(DeadlineActivities(store).compute_deadline, request)


async def test_a_unit_publicity_lasts_five_working_days_on_the_official_calendar(
    store: Store,
) -> None:
    """§7 example: started Friday 2024-09-27, it counts 09-29 (adjusted working Sunday), 09-30,
    10-08, 10-09, 10-10 and ends at 2024-10-11 00:00 Beijing time (公示 09-28 至 10-10)."""
    d = declaration_id()
    opened = await open_(store, d, bj(2024, 9, 27, 15))
    deadline = opened.deadline
    assert (opened.kind, deadline.at) == ("unit_publicity", bj(2024, 10, 11))
    assert (deadline.first_day, deadline.last_day) == (date(2024, 9, 28), date(2024, 10, 10))
    assert deadline.explanation.rule == "unit_publicity"
    assert deadline.explanation.inputs["working_days"] == "5"
    assert "2024=" in deadline.explanation.calendar_version
    assert not deadline.explanation.provisional
    retry = await open_(store, d, bj(2024, 9, 27, 15))
    assert retry == opened


async def test_a_recorded_official_end_does_not_move_when_the_calendar_changes(
    store: Store,
) -> None:
    d = declaration_id()
    opened = await open_(store, d, bj(2024, 9, 27, 15))
    with store.session() as session:
        packaged = CalendarYear(
            year=2024, version="admin", holidays=[date(2024, 10, 9)], workdays=[]
        )
        put_calendar_year(session, packaged, replace=True)
    assert await open_(store, d, bj(2024, 9, 27, 15)) == opened


async def test_a_provisional_end_is_recomputed_once_the_official_year_is_loaded(
    store: Store,
) -> None:
    """§7: a year without official data is provisional; loading it recomputes the deadline."""
    d = declaration_id()
    provisional = (await open_(store, d, bj(2040, 3, 2, 10))).deadline
    assert provisional.explanation.provisional
    assert provisional.at == bj(2040, 3, 10)
    with store.session() as session:
        put_calendar_year(
            session,
            CalendarYear(
                year=2040, version="official-2040", holidays=[date(2040, 3, 6)], workdays=[]
            ),
        )
    official = (await open_(store, d, bj(2040, 3, 2, 10))).deadline
    assert not official.explanation.provisional
    assert official.at == bj(2040, 3, 13)
    assert "official-2040" in official.explanation.calendar_version


async def test_closing_a_publicity_counts_its_objections_and_happens_once(store: Store) -> None:
    d = declaration_id()
    await open_(store, d, bj(2024, 9, 27, 15))
    with store.session() as session:
        append_events(
            session,
            [
                event(d, 1, bj(2024, 9, 27, 15), action="decide", before="unit_review",
                      after="unit_publicity"),
                event(d, 2, bj(2024, 9, 30, 9), action="objection.lodged",
                      before="unit_publicity", after="unit_publicity",
                      actor=("citizen", "auditor", "")),
            ],
        )  # fmt: skip
    closed = await close(store, d, bj(2024, 10, 11))
    assert (closed.kind, closed.closed_at, closed.objections) == (
        "unit_publicity",
        bj(2024, 10, 11),
        1,
    )
    again = await close(store, d, bj(2024, 10, 12))
    assert again == closed, "a retry returns the first closing"


async def test_closing_a_publicity_that_was_never_opened_is_refused(store: Store) -> None:
    with pytest.raises(ApplicationError) as caught:
        await close(store, declaration_id(), bj(2024, 10, 11), "result_publicity")
    assert (caught.value.type, caught.value.non_retryable) == ("InvalidRequest", True)


@pytest.mark.parametrize(
    ("returned_at", "deadline"),
    [
        (bj(2024, 9, 25, 10), bj(2024, 9, 28)),  # Wednesday: by 24:00 Friday 09-27
        (bj(2024, 9, 27, 10), bj(2024, 9, 30)),  # Friday: by 24:00 Sunday 09-29 (worked)
        (bj(2024, 9, 29, 10), bj(2024, 10, 9)),  # Sunday: by 24:00 Tuesday 10-08
    ],
)
async def test_a_correction_window_is_two_days_counted_as_the_civil_code_counts(
    store: Store, returned_at: datetime, deadline: datetime
) -> None:
    """§3 (001 退回后2日内; 《民法典》第201、203条), the examples of docs/rules.md §3."""
    computed = await compute(store, kind="correction", start=returned_at)
    assert computed.at == deadline
    assert computed.explanation.rule == "correction_window"


async def test_a_result_publicity_deadline_is_computed_like_the_publicity(store: Store) -> None:
    computed = await compute(store, kind="result_publicity", start=bj(2024, 9, 27, 15))
    assert computed.at == bj(2024, 10, 11)


async def test_at_risk_from_is_the_instant_fewer_working_days_remain_than_needed(
    store: Store,
) -> None:
    """§10.2, the example of domain.periods: deadline 2024-08-30 18:00, 6 days needed."""
    until = bj(2024, 8, 30, 18)
    computed = await compute(
        store, kind="at_risk_from", start=bj(2024, 8, 1), until=until, working_days_needed=6
    )
    assert computed.at == bj(2024, 8, 22)


async def test_nothing_needed_means_not_at_risk_before_the_deadline(store: Store) -> None:
    until = bj(2024, 8, 30, 18)
    computed = await compute(
        store, kind="at_risk_from", start=bj(2024, 8, 1), until=until, working_days_needed=0
    )
    assert computed.at == until
    assert "not at risk" in computed.explanation.text


async def test_at_risk_from_without_a_deadline_is_an_invalid_request(store: Store) -> None:
    with pytest.raises(ApplicationError) as caught:
        await compute(store, kind="at_risk_from", start=bj(2024, 8, 1), working_days_needed=3)
    assert (caught.value.type, caught.value.non_retryable) == ("InvalidRequest", True)
