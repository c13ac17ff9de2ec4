"""Who defends, where, and the reproducible remote sample (docs/rules.md §5, §2.7).

All of it is campaign data (``campaign.defense``): the levels that defend (000 副高; 001
高级; 002 正高 and 副高; 003 中级 and up), exemption categories (访惠聚/驻村管寺, 支教,
内地服务管理, 深度贫困村第一书记, 县级以下基层单位, 且末县/若羌县, private enterprise or
freelance), levels that defend whatever their categories (002: 正高级 全部参加答辩), and the venue:

- ``open`` (the notice names none: 001, 002 for 正高, 003): the committee records the mode it used;
- ``by_region`` (000: 乌鲁木齐市、昌吉州单位参加现场答辩，其它地（州、市）…采用视频或电话答辩): units whose
  registered region is in ``onsite_regions`` defend on site, the others remotely, for the levels
  in ``venue_levels``;
- ``by_affiliation``: campaigns made before the registry, by the applicant's typed affiliation.

A random draw (``remote_selection: sample``) stays for a campaign that states a sampled 答辩范围.
Exemption categories are claims until the unit confirms them (``categories``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from domain.models import Applicant, Campaign, Level, Region

__all__ = [
    "PRIVATE_ENTERPRISE_KINDS",
    "DefensePlan",
    "applicant_categories",
    "average_onsite_score",
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


def applicant_categories(applicant: Applicant, confirmed: list[str] | None = None) -> list[str]:
    """The applicant's categories (those the unit confirmed, once it has: docs/rules.md §5), plus
    ``private_enterprise`` (and the employer kind itself) for private-enterprise and freelance
    staff: that one follows from the employer kind, which the unit checks anyway."""
    categories = list(applicant.categories if confirmed is None else confirmed)
    if applicant.employer_kind in PRIVATE_ENTERPRISE_KINDS:
        categories += ["private_enterprise", applicant.employer_kind]
    return categories


def _required(
    campaign: Campaign, level: Level, applicant: Applicant, confirmed: list[str] | None = None
) -> tuple[bool, str | None, tuple[str, str]]:
    policy = campaign.defense
    if level not in policy.required_levels:
        return False, None, (f"{level} 级别免于答辩", f"level {level} does not defend")
    if level in policy.no_exemption_levels:
        return True, None, (f"{level} 级别全部参加答辩", f"every {level} applicant defends")
    held = set(applicant_categories(applicant, confirmed))
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
    campaign: Campaign,
    declaration_id: str,
    level: Level,
    applicant: Applicant,
    *,
    region: Region | None = None,
    confirmed: list[str] | None = None,
) -> DefensePlan:
    """§5: whether and where the applicant defends.

    ``region`` is the unit's registered region (never typed by the applicant); ``confirmed`` the
    categories the unit confirmed (None: not confirmed yet, the claims count). A sample
    (``remote_selection: sample``) decides who of the remote defends: drawn → remote, not drawn →
    no defense; levels in ``no_exemption_levels`` are never sampled out (002: 正高级 全部参加答辩).
    """
    policy = campaign.defense
    required, exemption, (zh, en) = _required(campaign, level, applicant, confirmed)

    def why(zh_more: str = "", en_more: str = "") -> str:
        return f"{zh}{zh_more} / {en}{en_more}"

    if not required:
        return DefensePlan(required=False, exemption=exemption, reason=why())
    if policy.venue == "by_affiliation" and applicant.affiliation in policy.onsite_affiliations:
        place = applicant.affiliation
        return DefensePlan(
            required=True,
            reason=why(f"；{place}单位参加现场答辩", f"; on site ({place})"),
            venue="onsite",
        )
    governed = not policy.venue_levels or level in policy.venue_levels
    if policy.venue == "by_region" and governed and _in(region, policy.onsite_regions):
        assert region is not None
        return DefensePlan(
            required=True,
            reason=why(f"；{region.name}单位参加现场答辩", f"; on site ({region.name})"),
            venue="onsite",
        )
    remote = policy.venue == "by_affiliation" or (policy.venue == "by_region" and governed)
    sampled = policy.remote_selection == "sample" and level not in policy.no_exemption_levels
    if not sampled:
        if remote:
            return DefensePlan(
                required=True,
                reason=why("；视频或电话答辩", "; remote, by video or phone"),
                venue="remote",
            )
        return DefensePlan(
            required=True, reason=why("；答辩方式由评审委员会确定", "; the notice names no venue")
        )
    rate = policy.remote_sample_rate or 0.0
    if remote_sample_drawn(campaign.id, declaration_id, rate):
        drawn = why("；随机抽取参加答辩", f"; drawn in the sample (rate {rate})")
        return DefensePlan(
            required=True, reason=drawn, venue="remote" if remote else None, drawn=True
        )
    skipped = why("；未被随机抽取，免于答辩", f"; not drawn in the sample (rate {rate})")
    return DefensePlan(required=False, reason=skipped, drawn=False)


def _in(region: Region | None, places: list[str]) -> bool:
    """A registered region named in a list of region codes or names."""
    return region is not None and (region.code in places or region.name in places)


def average_onsite_score(
    scores: Sequence[tuple[str | None, str | None, float | None]], specialty: str | None
) -> float | None:
    """docs/rules.md §5 (003 六(一) 现场答辩环节实行量化赋分的，按照当年参加该专业现场答辩人员的平均分予以
    赋分): the mean of the year's on-site defense scores of the same specialty, from
    ``(specialty, mode, score)`` of the campaign's declarations; None before the first."""
    found = [score for spec, mode, score in scores
             if spec == specialty and mode == "onsite" and score is not None]  # fmt: skip
    return round(sum(found) / len(found), 2) if found else None
