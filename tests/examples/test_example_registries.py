"""The example registries (examples/organisations/) against the campaign files that name them
(examples/campaigns/): the registry is the source of truth for every body a campaign names and
every chain a declaration takes (docs/rules.md §11, §2.4, §12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.campaign_checks import Problem
from domain.campaign_files import load_campaign_file
from domain.models import Campaign, Organisation, Route, ServiceYear
from domain.organisation_files import load_registry_file
from domain.registry_bindings import (
    Filing,
    campaign_registry_problems,
    file_declaration,
    unit_kind,
)
from testing import factories as f

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTICES = sorted(p.name for p in (EXAMPLES / "campaigns").glob("*.yaml"))


def registry_of(name: str) -> dict[str, Organisation]:
    parsed = load_registry_file(EXAMPLES / "organisations" / name)
    assert parsed.problems == [], name
    return {o.id: o for o in parsed.organisations}


def filing(
    c: Campaign, route: Route, unit: Organisation, registry: dict[str, Organisation]
) -> Filing | list[Problem]:
    """A declaration of ``unit`` on ``route``, at the first level and series the campaign reviews,
    as the service files it: its chain derived, its region the unit's."""
    series, spec = next(iter(c.reviewed_series().items()))
    served = [ServiceYear(year=c.year - n, place="基层") for n in (3, 2, 1)]
    decl = f.declaration(
        c,
        level=spec.levels[0],
        route=route,
        series=series,
        specialty=spec.specialties[0],
        unit_id=unit.id,
        service_years=served if route == "direct_recognition" else [],  # 004 附件2 三(二)
    )
    return file_declaration(c, decl, registry, chain_sent=False)


def test_each_campaign_file_has_its_notices_registry_of_the_same_name() -> None:
    """One registry per campaign file, under the same file name."""
    registries = sorted(p.name for p in (EXAMPLES / "organisations").glob("*.yaml"))
    assert registries == NOTICES and len(NOTICES) == 5


@pytest.mark.parametrize("name", NOTICES)
def test_every_body_a_campaign_names_is_registered_with_its_roles_kind_11(name: str) -> None:
    """docs/rules.md §11: the committee, the top authority, the finance offices, the confirming
    body and each route's fixed chain (001 三(二): the public employment service) are registered in
    the notice's own registry, each of the kind its role needs, so ``POST /campaigns`` takes the
    file once the registry is imported."""
    c = load_campaign_file(EXAMPLES / "campaigns" / name)
    assert campaign_registry_problems(c, registry_of(name)) == []


@pytest.mark.parametrize("name", NOTICES)
def test_every_route_has_a_unit_and_every_unit_files_on_a_route_2_4_12(name: str) -> None:
    """docs/rules.md §2.4, §12: for each route the campaign opens, a registered unit of that route's
    kind (the 援疆 route's is the sending unit, 002 五(五), 003 五(四), 004 三(三)) files a
    declaration, its chain derived up to ``top_authority`` (or the route's fixed chain) and its
    region the unit's; and every unit of the registry files on some route."""
    c = load_campaign_file(EXAMPLES / "campaigns" / name)
    registry = registry_of(name)
    filers = [o for o in registry.values() if o.kind in ("unit", "sending_unit")]
    filed: dict[str, list[Route]] = {}
    for route in c.routes:
        for unit in filers:
            if unit.kind != unit_kind(route):
                continue
            result = filing(c, route, unit, registry)
            if isinstance(result, Filing):
                assert result.region == unit.region, (unit.id, route)
                assert route == "aid_xinjiang" or result.authority_chain, (unit.id, route)
                filed.setdefault(unit.id, []).append(route)
        assert any(route in routes for routes in filed.values()), (name, route)
    assert sorted(filed) == sorted(u.id for u in filers), name


def test_the_aksu_chains_are_the_ones_its_registry_describes_001() -> None:
    """001 三(一) 逐级申报 and 三(二) 经同级公共就业服务机构审核、推荐: a unit of 阿克苏市 goes through its city
    bureau to the prefecture's transport bureau; a private enterprise through the public
    employment service alone."""
    name = "001_aksu_2024.yaml"
    c = load_campaign_file(EXAMPLES / "campaigns" / name)
    registry = registry_of(name)
    directed = filing(c, "directed", registry["aks-akesu-highway-station"], registry)
    private = filing(c, "private_enterprise", registry["aks-private-logistics"], registry)
    assert isinstance(directed, Filing) and isinstance(private, Filing)
    assert directed.authority_chain == ["aks-akesu-hr", "aks-transport-bureau"]
    assert private.authority_chain == ["aks-employment-service"]
