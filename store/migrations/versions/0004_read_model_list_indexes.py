"""Indexes for the declaration lists at campaign scale (bench/scale.py): newest activity first.

``GET /declarations`` orders by ``updated_at DESC, declaration_id``. Without an index on
``updated_at`` every page read and sorted the whole read model (view JSON included); with 20,000
open declarations that was most of the request. ``ix_declaration_read_updated_at`` serves the
unscoped lists (auditor, admin, committee); ``ix_declaration_read_unit_recent`` a unit
reviewer's list (``unit_id = ?`` in that order).

Revision ID: 0004_read_model_list_indexes
Revises: 0003_committee_meetings
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_read_model_list_indexes"
down_revision: str | None = "0003_committee_meetings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_declaration_read_updated_at", "declaration_read", ["updated_at"])
    op.create_index(
        "ix_declaration_read_unit_recent", "declaration_read", ["unit_id", "updated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_declaration_read_unit_recent", table_name="declaration_read")
    op.drop_index("ix_declaration_read_updated_at", table_name="declaration_read")
