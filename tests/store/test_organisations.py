"""The organisation registry in the store (docs/rules.md §11), on SQLite and PostgreSQL: a change
is all or nothing and audited on the registry's own chain; the campaigns' committee and fee
offices are columns; the migration fills them for campaigns stored before it, and the
declarations filed before it keep their chain."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import select

from domain.models import Organisation
from store.audit import append_events, check_chains
from store.campaigns import CampaignRow, add_campaign
from store.db import Store, alembic_config
from store.organisations import (
    REGISTRY_CHAIN,
    RegistryChange,
    RegistryRefused,
    apply_registry_change,
    get_organisation,
    lineage,
    list_organisations,
    members_of,
    plan_registry_change,
    registry,
)
from store.queries.declarations import (
    campaigns_of_committee,
    campaigns_of_finance,
    declaration_facts,
)
from testing import factories as f
from testing.builders import declaration_id, trail, view

AT = datetime(2024, 7, 22, 2, tzinfo=UTC)


def apply(store: Store, orgs: list[Organisation], at: datetime = AT) -> RegistryChange:
    with store.session() as session:
        return apply_registry_change(session, orgs, actor=f.ADMIN, at=at)


def audit(store: Store) -> list[dict[str, Any]]:
    with store.session(readonly=True) as session:
        rows = (
            session.execute(
                text(
                    "SELECT seq, actor_id, action, outcome, detail FROM audit_event "
                    "WHERE declaration_id = :d ORDER BY seq"
                ),
                {"d": REGISTRY_CHAIN},
            )
            .mappings()
            .all()
        )
    return [{**r, "detail": json.loads(r["detail"])} for r in rows]


def test_an_import_creates_replaces_and_leaves_alone_and_is_audited_11(store: Store) -> None:
    """§11, §8 (谁审查，谁负责): every accepted change is an event on the registry's chain naming
    who made it and what changed; a repeat changes nothing and writes nothing."""
    change = apply(store, f.REGISTRY)
    assert [o.id for o in change.created] == [o.id for o in f.REGISTRY]
    again = apply(store, f.REGISTRY)
    assert again.created == again.replaced == [] and len(again.unchanged) == len(f.REGISTRY)
    moved = Organisation.model_validate(
        {**f.REGISTRY[3].model_dump(), "parent_id": "other-hr"}  # U-001 under other-hr
    )
    assert moved.id == "U-001"
    change = apply(store, [moved], AT + timedelta(hours=1))
    assert [r.fields for r in change.replaced] == [["parent_id"]]
    events = audit(store)
    assert [(e["seq"], e["actor_id"], e["action"], e["outcome"]) for e in events] == [
        (1, f.ADMIN.id, "import_organisations", "accepted"),
        (2, f.ADMIN.id, "import_organisations", "accepted"),
    ]
    assert events[1]["detail"]["before"] == {"parent_id": "county-hr"}
    assert events[1]["detail"]["after"] == {"parent_id": "other-hr"}
    with store.session(readonly=True) as session:
        assert check_chains(session, declaration_id=REGISTRY_CHAIN).ok
        assert get_organisation(session, "U-001") == moved


def test_a_bad_row_refuses_the_whole_import_and_writes_nothing_11(store: Store) -> None:
    apply(store, f.REGISTRY)
    good = Organisation(id="U-NEW", kind="unit", name="新单位", parent_id="county-hr")
    orphan = Organisation(id="U-ORPHAN", kind="unit", name="孤单位", parent_id="nowhere")
    under_unit = Organisation(id="U-UNDER", kind="unit", name="下级单位", parent_id="U-001")
    with pytest.raises(RegistryRefused) as refused:
        apply(store, [good, orphan, under_unit])
    assert [(p.org_id, p.index, p.field) for p in refused.value.problems] == [
        ("U-ORPHAN", 1, "parent_id"),
        ("U-UNDER", 2, "parent_id"),
    ]
    with store.session(readonly=True) as session:
        assert get_organisation(session, "U-NEW") is None
    assert len(audit(store)) == 1


def test_a_kind_a_campaign_or_a_child_depends_on_cannot_change_11(store: Store) -> None:
    apply(store, f.REGISTRY)
    with store.session() as session:
        add_campaign(session, f.campaign(AT), at=AT)
    committee = Organisation(id=f.COMMITTEE_ORG, kind="authority", name="改为主管部门")
    county = Organisation(id="county-hr", kind="finance_office", name="改为财务")
    with store.session(readonly=True) as session:
        plan = plan_registry_change(session, [committee, county])
    assert {(p.org_id, p.field) for p in plan.problems} == {
        (f.COMMITTEE_ORG, "kind"),
        ("county-hr", "kind"),
    }
    with pytest.raises(RegistryRefused):
        apply(store, [committee])


def test_lineage_lists_and_members_read_what_is_registered_11(store: Store) -> None:
    apply(store, f.REGISTRY)
    with store.session(readonly=True) as session:
        assert list(lineage(session, "U-001")) == ["U-001", "county-hr", "prefecture-transport"]
        assert lineage(session, "U-404") == {}
        assert [o.id for o in list_organisations(session, kind="committee")] == [
            f.COMMITTEE_ORG,
            "other-committee",
        ]
        below = list_organisations(session, parent_id="county-hr")
        assert [o.id for o in below] == ["U-001", f.URUMQI_UNIT]
        assert set(registry(session, ["U-001", "nope"])) == {"U-001"}
        assert len(registry(session)) == len(f.REGISTRY)
        assert members_of(session, f.COMMITTEE_ORG) == 25
        assert members_of(session, "U-001") is None and members_of(session, "nope") is None


def test_a_campaigns_committee_and_fee_offices_scope_the_lists_11(store: Store) -> None:
    """§11: a committee acts for the campaigns naming it (and those stored before the registry,
    which name none); finance for those whose fee offices name it."""
    mine = f.campaign(AT, confirming_org="other-hr")
    theirs = f.campaign(AT, committee_org="other-committee", finance_orgs=[])
    legacy = f.campaign(AT, committee_org=None, top_authority=None, finance_orgs=[])
    with store.session() as session:
        for c in (mine, theirs, legacy):
            add_campaign(session, c, at=AT)
        rows = {r.id: r for r in session.exec(select(CampaignRow))}
        assert (rows[mine.id].committee_org, rows[mine.id].fee_offices) == (
            f.COMMITTEE_ORG,
            f"|{f.FINANCE_ORG}|",
        )
        assert rows[theirs.id].fee_offices == "|other-committee|"  # the committee's own office
        assert (rows[mine.id].confirming_org, rows[theirs.id].confirming_org) == ("other-hr", None)
        assert (rows[legacy.id].committee_org, rows[legacy.id].fee_offices) == (None, "")
        committee = set(session.execute(campaigns_of_committee(f.COMMITTEE_ORG)).scalars())
        finance = set(session.execute(campaigns_of_finance(f.FINANCE_ORG)).scalars())
        other = set(session.execute(campaigns_of_finance("other-committee")).scalars())
    assert committee == {mine.id, legacy.id}
    assert finance == {mine.id, legacy.id}
    assert other == {theirs.id, legacy.id}


def test_the_migration_fills_existing_campaigns_and_keeps_filed_chains(blank_store: Store) -> None:
    """Existing campaigns migrate (their committee and fee offices from their body, none for a
    campaign made before the registry); a declaration filed before keeps the chain it was filed
    with (docs/rules.md §11)."""
    config = alembic_config(blank_store.url)
    with blank_store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007_materials")
    legacy = f.campaign(AT, committee_org=None, top_authority=None, finance_orgs=[])
    named = f.campaign(AT)
    with blank_store.engine.begin() as connection:
        for c in (legacy, named):
            connection.execute(
                text(
                    "INSERT INTO campaign (id, year, series, body, created_at, updated_at) "
                    "VALUES (:id, :year, :series, :body, :at, :at)"
                ),
                {
                    "id": c.id,
                    "year": c.year,
                    "series": c.series,
                    "body": json.dumps(c.model_dump(mode="json")),
                    "at": AT.replace(tzinfo=None),
                },
            )
    d = declaration_id()
    with blank_store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO declaration_read (declaration_id, campaign_id, state, unit_id, "
                "authority_chain, orgs, level, series, route, id_number, at_risk, version, "
                "view_json, held) VALUES (:d, :c, 'draft', 'U-001', :chain, '|U-001|', "
                "'deputy_senior', 'engineering', 'directed', 'X', false, 1, :v, '{}')"
            ),
            {
                "d": d,
                "c": legacy.id,
                "chain": json.dumps(["old-county", "old-top"]),
                "v": view(d, version=1, campaign_id=legacy.id).model_dump_json(),
            },
        )
    blank_store.migrate()
    with blank_store.session() as session:
        append_events(session, trail(d, 1))
        rows = {r.id: r for r in session.exec(select(CampaignRow))}
        facts = declaration_facts(session, d)
    assert (rows[legacy.id].committee_org, rows[legacy.id].fee_offices) == (None, "")
    assert (rows[named.id].committee_org, rows[named.id].fee_offices) == (
        f.COMMITTEE_ORG,
        f"|{f.FINANCE_ORG}|",
    )
    assert facts is not None and facts.authority_chain == ("old-county", "old-top")
    assert (facts.committee_org, facts.fee_offices) == (None, ())
