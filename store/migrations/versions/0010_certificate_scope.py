"""The certificate states the specialty applied for and, for a 定向评价 certificate (001), its
scope: the region it is valid in (docs/rules.md §2.10, §10.6).

Certificates issued before carry neither (NULL): they were issued without a scope and stay so.

Revision ID: 0010_certificate_scope
Revises: 0009_notification_delivery
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_certificate_scope"
down_revision: str | None = "0009_notification_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("specialty", sa.String(100), nullable=True))
        batch.add_column(sa.Column("scope_region", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.drop_column("scope_region")
        batch.drop_column("specialty")
