"""The read model (GET /declarations, inboxes) and time held per actor (docs/rules.md §10.2)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from domain.calendar import BEIJING
from domain.models import AuditEventIn, Campaign
from store.audit import append_events
from store.db import Store
from store.readmodel import get_held, get_view, involving_org, upsert_view
from store.registry import register
from store.tables import DeclarationRead, DeclarationRegistry
from testing import factories
from testing.builders import APPLICANT, SYSTEM, declaration_id, event, view

COUNTY = ("county-1", "authority_reviewer", "county-hr")
PREFECTURE = ("prefecture-1", "authority_reviewer", "prefecture-transport")


def day(d: int, hour: int = 0) -> datetime:
    return datetime(2024, 9, d, hour, tzinfo=BEIJING)


def test_an_older_or_retried_view_never_overwrites_a_newer_one(store: Store) -> None:
    d = declaration_id()
    with store.session() as session:
        assert upsert_view(session, view(d, version=3, state="unit_publicity"))
    with store.session() as session:
        assert not upsert_view(session, view(d, version=2, state="unit_review"))
        assert get_view(session, d).state == "unit_publicity"  # type: ignore[union-attr]
        assert upsert_view(session, view(d, version=3, state="unit_publicity")), "a retry"
        assert upsert_view(session, view(d, version=4, state="unit_recommendation"))
    with store.session(readonly=True) as session:
        stored = get_view(session, d)
        row = session.get(DeclarationRead, d)
    assert stored is not None and (stored.version, stored.state) == (4, "unit_recommendation")
    assert row is not None and (row.version, row.pending_role, row.pending_org) == (
        4,
        "unit_reviewer",
        "U-001",
    )


def test_an_unknown_declaration_has_no_view(store: Store) -> None:
    with store.session(readonly=True) as session:
        assert get_view(session, "D-none") is None


def test_declarations_are_found_by_any_organisation_on_their_chain(store: Store) -> None:
    mine, other = declaration_id(), declaration_id()
    with store.session() as session:
        upsert_view(session, view(mine, version=1, authority_chain=["county_hr", "pref%"]))
        upsert_view(session, view(other, version=1, unit_id="U-0011", authority_chain=[]))
    with store.session(readonly=True) as session:

        def found(org: str) -> set[str]:
            query = select(DeclarationRead.declaration_id).where(involving_org(org))
            return set(session.exec(query)) & {mine, other}

        assert found("U-001") == {mine}
        assert found("county_hr") == {mine}
        assert found("countyXhr") == set(), "an underscore is not a wildcard"
        assert found("pref%") == {mine}
        assert found("U-0011") == {other}


def _full_trail(d: str) -> list[AuditEventIn]:
    """2024-09: draft Mon 2nd, unit 3rd-12th (with publicity), county 13th-17th (14th is an
    adjusted working Saturday, 15th-17th the Mid-Autumn holiday), prefecture 18th-19th."""
    return [
        event(d, 1, day(2), action="created", after="draft", actor=APPLICANT),
        event(d, 2, day(3), action="submit", before="draft", after="unit_review", actor=APPLICANT),
        event(d, 3, day(5), action="decide", before="unit_review", after="unit_publicity"),
        event(
            d, 4, day(5, 12), action="objection.lodged", before="unit_publicity",
            after="unit_publicity", actor=("citizen", "auditor", ""),
        ),
        event(
            d, 5, day(12), action="timer.unit_publicity_ended", before="unit_publicity",
            after="unit_recommendation", actor=SYSTEM,
        ),
        event(d, 6, day(13), action="decide", before="unit_recommendation", after="authority_review"),
        event(
            d, 7, day(18), action="decide", before="authority_review", after="authority_review",
            actor=COUNTY,
        ),
        event(
            d, 8, day(20), action="decide", before="authority_review",
            after="committee_formal_review", actor=PREFECTURE,
        ),
        event(
            d, 9, day(20, 9), action="decide", before="committee_formal_review",
            after="committee_formal_review", actor=COUNTY, outcome="refused",
        ),
    ]  # fmt: skip


def test_time_held_is_counted_per_actor_in_official_working_days(store: Store) -> None:
    """§10.2 and §7: weekends and the 2024 Mid-Autumn holiday count nothing; the adjusted
    working Saturday 2024-09-14 counts."""
    d = declaration_id()
    with store.session() as session:
        append_events(session, _full_trail(d))
        upsert_view(session, view(d, version=9, state="committee_formal_review"))
    with store.session(readonly=True) as session:
        held = get_held(session, d)
    assert held is not None
    assert held["by_holder"] == {
        "applicant": 1.0,
        "unit_reviewer:U-001": 8.0,
        "authority_reviewer:county-hr": 2.0,
        "authority_reviewer:prefecture-transport": 2.0,
    }
    assert held["current"] == {
        "stage": "committee_formal_review",
        "holder": "committee",
        "since": "2024-09-19T16:00:00.000000Z",
    }
    assert [i["stage"] for i in held["intervals"]] == [
        "draft",
        "unit_review",
        "unit_publicity",
        "unit_recommendation",
        "authority_review",
        "authority_review",
    ]


def test_a_return_by_an_authority_level_comes_back_to_that_level(store: Store) -> None:
    d = declaration_id()
    events = [
        event(d, 1, day(2), action="created", after="draft", actor=APPLICANT),
        event(d, 2, day(3), action="x", before="unit_recommendation", after="authority_review"),
        event(d, 3, day(4), action="x", before="authority_review", after="authority_review",
              actor=COUNTY),
        event(d, 4, day(5), action="x", before="authority_review", after="returned",
              actor=PREFECTURE),
        event(d, 5, day(6), action="resubmit", before="returned", after="authority_review",
              actor=APPLICANT),
        event(d, 6, day(10), action="withdraw", before="authority_review", after="withdrawn",
              actor=APPLICANT),
    ]  # fmt: skip
    with store.session() as session:
        append_events(session, events)
        upsert_view(session, view(d, version=6, state="withdrawn"))
        held = get_held(session, d)
    assert held is not None
    assert held["by_holder"] == {
        "applicant": 2.0,  # draft Mon 2nd + returned Thu 5th
        "authority_reviewer:county-hr": 1.0,
        "authority_reviewer:prefecture-transport": 3.0,  # Wed 4th, then Fri 6th and Mon 9th
    }
    assert held["current"] is None, "an ended declaration is held by nobody"


def test_the_registry_follows_the_state_of_the_newest_view(store: Store) -> None:
    campaign: Campaign = factories.campaign(day(2) - timedelta(days=1))
    declaration = factories.declaration(campaign)
    d = declaration_id()
    with store.session() as session:
        register(session, declaration_id=d, campaign=campaign, declaration=declaration, at=day(2))
        upsert_view(session, view(d, version=2, state="unit_review"))
        assert session.get(DeclarationRegistry, d).live  # type: ignore[union-attr]
        upsert_view(session, view(d, version=5, state="withdrawn"))
        upsert_view(session, view(d, version=4, state="unit_review"))  # late, ignored
    with store.session(readonly=True) as session:
        row = session.get(DeclarationRegistry, d)
    assert row is not None and (row.live, row.state) == (False, "withdrawn")
