"""Submissions to the committee and their cap (docs/rules.md §2.5).

At most ``max_committee_submissions`` (no cap by default; 3, the first included, in 001: 提交评审委员会审核次数
不超过3次; 002: 上报次数不得超过3次(含初次上报); 003). On the last allowed submission a committee
return ends the declaration as ``not_accepted`` (001: 第3次提交后申报材料仍不符合要求的…不予受理).
Where the campaign counts every applicant submission instead (``submission_cap_scope:
applicant``, 004), the same cap applies to those.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["committee_submission_refusal", "counts_toward_cap", "return_ends_declaration"]


def committee_submission_refusal(count_so_far: int, cap: int | None) -> str | None:
    """Refuse one more submission once ``count_so_far`` has reached ``cap`` (001, 002, 003);
    no cap (the default, docs/rules.md §2.5): never."""
    if cap is None or count_so_far < cap:
        return None
    return (
        f"提交审核次数已达上限 {cap} 次（含初次提交），不予受理 / "
        f"the submission cap of {cap} (first submission included) has been reached: "
        "not accepted"
    )


def return_ends_declaration(submissions: int, cap: int | None) -> bool:
    """A committee return on the last allowed submission ends the declaration (001); without a
    cap no return does."""
    return cap is not None and submissions >= cap


def counts_toward_cap(
    scope: Literal["committee", "applicant"],
    event: Literal["committee_arrival", "applicant_submit"],
) -> bool:
    """Whether ``event`` counts toward the cap: arrivals at the committee under the default scope
    (001, 002, 003), the applicant's submissions under ``applicant`` (004)."""
    if scope == "committee":
        return event == "committee_arrival"
    return event == "applicant_submit"
