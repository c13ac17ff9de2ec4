"""What the organisation registry means for a campaign and a declaration at the edge
(docs/rules.md §11, §2.4, §5): pure functions of the campaign, the request and the registered
organisations, applied where a campaign or a declaration enters the service.

- A campaign names its bodies (``committee_org``, ``top_authority``, ``finance_orgs``,
  ``confirming_org``, each route's fixed chain); each must be registered and of the kind its role
  needs (:func:`named_orgs`, :func:`campaign_registry_problems`). The fields the registry replaced
  (``authority_levels``, ``committee_members``) are accepted and ignored for one version, with a
  warning (:func:`deprecated_fields`).
- A declaration's unit must be a registered ``unit`` (a ``sending_unit`` on the 援疆 route); its
  authority chain is derived, never chosen (000 逐级提交; 002, 003 五(三)), and its region is its
  unit's (:func:`file_declaration`).
- A registry change must not leave a campaign naming a body of the wrong kind
  (:func:`kind_change_problems`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.campaign_checks import Problem
from domain.identity import id_number_problem
from domain.models import Campaign, DeclarationInput, Organisation, OrgKind, Region, Route
from domain.organisations import ChainProblem, RegistryProblem, derive_chain
from domain.routes import service_years_problem

__all__ = [
    "DEPRECATED_FIELDS",
    "Filing",
    "NamedOrg",
    "campaign_registry_problems",
    "deprecated_fields",
    "derives_chain",
    "file_declaration",
    "kind_change_problems",
    "named_orgs",
    "unit_kind",
]

#: Kinds in words, for messages.
KIND_LABELS: dict[str, str] = {
    "unit": "用人单位 unit",
    "authority": "主管部门 authority",
    "committee": "评审委员会 committee",
    "finance_office": "财务 finance_office",
    "sending_unit": "援疆派出单位 sending_unit",
}

#: Campaign fields the registry replaced, and what replaced them (accepted and ignored).
DEPRECATED_FIELDS: dict[str, str] = {
    "authority_levels": (
        "authority_levels 已停用：审核链由申报单位在机构登记中的上级主管部门逐级推导至 top_authority "
        "/ authority_levels is ignored: each declaration's chain is derived from its unit's "
        "registered authorities up to top_authority (docs/rules.md §2.4)"
    ),
    "committee_members": (
        "committee_members 已停用：法定人数按 committee_org 登记的委员人数计算 / committee_members is "
        "ignored: the quorum counts the members registered for committee_org (docs/rules.md §11)"
    ),
}


@dataclass(frozen=True)
class NamedOrg:
    """One body a campaign names: where (field path), which id, and the kinds that role takes."""

    loc: tuple[str | int, ...]
    org_id: str
    kinds: frozenset[OrgKind]


def derives_chain(campaign: Campaign, route: Route) -> bool:
    """Whether ``route``'s declarations derive their authority chain from the registry: every
    route without a fixed chain, except 援疆, whose sending unit's approval is the recommendation
    (docs/rules.md §12)."""
    policy = campaign.routes.get(route)
    fixed = policy is not None and policy.authority_chain is not None
    return not fixed and route != "aid_xinjiang"


def named_orgs(campaign: Campaign) -> list[NamedOrg]:
    """Every body ``campaign`` names, with the kinds its role needs: the committee; the top
    authority, the confirming body and each body of a route's fixed chain (authorities); the
    finance offices (a ``finance_office``, or the committee's own office)."""
    named: list[NamedOrg] = []
    if campaign.committee_org:
        named.append(NamedOrg(("committee_org",), campaign.committee_org, frozenset({"committee"})))
    authority: frozenset[OrgKind] = frozenset({"authority"})
    if campaign.top_authority:
        named.append(NamedOrg(("top_authority",), campaign.top_authority, authority))
    for n, org_id in enumerate(campaign.finance_orgs):
        kinds: frozenset[OrgKind] = frozenset({"finance_office"})
        if org_id == campaign.committee_org:
            kinds = frozenset({"finance_office", "committee"})
        named.append(NamedOrg(("finance_orgs", n), org_id, kinds))
    if campaign.confirming_org:
        named.append(NamedOrg(("confirming_org",), campaign.confirming_org, authority))
    for route, policy in campaign.routes.items():
        for n, org_id in enumerate(policy.authority_chain or []):
            named.append(NamedOrg(("routes", route, "authority_chain", n), org_id, authority))
    return named


def _kinds(kinds: Iterable[str]) -> str:
    return " / ".join(KIND_LABELS.get(k, k) for k in sorted(kinds))


def campaign_registry_problems(
    campaign: Campaign, registry: Mapping[str, Organisation]
) -> list[Problem]:
    """docs/rules.md §11: what a new campaign lacks or names wrongly. ``committee_org`` is
    required; ``top_authority`` where a route derives its chain; ``confirming_org`` where results
    are confirmed (审核确认, 40号令); every body named must be registered with the kind its role
    needs. ``registry`` holds at least every organisation the campaign names."""
    problems: list[Problem] = []
    if not campaign.committee_org:
        problems.append(
            Problem(
                ("committee_org",),
                "须指定评审委员会 / committee_org is required: the registered "
                "committee that reviews this campaign",
            )
        )
    deriving = [r for r in campaign.routes if derives_chain(campaign, r)]
    if deriving and not campaign.top_authority:
        problems.append(
            Problem(
                ("top_authority",),
                f"须指定最高审核部门 / top_authority is required: route(s) "
                f"{', '.join(deriving)} derive their authority chain up to it",
            )
        )
    if campaign.result_confirmation_required and not campaign.confirming_org:
        problems.append(
            Problem(
                ("confirming_org",),
                "须指定结果审核确认部门 / confirming_org is required while "
                "result_confirmation_required (40号令 审核确认)",
            )
        )
    seen: set[tuple[str, str]] = set()
    for named in named_orgs(campaign):
        head = str(named.loc[0])
        if (head, named.org_id) in seen and head == "finance_orgs":
            problems.append(
                Problem(tuple(map(str, named.loc)), f"{named.org_id} 重复 / named twice")
            )
        seen.add((head, named.org_id))
        org = registry.get(named.org_id)
        if org is None:
            problems.append(
                Problem(
                    tuple(map(str, named.loc)),
                    f"机构 {named.org_id} 未登记 / organisation {named.org_id} is "
                    "not registered (PUT /organisations/{id})",
                )
            )
        elif org.kind not in named.kinds:
            problems.append(
                Problem(
                    tuple(map(str, named.loc)),
                    f"{named.org_id} 登记为 {KIND_LABELS[org.kind]}，此处须为 "
                    f"{_kinds(named.kinds)} / {named.org_id} is a {org.kind}, "
                    f"this field takes a {' or '.join(sorted(named.kinds))}",
                )
            )
    return problems


def deprecated_fields(campaign: Campaign) -> list[str]:
    """Warnings for the fields the registry replaced, where the campaign still sets them."""
    warnings = []
    if campaign.authority_levels:
        warnings.append(DEPRECATED_FIELDS["authority_levels"])
    if campaign.committee_members is not None:
        warnings.append(DEPRECATED_FIELDS["committee_members"])
    return warnings


def kind_change_problems(
    incoming: Iterable[Organisation],
    registry: Mapping[str, Organisation],
    campaigns: Iterable[Campaign],
) -> list[RegistryProblem]:
    """What a registry change would break beyond its own rows (``registry``: the organisations
    as they would stand after it): a registered organisation whose parent stops being an
    authority, and a campaign naming a body that stops being of the kind its role needs."""
    rows = list(incoming)
    by_id = {org.id: n for n, org in enumerate(rows)}
    problems: list[RegistryProblem] = []
    for child in registry.values():
        n = by_id.get(child.parent_id or "")
        if n is not None and rows[n].kind != "authority" and child.id not in by_id:
            org = rows[n]
            problems.append(
                RegistryProblem(
                    org.id,
                    n,
                    "kind",
                    f"{org.id} 是 {child.id} 的上级单位，须为主管部门 / "
                    f"{org.id} is the parent of {child.id}: it must stay "
                    "an authority",
                )
            )
    for campaign in campaigns:
        for named in named_orgs(campaign):
            n = by_id.get(named.org_id)
            if n is not None and rows[n].kind not in named.kinds:
                field = ".".join(map(str, named.loc))
                problems.append(
                    RegistryProblem(
                        named.org_id,
                        n,
                        "kind",
                        f"评审工作 {campaign.id} 的 {field} 为 "
                        f"{named.org_id}，须为 {_kinds(named.kinds)} / "
                        f"campaign {campaign.id} names it as {field}",
                    )
                )
    return problems


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Filing:
    """What the registry fixes for a declaration when it is created: its authority chain and
    its region (docs/rules.md §2.4, §5, §11)."""

    authority_chain: list[str]
    region: Region | None


def unit_kind(route: Route) -> OrgKind:
    """The kind of body a declaration's unit is: the 援疆 route's is the sending unit (派出单位,
    002 五(五), 003 五(四), 004 三(三))."""
    return "sending_unit" if route == "aid_xinjiang" else "unit"


def _chain(
    campaign: Campaign, route: Route, unit: Organisation, lineage: Mapping[str, Organisation]
) -> list[str]:
    """Raises :class:`ChainProblem` when the unit's authorities do not reach the top."""
    policy = campaign.routes.get(route)
    if policy is not None and policy.authority_chain is not None:
        return list(policy.authority_chain)  # 001 三(二): 同级公共就业服务机构
    if route == "aid_xinjiang":
        return []
    if campaign.top_authority:
        return derive_chain(unit, lineage, campaign.top_authority)
    return list(campaign.authority_levels)  # a campaign stored before the registry


def file_declaration(
    campaign: Campaign,
    decl: DeclarationInput,
    lineage: Mapping[str, Organisation],
    *,
    chain_sent: bool,
) -> Filing | list[Problem]:
    """The filing of ``decl`` in ``campaign``: the derived chain and the unit's region, or every
    problem with the request (each a 422 naming its field). ``lineage`` holds the unit and the
    organisations above it; ``chain_sent``: the request named an ``authority_chain``, which must
    then equal the derived one (docs/rules.md §2.4: derived, never chosen)."""
    problems: list[Problem] = []
    wrong_id = id_number_problem(decl.applicant.id_number)
    if wrong_id:
        problems.append(Problem(("applicant", "id_number"), wrong_id))
    problems.extend(_series_problems(campaign, decl))
    if decl.route not in campaign.routes:
        problems.append(
            Problem(
                ("route",),
                f"评审工作 {campaign.id} 未开放 {decl.route} 申报方式 / the campaign "
                f"opens route(s) {', '.join(campaign.routes)} only",
            )
        )
    if decl.route == "direct_recognition":
        short = service_years_problem(decl.service_years)
        if short:
            problems.append(Problem(("service_years",), short))
    unit = lineage.get(decl.unit_id)
    wanted = unit_kind(decl.route)
    if unit is None:
        problems.append(
            Problem(
                ("unit_id",),
                f"单位 {decl.unit_id} 未登记 / unit {decl.unit_id} is not a "
                "registered organisation",
            )
        )
    elif unit.kind != wanted:
        problems.append(
            Problem(
                ("unit_id",),
                f"{decl.unit_id} 登记为 {KIND_LABELS[unit.kind]}，{decl.route} 申报须由 "
                f"{KIND_LABELS[wanted]} 提交 / {decl.unit_id} is a {unit.kind}; "
                f"route {decl.route} files through a {wanted}",
            )
        )
    if problems or unit is None:
        return problems
    try:
        chain = _chain(campaign, decl.route, unit, lineage)
    except ChainProblem as exc:
        return [Problem(("unit_id",), str(exc))]
    if chain_sent and list(decl.authority_chain) != chain:
        return [
            Problem(
                ("authority_chain",),
                f"审核链由登记的上级主管部门推导，不能自选：应为 {' → '.join(chain) or '（无）'} / "
                f"the authority chain is derived from the registry, never chosen: "
                f"{chain} (leave authority_chain out)",
            )
        ]
    return Filing(authority_chain=chain, region=unit.region)


def _series_problems(campaign: Campaign, decl: DeclarationInput) -> list[Problem]:
    """docs/rules.md §1: one series and one specialty the campaign reviews at this level."""
    reviewed = campaign.reviewed_series()
    if not decl.series:
        return [
            Problem(("series",), f"须填写系列 / series is required: one of {', '.join(reviewed)}")
        ]
    spec = reviewed.get(decl.series)
    if spec is None:
        return [
            Problem(
                ("series",),
                f"评审工作 {campaign.id} 不评审 {decl.series} 系列 / the campaign reviews "
                f"{', '.join(reviewed)}",
            )
        ]
    problems = []
    if decl.level not in spec.levels:
        problems.append(
            Problem(
                ("level",),
                f"{decl.series} 系列不评审 {decl.level} / series {decl.series} is "
                f"reviewed at {', '.join(spec.levels)}",
            )
        )
    if not decl.specialty:
        problems.append(
            Problem(
                ("specialty",),
                f"须填写专业 / specialty is required: one of {', '.join(spec.specialties)}",
            )
        )
    elif decl.specialty not in spec.specialties:
        problems.append(
            Problem(
                ("specialty",),
                f"{decl.series} 系列不评审 {decl.specialty} 专业 / series "
                f"{decl.series} reviews {', '.join(spec.specialties)}",
            )
        )
    return problems
