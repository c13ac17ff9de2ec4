"""The routes a campaign may open (docs/rules.md §12) and how each one's path differs from the
directed route's. Which routes a campaign opens, their fees and fixed chains are campaign data
(``Campaign.routes``); the shape of each path is what the notices define the route as.

- ``directed`` (定向评价): unit review and publicity, the authority chain, the committee.
- ``private_enterprise`` (民营企业专项, 001 二(二)): the same path through the route's fixed chain
  (the public employment service).
- ``aid_xinjiang`` (援疆, 002 五(五), 003 五(四), 004 三(三): 经派出单位（原所在单位）审核同意，即可申报):
  the sending unit's approval is the recommendation: no unit publicity, no authority levels.
- ``entrusted`` (委托评审, 002 五(四): 开具委托评审函，经自治区专业技术人员职称办公室审核同意后，即可申报):
  the entrustment letter is approved first (``entrustment_review``), then the unit's review.
- ``direct_recognition`` (直接认定, 004 附件2 三(二)): as directed, but no defense and no vote.
- ``initial_determination`` (初次确定 / 授予, 003 一 and 八): unit review, the committee's formal
  review, the fee, result publicity: no unit publicity, no authority levels, no defense, no vote.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from domain.models import Appraisal, Route, ServiceYear

__all__ = [
    "DIRECT_RECOGNITION_YEARS",
    "PATHS",
    "ROUTE_LABELS",
    "RoutePath",
    "excellent_service_run",
    "service_years_problem",
]


@dataclass(frozen=True)
class RoutePath:
    unit_publicity: bool = True
    authority_levels: bool = True
    entrustment_review: bool = False
    defense_and_vote: bool = True


PATHS: dict[Route, RoutePath] = {
    "directed": RoutePath(),
    "private_enterprise": RoutePath(),
    "aid_xinjiang": RoutePath(unit_publicity=False, authority_levels=False),
    "entrusted": RoutePath(entrustment_review=True),
    "direct_recognition": RoutePath(defense_and_vote=False),
    "initial_determination": RoutePath(
        unit_publicity=False, authority_levels=False, defense_and_vote=False
    ),
}

#: Each route as its notice names it.
ROUTE_LABELS: dict[str, str] = {
    "directed": "定向评价",
    "private_enterprise": "民营企业专项",
    "aid_xinjiang": "援疆",
    "entrusted": "委托评审",
    "direct_recognition": "直接认定",
    "initial_determination": "初次确定（授予）",
}

#: 直接认定 (004 附件2 三(二)): 连续参加上述基层服务工作三年.
DIRECT_RECOGNITION_YEARS = 3


def service_years_problem(years: list[ServiceYear]) -> str | None:
    """Why a 直接认定 claim cannot be filed: fewer than three consecutive years of service."""
    distinct = sorted({y.year for y in years})
    run = best = 1 if distinct else 0
    for previous, year in pairwise(distinct):
        run = run + 1 if year == previous + 1 else 1
        best = max(best, run)
    if best >= DIRECT_RECOGNITION_YEARS:
        return None
    return (
        f"直接认定须连续参加基层服务工作三年（所报连续 {best} 年） / direct recognition needs "
        f"three consecutive years of grassroots service, {best} given (004 附件2 三(二))"
    )


def excellent_service_run(years: list[ServiceYear], appraisals: list[Appraisal]) -> int:
    """The longest run of consecutive claimed service years each appraised 优秀: 直接认定 asks for
    three (004 附件2 三(二): 连续参加上述基层服务工作三年且连续三年考核优秀)."""
    excellent = {a.year for a in appraisals if a.result == "优秀"}
    run = best = 0
    previous: int | None = None
    for year in sorted({y.year for y in years}):
        if year not in excellent:
            run = 0
        elif previous is not None and year == previous + 1:
            run += 1
        else:
            run = 1
        best = max(best, run)
        previous = year
    return best
