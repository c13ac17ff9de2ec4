"""Uploaded materials (``store.materials.tables.Material``, docs/rules.md §19): the metadata of
every file uploaded for a declaration, its predecessor and its successor. The bytes live in the
object store under their SHA-256.

Revision ID: 0007_materials
Revises: 0006_audit_heads
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_materials"
down_revision: str | None = "0006_audit_heads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CURRENT = sa.text("superseded_by IS NULL")


def upgrade() -> None:
    op.create_table(
        "material",
        sa.Column("id", sa.String(20), nullable=False),
        sa.Column("declaration_id", sa.String(100), nullable=False),
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("masked", sa.Boolean(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(50), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploader_role", sa.String(50), nullable=False),
        sa.Column("uploader_org", sa.String(100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("replaces", sa.String(20), nullable=True),
        sa.Column("superseded_by", sa.String(20), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_material"),
        sa.UniqueConstraint("replaces", name="uq_material_replaces"),
    )
    op.create_index("ix_material_declaration_id", "material", ["declaration_id"])
    op.create_index("ix_material_sha256", "material", ["sha256"])
    op.create_index(
        "uq_material_current",
        "material",
        ["declaration_id", "kind", "masked"],
        unique=True,
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )


def downgrade() -> None:
    op.drop_index("uq_material_current", table_name="material")
    op.drop_index("ix_material_sha256", table_name="material")
    op.drop_index("ix_material_declaration_id", table_name="material")
    op.drop_table("material")
