"""Delivering the outbox (``store.delivery``): one delivery per notification and channel, the
applicant's e-mail address as filed, and where each organisation's reviewers are reached.

Revision ID: 0009_notification_delivery
Revises: 0008_organisations
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_notification_delivery"
down_revision: str | None = "0008_organisations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_key", sa.String(300), nullable=False),
        sa.Column("declaration_id", sa.String(100), nullable=False),
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notification_delivery"),
        sa.UniqueConstraint("notification_key", "channel", name="uq_notification_delivery_key"),
    )
    op.create_index(
        "ix_notification_delivery_declaration_id", "notification_delivery", ["declaration_id"]
    )
    op.create_index(
        "ix_notification_delivery_due", "notification_delivery", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_notification_delivery_campaign", "notification_delivery", ["campaign_id", "status"]
    )
    op.create_table(
        "declaration_contact",
        sa.Column("declaration_id", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.PrimaryKeyConstraint("declaration_id", name="pk_declaration_contact"),
    )
    op.create_table(
        "org_contact",
        sa.Column("org_id", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name="pk_org_contact"),
    )


def downgrade() -> None:
    op.drop_table("org_contact")
    op.drop_table("declaration_contact")
    op.drop_index("ix_notification_delivery_campaign", table_name="notification_delivery")
    op.drop_index("ix_notification_delivery_due", table_name="notification_delivery")
    op.drop_index("ix_notification_delivery_declaration_id", table_name="notification_delivery")
    op.drop_table("notification_delivery")
