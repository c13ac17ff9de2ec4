"""Pure rules of the organisation registry (docs/rules.md §11, §2.4): a consistent registry,
and what follows from it for a declaration (its authority chain and its region)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from domain.models import Organisation, Region

__all__ = [
    "ChainProblem",
    "RegistryProblem",
    "campaign_scope_refusal",
    "derive_chain",
    "registry_problems",
]


@dataclass(frozen=True)
class RegistryProblem:
    """What is wrong with one organisation of a registry (``index``: its place in the input)."""

    org_id: str
    index: int
    field: str
    message: str


class ChainProblem(ValueError):
    """The unit's registered ancestors do not reach the campaign's top authority."""


def registry_problems(
    incoming: Iterable[Organisation], existing: Mapping[str, Organisation] | None = None
) -> list[RegistryProblem]:
    """Every problem of ``incoming`` laid over ``existing`` (an import, or one organisation put
    alone): an id given twice, a parent that is not registered or not an ``authority``, a parent
    chain that runs in a circle. Empty when the registry would be consistent."""
    rows = list(incoming)
    merged: dict[str, Organisation] = dict(existing or {})
    problems: list[RegistryProblem] = []
    seen: dict[str, int] = {}
    for index, org in enumerate(rows):
        if org.id in seen:
            message = (
                f"编号 {org.id} 重复（第 {seen[org.id] + 1} 项已有） / id {org.id} is given twice"
            )
            problems.append(RegistryProblem(org.id, index, "id", message))
            continue
        seen[org.id] = index
        merged[org.id] = org
    for index, org in enumerate(rows):
        wrong = _parent_problem(org, merged)
        if wrong:
            problems.append(RegistryProblem(org.id, index, "parent_id", wrong))
    return problems


def _parent_problem(org: Organisation, registry: Mapping[str, Organisation]) -> str | None:
    if org.parent_id is None:
        return None
    parent = registry.get(org.parent_id)
    if parent is None:
        return f"上级单位 {org.parent_id} 未登记 / parent {org.parent_id} is not registered"
    if parent.kind != "authority":
        return (
            f"上级单位 {org.parent_id} 不是主管部门（{parent.kind}） / parent {org.parent_id} is "
            f"a {parent.kind}, not an authority"
        )
    if _cycle(org.id, registry):
        return (
            f"上级关系形成循环（{org.id} → … → {org.id}） / the parents of {org.id} run in a circle"
        )
    return None


def _cycle(start: str, registry: Mapping[str, Organisation]) -> bool:
    seen = {start}
    current = registry.get(start)
    while current is not None and current.parent_id is not None:
        if current.parent_id in seen:
            return True
        seen.add(current.parent_id)
        current = registry.get(current.parent_id)
    return False


def ancestors(org: Organisation, registry: Mapping[str, Organisation]) -> list[Organisation]:
    """The authorities above ``org``, nearest first (stops at a missing parent or a circle)."""
    out: list[Organisation] = []
    seen = {org.id}
    current = org
    while current.parent_id is not None and current.parent_id not in seen:
        parent = registry.get(current.parent_id)
        if parent is None:
            break
        out.append(parent)
        seen.add(parent.id)
        current = parent
    return out


def derive_chain(
    unit: Organisation, registry: Mapping[str, Organisation], top_authority: str
) -> list[str]:
    """docs/rules.md §2.4 (000 逐级提交; 002, 003 五(三)): the unit's registered ancestors of kind
    ``authority``, nearest first, up to and including ``top_authority``."""
    chain: list[str] = []
    for parent in ancestors(unit, registry):
        if parent.kind != "authority":
            break
        chain.append(parent.id)
        if parent.id == top_authority:
            return chain
    above = " → ".join(chain) or "（无）"
    raise ChainProblem(
        f"单位 {unit.id} 的上级主管部门（{above}）不到评审工作的最高审核部门 {top_authority} / "
        f"the registered authorities above unit {unit.id} ({above}) do not reach the "
        f"campaign's top authority {top_authority}"
    )


def region_of(unit: Organisation) -> Region | None:
    """A declaration's region is its unit's registered region (docs/rules.md §5, §11)."""
    return unit.region


def campaign_scope_refusal(
    role: str, org: str, committee_org: str | None, fee_offices: Sequence[str]
) -> tuple[str, str] | None:
    """docs/rules.md §11: committee staff act only for the campaigns of their committee
    (``committee_org``), finance only for the campaigns naming their office (``fee_offices``:
    ``Campaign.fee_offices()``). A campaign made before the registry names neither, and any
    committee or finance office acts for it, as when it was made. ``(code, message)`` when
    ``role`` of ``org`` may not act for the campaign, else None (other roles: not this rule).

    The one statement of the rule: the API answers it with 403 before a command leaves (and
    scopes lists and campaign operations by it), the declaration's workflow refuses a command
    that reaches it anyway."""
    if role == "committee" and committee_org and org != committee_org:
        return (
            "not_this_committee",
            f"本次评审由评审委员会 {committee_org} 负责 / this campaign's committee is "
            f"{committee_org}",
        )
    if role == "finance" and fee_offices and org not in fee_offices:
        return (
            "not_this_finance_office",
            f"本次评审的费用由 {'、'.join(fee_offices)} 登记 / this campaign's fees are recorded "
            f"by {', '.join(fee_offices)}",
        )
    return None
