"""Who defends, where, and the reproducible remote sample (docs/rules.md §5, §2.7).

All of it is campaign data (``campaign.defense``): the levels that defend (000 副高; 001
高级; 002 正高 and 副高; 003 中级 and up), exemption categories (访惠聚/驻村管寺, 支教,
内地服务管理, 深度贫困村第一书记, 县级以下基层单位, 且末县/若羌县, private enterprise or
freelance), levels that defend whatever their categories (002: 正高级 全部参加答辩), on-site
affiliations (000: 乌鲁木齐市, 昌吉州) and, for the others, all remote (001) or a random sample
(000, 002: 其它地（州、市）随机抽取).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel

from domain.models import Applicant, Campaign, Level

__all__ = [
    "PRIVATE_ENTERPRISE_KINDS",
    "DefensePlan",
    "applicant_categories",
    "defense_required",
    "plan_defense",
    "remote_sample_drawn",
]

#: Employer kinds that count as the ``private_enterprise`` category (docs/rules.md §5, §15;
#: 003: 民营企业和自由职业).
PRIVATE_ENTERPRISE_KINDS: frozenset[str] = frozenset({"private_enterprise", "freelance"})


class DefensePlan(BaseModel):
    required: bool
    exemption: str | None = None
    reason: str
    venue: Literal["onsite", "remote"] | None = None
    #: Result of the remote sample draw; None when no draw was made.
    drawn: bool | None = None


def applicant_categories(applicant: Applicant) -> list[str]:
    """The applicant's categories, plus ``private_enterprise`` (and the employer kind itself) for
    private-enterprise and freelance staff."""
    categories = list(applicant.categories)
    if applicant.employer_kind in PRIVATE_ENTERPRISE_KINDS:
        categories += ["private_enterprise", applicant.employer_kind]
    return categories


def _required(
    campaign: Campaign, level: Level, applicant: Applicant
) -> tuple[bool, str | None, tuple[str, str]]:
    policy = campaign.defense
    if level not in policy.required_levels:
        return False, None, (f"{level} 级别免于答辩", f"level {level} does not defend")
    if level in policy.no_exemption_levels:
        return True, None, (f"{level} 级别全部参加答辩", f"every {level} applicant defends")
    held = set(applicant_categories(applicant))
    for category in policy.exempt_categories:
        if category in held:
            return False, category, (f"属 {category}，免于答辩", f"exempt as {category}")
    return True, None, (f"{level} 级别参加答辩", f"level {level} defends")


def defense_required(
    campaign: Campaign, level: Level, applicant: Applicant
) -> tuple[bool, str | None, str]:
    """§5: (required, exemption category or None, reason).

    Not required for a level outside ``required_levels``; always for ``no_exemption_levels``;
    otherwise exempt when one of the applicant's categories is an exempt category (first match in
    the campaign's order).
    """
    required, exemption, (zh, en) = _required(campaign, level, applicant)
    return required, exemption, f"{zh} / {en}"


def remote_sample_drawn(campaign_id: str, declaration_id: str, rate: float) -> bool:
    """§5 reproducible draw: sha256 of ``"{campaign_id}:{declaration_id}"``, its first 8 bytes
    as a big-endian integer over 2**64 (uniform in [0, 1)), drawn when below ``rate``."""
    digest = hashlib.sha256(f"{campaign_id}:{declaration_id}".encode()).digest()
    uniform = int.from_bytes(digest[:8], "big") / 2**64
    return uniform < rate


def plan_defense(
    campaign: Campaign, declaration_id: str, level: Level, applicant: Applicant
) -> DefensePlan:
    """§5: whether and where the applicant defends.

    Required and affiliated on site → ``onsite``; else ``remote_selection: all`` → ``remote``;
    ``sample`` → remote when drawn, otherwise no defense (``drawn=False``). Levels in
    ``no_exemption_levels`` are never sampled out: they defend remotely (002: 正高级 全部参加答辩,
    the sample is drawn among 副高级 only).
    """
    policy = campaign.defense
    required, exemption, (zh, en) = _required(campaign, level, applicant)

    def why(zh_more: str = "", en_more: str = "") -> str:
        return f"{zh}{zh_more} / {en}{en_more}"

    if not required:
        return DefensePlan(required=False, exemption=exemption, reason=why())
    if applicant.affiliation and applicant.affiliation in policy.onsite_affiliations:
        on_site = why(
            f"；{applicant.affiliation}单位参加现场答辩", f"; on site ({applicant.affiliation})"
        )
        return DefensePlan(required=True, reason=on_site, venue="onsite")
    if policy.remote_selection == "all" or level in policy.no_exemption_levels:
        remote = why("；视频或电话答辩", "; remote, by video or phone")
        return DefensePlan(required=True, reason=remote, venue="remote")
    rate = policy.remote_sample_rate or 0.0
    if remote_sample_drawn(campaign.id, declaration_id, rate):
        drawn = why("；随机抽取，视频或电话答辩", f"; drawn in the remote sample (rate {rate})")
        return DefensePlan(required=True, reason=drawn, venue="remote", drawn=True)
    skipped = why("；未被随机抽取，免于答辩", f"; not drawn in the remote sample (rate {rate})")
    return DefensePlan(required=False, reason=skipped, drawn=False)
