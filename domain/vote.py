"""The committee review meeting vote (docs/rules.md §2.8, §10.3; 40号令).

Valid only when 3 × present ≥ 2 × members (出席专家不少于评审委员会人数的2/3), where ``attending``
is the members present at the meeting; a recusal (回避) does not break the quorum, it lowers the
number voting on that declaration: voting = present − recused. Passes when 3 × in_favor ≥
2 × voting (同意票数达到出席专家总数2/3以上). The tally must account for every member voting (no
proxy votes).

``recused_present=False`` is the earlier reading, in which recused members counted as absent
(the tally then covered every attending member); declarations that voted under it replay on it.
"""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["VoteOutcome", "assess_vote"]


class VoteOutcome(BaseModel):
    valid: bool
    quorum_met: bool
    passed: bool
    refusal: str | None = None


def _tally_refusal(
    members: int,
    attending: int,
    in_favor: int,
    against: int,
    abstain: int,
    recused: list[str],
    recused_present: bool,
) -> str | None:
    if members < 1:
        return f"评审委员会人数须为正数 / committee members must be positive, got {members}"
    if min(attending, in_favor, against, abstain) < 0:
        return "票数不得为负 / vote counts must not be negative"
    if len(set(recused)) != len(recused):
        return "回避专家重复列出 / a recused member is listed twice"
    voting = attending - len(recused) if recused_present else attending
    if in_favor + against + abstain != voting:
        who = f"出席 {attending} 人减回避 {len(recused)} 人" if recused_present else "出席专家"
        return (
            f"同意 {in_favor} + 反对 {against} + 弃权 {abstain} = "
            f"{in_favor + against + abstain} 票，与参加表决的{who} {voting} 人不符（不得委托投票） / "
            f"in favour + against + abstain must equal the {voting} members voting "
            "(no proxy votes)"
        )
    if recused_present and attending > members:
        return (
            f"出席 {attending} 人超过评审委员会人数 {members} 人 / {attending} present exceed the "
            f"{members} members"
        )
    if recused_present and len(recused) > attending:
        return (
            f"回避 {len(recused)} 人多于出席 {attending} 人 / {len(recused)} recused is more "
            f"than the {attending} present"
        )
    if not recused_present and len(recused) + attending > members:
        return (
            f"出席 {attending} 人加回避 {len(recused)} 人超过评审委员会人数 {members} 人 / "
            f"{attending} attending plus {len(recused)} recused exceed the {members} members"
        )
    return None


def assess_vote(
    members: int,
    attending: int,
    in_favor: int,
    against: int,
    abstain: int,
    recused: list[str],
    *,
    recused_present: bool = True,
) -> VoteOutcome:
    """§2.8 (40号令): check the tally and the quorum, then the 2/3 majority of those voting."""
    quorum_met = 3 * attending >= 2 * members
    refusal = _tally_refusal(
        members, attending, in_favor, against, abstain, recused, recused_present
    )
    if refusal is None and not quorum_met:
        refusal = (
            "出席专家不足评审委员会人数的2/3"
            f"（出席 {attending} 人，委员 {members} 人），表决无效 / "
            f"{attending} attending is fewer than 2/3 of the {members} committee members: "
            "the vote is invalid"
        )
    if refusal is not None:
        return VoteOutcome(valid=False, quorum_met=quorum_met, passed=False, refusal=refusal)
    voting = attending - len(recused) if recused_present else attending
    return VoteOutcome(valid=True, quorum_met=True, passed=3 * in_favor >= 2 * voting)
