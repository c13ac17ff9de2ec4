"""docs/rules.md §11, §2.4, §5, §12: what the registry means for a campaign and a declaration at
the edge (``domain.registry_bindings``): the bodies a campaign names, the chain, region and unit
a declaration is filed with, and the registry changes a campaign forbids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from domain.campaign_checks import Problem
from domain.models import Campaign, DeclarationInput, Organisation
from domain.registry_bindings import (
    Filing,
    campaign_registry_problems,
    deprecated_fields,
    derives_chain,
    file_declaration,
    kind_change_problems,
    named_orgs,
)
from testing import factories as f

NOW = datetime(2024, 7, 22, 10, tzinfo=f.BJ)
REGISTRY = {o.id: o for o in f.REGISTRY}
REGISTRY["aid-sender"] = Organisation(id="aid-sender", kind="sending_unit", name="援疆派出单位")


def campaign(**overrides: Any) -> Campaign:
    return Campaign.model_validate(f.campaign_body(f.campaign(NOW, **overrides)))


def problems_at(problems: list[Problem]) -> set[str]:
    return {".".join(p.loc) for p in problems}


# --------------------------------------------------------------------------- campaigns


def test_a_campaign_naming_registered_bodies_of_their_kinds_is_accepted_11() -> None:
    c = campaign()
    assert campaign_registry_problems(c, REGISTRY) == []
    assert {n.org_id for n in named_orgs(c)} == {
        f.COMMITTEE_ORG,
        f.TOP_AUTHORITY,
        f.FINANCE_ORG,
        f.EMPLOYMENT_SERVICE,
    }


def test_a_campaign_must_name_its_committee_and_where_routes_derive_its_top_authority_11() -> None:
    """§11: committee_org is required; top_authority wherever a route derives its chain
    (directed here); confirming_org where results are confirmed (40号令 审核确认)."""
    c = campaign(committee_org=None, top_authority=None, result_confirmation_required=True)
    assert problems_at(campaign_registry_problems(c, REGISTRY)) == {
        "committee_org",
        "top_authority",
        "confirming_org",
    }
    # 援疆 alone and fixed chains derive nothing: no top authority needed (§12).
    fixed = campaign(
        top_authority=None,
        routes={
            "aid_xinjiang": {},
            "private_enterprise": {"authority_chain": [f.EMPLOYMENT_SERVICE]},
        },
    )
    assert campaign_registry_problems(fixed, REGISTRY) == []
    assert derives_chain(fixed, "aid_xinjiang") is False
    assert derives_chain(campaign(), "directed") is True


def test_each_body_a_campaign_names_is_registered_with_its_roles_kind_11() -> None:
    """§11: the committee is a committee, the top and confirming bodies and a route's fixed chain
    are authorities, a finance office is a finance office (or the committee's own office)."""
    c = campaign(
        committee_org="U-001",
        top_authority="nowhere",
        finance_orgs=[f.COMMITTEE_ORG, "county-hr"],
        confirming_org=f.FINANCE_ORG,
        routes={"directed": {}, "private_enterprise": {"authority_chain": ["U-999"]}},
    )
    found = {".".join(p.loc): p.msg for p in campaign_registry_problems(c, REGISTRY)}
    assert set(found) == {
        "committee_org",
        "top_authority",
        "finance_orgs.0",
        "finance_orgs.1",
        "confirming_org",
        "routes.private_enterprise.authority_chain.0",
    }
    assert "not registered" in found["top_authority"]
    assert "is a unit" in found["committee_org"]
    own = campaign(finance_orgs=[f.COMMITTEE_ORG])  # the committee's own office records fees
    assert campaign_registry_problems(own, REGISTRY) == []


def test_the_fields_the_registry_replaced_are_ignored_with_a_warning_11() -> None:
    """authority_levels and committee_members are accepted for one version and ignored."""
    old = f.campaign(NOW)
    assert len(deprecated_fields(old)) == 2
    assert deprecated_fields(campaign()) == []


def test_a_registry_change_a_child_or_a_campaign_depends_on_is_refused_11() -> None:
    """§11: an authority with a unit below it stays an authority; a body a campaign names keeps
    the kind its role needs."""
    c = campaign()
    county = Organisation(id="county-hr", kind="unit", name="改为单位")
    after = {**REGISTRY, county.id: county}
    children = kind_change_problems([county], after, [])
    assert {(p.org_id, p.field) for p in children} == {("county-hr", "kind")}
    assert sorted(p.message.split(" ")[2] for p in children) == ["U-001", f.URUMQI_UNIT]
    committee = Organisation(id=f.COMMITTEE_ORG, kind="finance_office", name="改为财务")
    (named,) = kind_change_problems([committee], {**REGISTRY, committee.id: committee}, [c])
    assert c.id in named.message and "committee_org" in named.message
    renamed = REGISTRY[f.COMMITTEE_ORG].model_copy(update={"name": "新名称", "members": 31})
    assert kind_change_problems([renamed], {**REGISTRY, renamed.id: renamed}, [c]) == []


# --------------------------------------------------------------------------- declarations


def decl(**overrides: Any) -> DeclarationInput:
    return f.declaration(campaign(), **overrides)


def filing(c: Campaign, d: DeclarationInput, *, sent: bool = False) -> Filing | list[Problem]:
    return file_declaration(c, d, REGISTRY, chain_sent=sent)


def test_the_chain_is_derived_from_the_units_authorities_up_to_the_top_2_4() -> None:
    """§2.4 (000 逐级提交; 002, 003 五(三)): derived, never chosen; the region is the unit's (§5)."""
    c = campaign()
    filed = filing(c, decl())
    assert isinstance(filed, Filing) and filed.authority_chain == f.CHAIN
    assert filed.region is not None and filed.region.name == "阿克苏地区"
    other = filing(c, decl(unit_id="U-999"))
    assert isinstance(other, Filing) and other.authority_chain == ["other-hr", f.TOP_AUTHORITY]


def test_a_request_naming_another_chain_is_refused_and_the_derived_one_accepted_2_4() -> None:
    """§2.4: ``[]`` (skipping the levels) or any other chain is refused; the derived one, sent, is
    accepted; left out, the derived one is used."""
    c = campaign()
    for chain in ([], ["friendly-bureau"], ["prefecture-transport"], list(reversed(f.CHAIN))):
        refused = filing(c, decl(authority_chain=chain), sent=True)
        assert isinstance(refused, list) and problems_at(refused) == {"authority_chain"}, chain
    assert isinstance(filing(c, decl(authority_chain=f.CHAIN), sent=True), Filing)


def test_a_route_with_a_fixed_chain_and_the_aid_route_001_002() -> None:
    """§12: 001 三(二) the private-enterprise route goes through the public employment service;
    援疆 (002 五(五)) files through the registered sending unit, with no authority level."""
    c = campaign(
        routes={
            "directed": {},
            "aid_xinjiang": {},
            "private_enterprise": {"authority_chain": [f.EMPLOYMENT_SERVICE]},
        }
    )
    private = filing(c, decl(route="private_enterprise"))
    assert isinstance(private, Filing) and private.authority_chain == [f.EMPLOYMENT_SERVICE]
    aid = filing(c, decl(route="aid_xinjiang", unit_id="aid-sender"))
    assert isinstance(aid, Filing) and aid.authority_chain == [] and aid.region is None
    wrong = filing(c, decl(route="aid_xinjiang"))  # U-001 is a unit, not a sending unit
    assert isinstance(wrong, list) and "sending_unit" in wrong[0].msg
    also_wrong = filing(c, decl(unit_id="aid-sender"))  # a sending unit on the directed route
    assert isinstance(also_wrong, list) and problems_at(also_wrong) == {"unit_id"}


def test_the_unit_must_be_registered_and_a_unit_and_reach_the_top_2_1_2_4() -> None:
    c = campaign()
    for unit_id, why in (("U-404", "not a registered"), ("county-hr", "is a authority")):
        refused = filing(c, decl(unit_id=unit_id))
        assert isinstance(refused, list) and why in refused[0].msg, unit_id
    outside = campaign(top_authority="other-hr")  # U-001 is not below it
    refused = filing(outside, decl())
    assert isinstance(refused, list) and "do not reach" in refused[0].msg


def test_a_campaign_stored_before_the_registry_keeps_its_authority_levels() -> None:
    """A campaign made before the registry has no top authority: its declarations get the
    levels it named, as they did when it was made."""
    legacy = f.campaign(NOW, top_authority=None)
    filed = filing(legacy, f.declaration(legacy))
    assert isinstance(filed, Filing) and filed.authority_chain == list(legacy.authority_levels)


def test_series_specialty_route_and_id_number_are_checked_with_the_unit_1_2_1() -> None:
    """§1: one series and specialty the campaign reviews at that level; §12 a route it opens;
    §2.1 a valid ID number. Each problem names its field."""
    c = campaign()
    bad = decl(series="economics", applicant=f.applicant(id_number="652901198001011235"))
    found = filing(c, bad)
    assert isinstance(found, list) and problems_at(found) == {"series", "applicant.id_number"}
    spec = filing(c, decl(specialty="textile", route="entrusted"))
    assert isinstance(spec, list) and problems_at(spec) == {"specialty", "route"}
    assert problems_at(filing(c, decl(series=None, specialty=None))) == {"series"}  # type: ignore[arg-type]
    mixed = campaign(
        series_specialties={
            "engineering": {"specialties": ["highway"], "levels": ["junior", "intermediate"]},
            "economics": {"specialties": ["transport_economics"], "levels": ["deputy_senior"]},
        }
    )
    assert problems_at(filing(mixed, decl())) == {"level"}  # type: ignore[arg-type]
    ok = decl(series="economics", specialty="transport_economics")
    assert isinstance(filing(mixed, ok), Filing)


@pytest.mark.parametrize("unit_id", ["U-001", f.URUMQI_UNIT])
def test_the_region_comes_from_the_registry_whatever_the_applicant_typed_5(unit_id: str) -> None:
    """§5 (000 附件2 三(五)): the venue reads the unit's registered region, never a typed one."""
    filed = filing(
        campaign(), decl(unit_id=unit_id, applicant=f.applicant(affiliation="乌鲁木齐市"))
    )
    assert isinstance(filed, Filing) and filed.region == REGISTRY[unit_id].region
