"""§2.8 committee review meeting vote (40号令): quorum 2/3 of members, pass 2/3 of attending."""

from __future__ import annotations

from domain.vote import assess_vote


def test_quorum_17_of_25_members_is_met():
    """§2.8 40号令 出席专家不少于评审委员会人数的2/3: 3×17 = 51 ≥ 50."""
    got = assess_vote(25, 17, 17, 0, 0, [])
    assert got.valid and got.quorum_met and got.passed
    assert got.refusal is None


def test_quorum_16_of_25_members_is_not_met_and_refused():
    """§2.8 40号令: 3×16 = 48 < 50 → invalid, refused, never passes (even unanimous)."""
    got = assess_vote(25, 16, 16, 0, 0, [])
    assert not got.valid
    assert not got.quorum_met
    assert not got.passed
    assert got.refusal is not None
    assert got.refusal.startswith("出席专家不足评审委员会人数的2/3")
    assert "16" in got.refusal and "25" in got.refusal


def test_twelve_of_17_in_favour_passes():
    """§2.8 40号令 同意票数达到出席专家总数2/3以上: 3×12 = 36 ≥ 34."""
    got = assess_vote(25, 17, 12, 5, 0, [])
    assert got.valid and got.passed


def test_eleven_of_17_in_favour_fails():
    """§2.8 40号令: 3×11 = 33 < 34 → valid vote, not passed (not_approved)."""
    got = assess_vote(25, 17, 11, 4, 2, [])
    assert got.valid and got.quorum_met
    assert not got.passed
    assert got.refusal is None


def test_exactly_two_thirds_in_favour_passes():
    """§2.8 40号令 "达到…2/3": 12 of 18 is exactly 2/3 (36 ≥ 36) and passes."""
    assert assess_vote(25, 18, 12, 6, 0, []).passed


def test_tally_not_equal_to_attending_is_refused():
    """§2.8 in_favour + against + abstain must equal attending; no proxy votes."""
    got = assess_vote(25, 17, 12, 4, 0, [])
    assert not got.valid and not got.passed
    assert got.refusal is not None and "17" in got.refusal
    assert got.quorum_met  # the quorum itself was there


def test_more_votes_than_attending_is_refused():
    """§2.8 no proxy votes: 18 ballots from 17 attending is refused."""
    got = assess_vote(25, 17, 13, 5, 0, [])
    assert not got.valid
    assert got.refusal is not None and "no proxy" in got.refusal


def test_a_recusal_keeps_the_quorum_and_lowers_only_the_number_voting():
    """§2.8, §10.3 (回避; 40号令 出席专家不少于2/3): 17 present of 25 is a quorum; with 1 recused,
    16 vote: 11 + 5 = 16 is a valid tally, and 11 of 16 falls short of 2/3 (33 < 32 is false:
    3 × 11 = 33 ≥ 2 × 16 = 32 passes). A recusal at 17 of 25 no longer makes the vote invalid."""
    got = assess_vote(25, 17, 11, 5, 0, ["M01"])
    assert got.valid and got.quorum_met and got.passed
    assert not assess_vote(25, 17, 10, 6, 0, ["M01"]).passed  # 30 < 32


def test_the_tally_must_cover_those_voting_not_those_recused():
    """§2.8: in favour + against + abstain = present − recused; counting the recused is refused."""
    got = assess_vote(25, 17, 12, 5, 0, ["M01"])
    assert not got.valid
    assert got.refusal is not None and "16" in got.refusal


def test_more_recused_than_present_is_refused():
    """§10.3: a recused member is one of those present."""
    got = assess_vote(25, 17, 0, 0, 0, [f"M{i:02d}" for i in range(18)])
    assert not got.valid


def test_the_earlier_reading_counted_recused_members_as_absent():
    """§2.8: declarations that voted before v3 replay on the earlier reading (recused_present
    False): 17 attending + 8 recused fit 25; + 9 exceed it."""
    recused = [f"M{i:02d}" for i in range(8)]
    assert assess_vote(25, 17, 12, 5, 0, recused, recused_present=False).valid
    got = assess_vote(25, 17, 12, 5, 0, [*recused, "M99"], recused_present=False)
    assert not got.valid
    assert got.refusal is not None and "25" in got.refusal


def test_recused_member_listed_twice_is_refused():
    """§10.3 recusal record: each recused member once."""
    got = assess_vote(25, 17, 12, 5, 0, ["M01", "M01"])
    assert not got.valid
    assert got.refusal is not None and "recused" in got.refusal


def test_more_attending_than_members_is_refused():
    """§2.8: attendance cannot exceed the committee (26 of 25)."""
    got = assess_vote(25, 26, 26, 0, 0, [])
    assert not got.valid


def test_negative_counts_are_refused():
    """§2.8: a tally is made of non-negative counts."""
    assert not assess_vote(25, 17, 18, -1, 0, []).valid
