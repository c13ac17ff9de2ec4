"""Screening at submission (docs/rules.md §2.1, §2 end): barred persons, one live declaration per
person, year, series and level (001), and units barred from recommending."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from temporalio.testing import ActivityEnvironment

from activities.audit import AuditActivities
from activities.blacklist import BlacklistActivities
from activities.messages import BlacklistRequest, RecordBatch, ScreeningRequest
from activities.screening import ScreeningActivities
from domain.calendar import BEIJING
from domain.models import Campaign, DeclarationInput, ScreeningResult
from store.db import Store
from store.tables import BlacklistEntry, DeclarationRegistry
from testing import factories
from testing.builders import declaration_id, event, view

AT = datetime(2024, 8, 1, 10, tzinfo=BEIJING)
ID_NUMBER = "652901198001011234"


def campaign(**overrides: Any) -> Campaign:
    return factories.campaign(AT, **overrides)


def declaration(c: Campaign, level: str = "deputy_senior", **overrides: Any) -> DeclarationInput:
    return factories.declaration(
        c, level, applicant=factories.applicant(id_number=ID_NUMBER), **overrides
    )


async def screen(
    store: Store, d: str, c: Campaign, decl: DeclarationInput, at: datetime = AT
) -> ScreeningResult:
    request = ScreeningRequest(declaration_id=d, campaign=c, declaration=decl, at=at)
    return await ActivityEnvironment().run(ScreeningActivities(store).screen_applicant, request)


async def end(store: Store, d: str, c: Campaign, state: str) -> None:
    """The workflow records the step that ended the declaration."""
    batch = RecordBatch(
        events=[event(d, 1, AT, action="created", after="draft")],
        view=view(d, version=1, state=state, id_number=ID_NUMBER, campaign_id=c.id),
    )
    await ActivityEnvironment().run(AuditActivities(store).record_audit_event, batch)


async def misconduct(store: Store, c: Campaign, *, unit_at_fault: bool) -> str:
    d = declaration_id()
    request = BlacklistRequest(
        declaration_id=d,
        campaign=c,
        level="deputy_senior",
        id_number=ID_NUMBER,
        unit_id="U-001",
        unit_at_fault=unit_at_fault,
        finding="伪造业绩证明",
        found_at=AT,
    )
    blacklist = BlacklistActivities(store)
    await ActivityEnvironment().run(blacklist.record_blacklist, request)
    await ActivityEnvironment().run(blacklist.record_blacklist, request)  # a retry adds nothing
    return d


async def test_a_clean_first_declaration_passes_and_is_registered_once(store: Store) -> None:
    c, d = campaign(), declaration_id()
    for _ in range(2):
        assert await screen(store, d, c, declaration(c)) == ScreeningResult()
    with store.session(readonly=True) as session:
        rows = list(session.exec(select(DeclarationRegistry).where(
            DeclarationRegistry.declaration_id == d)))  # fmt: skip
    assert [(r.year, r.series, r.level, r.id_number, r.live) for r in rows] == [
        (2024, c.series, "deputy_senior", ID_NUMBER, True)
    ]


async def test_a_person_barred_for_misconduct_is_refused_that_title_for_five_years(
    store: Store,
) -> None:
    """000, 002, 003, 004: 个人五年内不得申报相应职称评审 (scope series_level)."""
    c = campaign(blacklist={"applicant_years": 5, "unit_years": 3, "scope": "series_level"})
    finding = await misconduct(store, c, unit_at_fault=False)
    result = await screen(store, declaration_id(), c, declaration(c), AT + timedelta(days=1))
    assert result.refusal is not None and "2029-08-01 10:00" in result.refusal
    assert "伪造业绩证明" in result.refusal
    other_level = await screen(store, declaration_id(), c, declaration(c, "intermediate"))
    assert other_level.refusal is None, "the bar covers the corresponding title only"
    c2029 = campaign(year=2029)
    at = AT + timedelta(days=5 * 366)
    later = await screen(store, declaration_id(), c2029, declaration(c2029), at)
    assert later.refusal is None, "the bar has ended"
    with store.session(readonly=True) as session:
        entries = list(session.exec(select(BlacklistEntry).where(
            BlacklistEntry.declaration_id == finding)))  # fmt: skip
    assert [e.subject_kind for e in entries] == ["applicant"]


async def test_a_bar_covers_the_whole_series_by_default(store: Store) -> None:
    """docs/rules.md §2 (end), v3: 相应职称评审 is the same series at every level: a
    deputy-senior cheater may not apply for intermediate (or senior) either."""
    c = campaign()
    await misconduct(store, c, unit_at_fault=False)
    other_level = await screen(store, declaration_id(), c, declaration(c, "intermediate"))
    assert other_level.refusal is not None and "engineering *" in other_level.refusal


async def test_a_bar_with_scope_all_covers_every_title(store: Store) -> None:
    c = campaign(blacklist={"applicant_years": 5, "unit_years": 3, "scope": "all"})
    await misconduct(store, c, unit_at_fault=False)
    other_level = await screen(store, declaration_id(), c, declaration(c, "intermediate"))
    assert other_level.refusal is not None


async def test_a_unit_at_fault_is_barred_from_recommending_for_three_years(store: Store) -> None:
    c = campaign()
    await misconduct(store, c, unit_at_fault=True)
    someone_else = factories.declaration(c, "deputy_senior")  # another person of that unit
    result = await screen(store, declaration_id(), c, someone_else)
    assert result.refusal is None
    assert result.unit_barred_until == datetime(2027, 8, 1, 10, tzinfo=BEIJING)


async def test_a_second_live_declaration_in_the_same_year_series_and_level_is_refused(
    store: Store,
) -> None:
    """001: one route per applicant per campaign year, series and level, in any campaign."""
    first_campaign, other_campaign = campaign(), campaign()
    first, second = declaration_id(), declaration_id()
    assert (await screen(store, first, first_campaign, declaration(first_campaign))).refusal is None
    private = declaration(other_campaign, route="private_enterprise")
    result = await screen(store, second, other_campaign, private, AT + timedelta(hours=1))
    assert result.refusal is not None and first in result.refusal
    again = await screen(store, first, first_campaign, declaration(first_campaign))
    assert again.refusal is None, "the later duplicate never blocks the earlier declaration"


@pytest.mark.parametrize("state", ["withdrawn", "certified", "not_accepted", "abandoned"])
async def test_an_ended_declaration_blocks_nothing(store: Store, state: str) -> None:
    """001: an ended declaration (certified included) does not count as live."""
    c, earlier, later = campaign(), declaration_id(), declaration_id()
    await screen(store, earlier, c, declaration(c))
    await end(store, earlier, c, state)
    result = await screen(store, later, c, declaration(c), AT + timedelta(hours=1))
    assert result.refusal is None


async def test_other_years_series_and_levels_are_not_duplicates(store: Store) -> None:
    c = campaign()
    await screen(store, declaration_id(), c, declaration(c))
    for other, level in (
        (campaign(year=2025), "deputy_senior"),
        (campaign(series="economics"), "deputy_senior"),
        (c, "intermediate"),
    ):
        # A declaration names its own series (docs/rules.md §1): here the campaign's.
        decl = declaration(other, level, series=other.series)
        result = await screen(store, declaration_id(), other, decl)
        assert result.refusal is None, (other.year, other.series, level)
