"""Committee review meetings (评审会议, docs/rules.md §2.8, §10.3) recorded in bulk.

One row per meeting (its attendance) and one per declaration voted on (the tally: counts only,
the ballot stays secret, and the members recused for it). Each declaration's own workflow takes
its vote and keeps its vote record; this table is what the meeting decided, so that a repeated
request is answered from it and a vote cut short (the API stopped half-way) is finished on the
next one without sending a declaration its vote twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from store.tables import UTCDateTime

__all__ = [
    "CommitteeMeeting",
    "CommitteeMeetingVote",
    "add_meeting",
    "get_meeting",
    "record_outcome",
]


class CommitteeMeeting(SQLModel, table=True):
    __tablename__ = "committee_meeting"

    meeting_id: str = Field(primary_key=True, max_length=100)
    campaign_id: str = Field(max_length=100, index=True)
    held_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    #: Ids of the members present (attendance is not the ballot).
    members_present: list[str] = Field(sa_type=sa.JSON, nullable=False)
    #: Digest of the request (``domain.campaign_ops.meeting_fingerprint``).
    fingerprint: str = Field(max_length=64)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CommitteeMeetingVote(SQLModel, table=True):
    __tablename__ = "committee_meeting_vote"
    __table_args__ = (
        sa.UniqueConstraint(
            "meeting_id", "declaration_id", name="uq_committee_meeting_vote_declaration"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: str = Field(max_length=100, index=True)
    declaration_id: str = Field(max_length=100, index=True)
    position: int
    attending: int
    in_favor: int
    against: int
    abstain: int
    recused: list[str] = Field(sa_type=sa.JSON, nullable=False)
    #: ``passed``, ``not_passed`` or ``refused``; None until the declaration has answered.
    outcome: str | None = Field(default=None, max_length=20)
    reason: str = Field(default="", sa_type=sa.Text, nullable=False)
    quorum_met: bool | None = None
    state: str | None = Field(default=None, max_length=50)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


def get_meeting(
    session: Session, meeting_id: str
) -> tuple[CommitteeMeeting, list[CommitteeMeetingVote]] | None:
    meeting = session.get(CommitteeMeeting, meeting_id)
    if meeting is None:
        return None
    votes = session.exec(
        select(CommitteeMeetingVote)
        .where(CommitteeMeetingVote.meeting_id == meeting_id)
        .order_by(col(CommitteeMeetingVote.position))
    )
    return meeting, list(votes)


def add_meeting(
    session: Session, meeting: CommitteeMeeting, votes: list[CommitteeMeetingVote]
) -> bool:
    """Store a new meeting and its votes (no outcome yet); False when the id is taken."""
    if session.get(CommitteeMeeting, meeting.meeting_id) is not None:
        return False
    session.add(meeting)
    session.flush()
    for vote in votes:
        session.add(vote)
    session.flush()
    return True


def record_outcome(
    session: Session, meeting_id: str, declaration_id: str, *, at: datetime, **outcome: Any
) -> None:
    """Keep what the declaration answered (``outcome``, ``reason``, ``quorum_met``, ``state``)."""
    row = session.exec(
        select(CommitteeMeetingVote).where(
            CommitteeMeetingVote.meeting_id == meeting_id,
            CommitteeMeetingVote.declaration_id == declaration_id,
        )
    ).one()
    for name, value in outcome.items():
        setattr(row, name, value)
    row.decided_at = at
    session.add(row)
    session.flush()
