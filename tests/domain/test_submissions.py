"""§2.5 submissions to the committee: at most 3 (first included), the last return ends it."""

from __future__ import annotations

import pytest

from domain.submissions import (
    committee_submission_refusal,
    counts_toward_cap,
    return_ends_declaration,
)


@pytest.mark.parametrize("count", [0, 1, 2])
def test_submission_cap_001_allows_the_first_three(count):
    """§2.5, 001 提交评审委员会审核次数不超过3次; 002 不得超过3次(含初次上报)."""
    assert committee_submission_refusal(count, 3) is None


@pytest.mark.parametrize("count", [3, 4])
def test_submission_cap_001_refuses_a_fourth_naming_the_cap(count):
    """§2.5, 001 提交评审委员会审核次数不超过3次: the 4th is refused, message names 3."""
    refusal = committee_submission_refusal(count, 3)
    assert refusal is not None
    assert "3 次" in refusal and "cap of 3" in refusal


def test_submission_cap_is_campaign_data():
    """§2.5 max_committee_submissions (default 3) is configuration: a cap of 2 refuses the 3rd."""
    assert committee_submission_refusal(1, 2) is None
    assert committee_submission_refusal(2, 2) is not None


def test_return_on_the_third_submission_ends_the_declaration():
    """§2.5, 001 第3次提交后申报材料仍不符合要求的…不予受理 → not_accepted."""
    assert return_ends_declaration(3, 3) is True


@pytest.mark.parametrize("submissions", [1, 2])
def test_return_before_the_last_submission_does_not_end_it(submissions):
    """§2.5, 001: returns on the 1st and 2nd submissions go back for correction."""
    assert return_ends_declaration(submissions, 3) is False


@pytest.mark.parametrize(
    ("scope", "event", "counts"),
    [
        ("committee", "committee_arrival", True),  # 001, 002, 003
        ("committee", "applicant_submit", False),
        ("applicant", "applicant_submit", True),  # 004
        ("applicant", "committee_arrival", False),
    ],
)
def test_counts_toward_cap_by_scope(scope, event, counts):
    """§2.5 submission_cap_scope: committee arrivals (001/002/003) or applicant submissions
    (004)."""
    assert counts_toward_cap(scope, event) is counts
