"""Committee review meetings recorded in bulk (``store.meetings``): the meeting's attendance and
one tally per declaration (counts only; the ballot stays secret).

Revision ID: 0003_committee_meetings
Revises: 0002_campaigns
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_committee_meetings"
down_revision: str | None = "0002_campaigns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "committee_meeting",
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("members_present", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", name="pk_committee_meeting"),
    )
    op.create_index("ix_committee_meeting_campaign_id", "committee_meeting", ["campaign_id"])
    op.create_table(
        "committee_meeting_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("declaration_id", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("attending", sa.Integer(), nullable=False),
        sa.Column("in_favor", sa.Integer(), nullable=False),
        sa.Column("against", sa.Integer(), nullable=False),
        sa.Column("abstain", sa.Integer(), nullable=False),
        sa.Column("recused", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("quorum_met", sa.Boolean(), nullable=True),
        sa.Column("state", sa.String(50), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_committee_meeting_vote"),
        sa.UniqueConstraint(
            "meeting_id", "declaration_id", name="uq_committee_meeting_vote_declaration"
        ),
    )
    op.create_index(
        "ix_committee_meeting_vote_meeting_id", "committee_meeting_vote", ["meeting_id"]
    )
    op.create_index(
        "ix_committee_meeting_vote_declaration_id", "committee_meeting_vote", ["declaration_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_committee_meeting_vote_declaration_id", table_name="committee_meeting_vote")
    op.drop_index("ix_committee_meeting_vote_meeting_id", table_name="committee_meeting_vote")
    op.drop_table("committee_meeting_vote")
    op.drop_index("ix_committee_meeting_campaign_id", table_name="committee_meeting")
    op.drop_table("committee_meeting")
