"""Consistency checks of a campaign's configuration, applied at the edge: where notices
differ, the difference is campaign configuration (docs/rules.md, "Sources").

:class:`domain.models.Campaign` itself refuses what can never work (windows out of order, a level
without a fee, a sample without a rate). The checks here refuse settings that would be silently
ignored, which is almost always a mistake in the notice's transcription:

- ``defense.onsite_affiliations`` or ``defense.remote_selection: sample`` while none of the levels
  the campaign reviews defends (§5: the venue and the draw only concern those who defend);
- ``defense.remote_sample_rate`` with ``remote_selection: all`` (the rate would never be used);
- a ``route_fees`` or ``routes.<route>.fees`` amount that is not positive (§4, as for ``fees``),
  or any fee above :data:`domain.fees.MAX_FEE` (100,000 CNY: no notice comes near it);
- an authority body named twice in ``authority_levels`` (逐级提交 passes each level once);
- a ``materials_deadline`` in a campaign that asks for no paper materials (§3: that timer only
  runs where paper is required).

They run where a campaign enters the service (``POST /campaigns``, campaign files, a deadline
change), never when a stored campaign or a workflow's history is decoded: tightening them must not
make an existing campaign unreadable or a running declaration unable to replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.fees import MAX_FEE
from domain.models import Campaign, Level

__all__ = ["NO_DEFENDING_LEVEL", "NO_PAPER", "Problem", "consistency_problems", "new_problems"]

#: The levels the campaign reviews against the levels that defend: no schema compares them.
NO_DEFENDING_LEVEL = "campaign.no_defending_level"
#: A materials deadline where no paper is asked for (the campaign's schema says so; a deadline
#: change names it against the stored campaign).
NO_PAPER = "campaign.materials_without_paper"


@dataclass(frozen=True)
class Problem:
    """One inconsistency: where (field path) and why, in words for whoever wrote the notice."""

    loc: tuple[str, ...]
    msg: str
    #: The rule (``campaign.<rule>``): what the API names the 422 by.
    code: str = "campaign.inconsistent"

    def __str__(self) -> str:
        return f"{'.'.join(self.loc)}: {self.msg}"


def consistency_problems(campaign: Campaign) -> list[Problem]:
    """Every inconsistency of ``campaign`` (see the module docstring); empty when none."""
    problems: list[Problem] = []
    policy = campaign.defense
    defending = [lvl for lvl in campaign.levels if lvl in policy.required_levels]
    if not defending:
        if policy.onsite_affiliations:
            problems.append(
                Problem(
                    ("defense", "onsite_affiliations"),
                    "现场答辩地区已设置，但本次评审的级别均不需答辩 / on-site affiliations are set "
                    "but none of the levels this campaign reviews defends (defense.required_levels)",
                    NO_DEFENDING_LEVEL,
                )
            )
        if policy.remote_selection == "sample":
            problems.append(
                Problem(
                    ("defense", "remote_selection"),
                    "设置了随机抽取答辩，但本次评审的级别均不需答辩 / a remote sample is set but none "
                    "of the levels this campaign reviews defends (defense.required_levels)",
                    NO_DEFENDING_LEVEL,
                )
            )
    if policy.remote_selection == "all" and policy.remote_sample_rate is not None:
        problems.append(
            Problem(
                ("defense", "remote_sample_rate"),
                "抽取比例仅用于随机抽取（remote_selection: sample） / remote_sample_rate is only "
                "used with remote_selection 'sample'; with 'all' everyone defends remotely",
            )
        )
    tables: list[tuple[tuple[str, ...], dict[Level, int | None]]] = [(("fees",), campaign.fees)]
    tables += [(("route_fees", route), dict(fees)) for route, fees in campaign.route_fees.items()]
    tables += [(("routes", route, "fees"), p.fees) for route, p in campaign.routes.items()]
    for loc, table in tables:
        for level, fee in table.items():
            if fee is not None and fee <= 0:
                problems.append(
                    Problem((*loc, level), "评审费须为正数 / fees must be positive amounts in CNY")
                )
            if fee is not None and fee > MAX_FEE:
                problems.append(
                    Problem(
                        (*loc, level),
                        f"评审费不能超过 {MAX_FEE} 元 / a fee may be at most {MAX_FEE} CNY",
                    )
                )
    seen: set[str] = set()
    for body in campaign.authority_levels:
        if body in seen:
            problems.append(
                Problem(
                    ("authority_levels",),
                    f"主管部门 {body} 重复列出 / authority {body} is listed twice",
                )
            )
        seen.add(body)
    if campaign.materials_deadline is not None and not campaign.paper_materials_required:
        problems.append(
            Problem(
                ("materials_deadline",),
                "本次评审不需报送纸质材料，不应设置材料报送截止时间 / a materials deadline is set "
                "but the campaign asks for no paper materials (paper_materials_required)",
                NO_PAPER,
            )
        )
    return problems


def new_problems(before: Campaign, after: Campaign) -> list[Problem]:
    """The inconsistencies ``after`` has that ``before`` had not: a change (e.g. 延期) is refused
    only for what it introduces, never for an older campaign's settings."""
    old = {(p.loc, p.msg) for p in consistency_problems(before)}
    return [p for p in consistency_problems(after) if (p.loc, p.msg) not in old]
