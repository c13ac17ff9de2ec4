"""The metadata of uploaded materials (docs/rules.md §19): one row per file ever uploaded.

A row is never deleted. A new upload of the same kind (and the same masked flag) for the same
declaration **replaces** the current one: the new row names its predecessor in ``replaces``, the
predecessor gets ``superseded_by``/``superseded_at``, and both stay. At most one row per
(declaration, kind, masked) is current (``superseded_by`` is NULL): a partial unique index holds
that even if two uploads race. The bytes are in the object store under ``sha256``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from store.tables import UTCDateTime

__all__ = ["Material"]


class Material(SQLModel, table=True):
    __tablename__ = "material"
    __table_args__ = (
        sa.Index(
            "uq_material_current",
            "declaration_id",
            "kind",
            "masked",
            unique=True,
            sqlite_where=sa.text("superseded_by IS NULL"),
            postgresql_where=sa.text("superseded_by IS NULL"),
        ),
        sa.UniqueConstraint("replaces", name="uq_material_replaces"),
    )

    id: str = Field(primary_key=True, max_length=20)
    declaration_id: str = Field(max_length=100, index=True)
    campaign_id: str = Field(max_length=100)
    kind: str = Field(max_length=50)
    masked: bool = False
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=50)
    size: int = Field(sa_type=sa.BigInteger)
    sha256: str = Field(max_length=64, index=True)
    #: Pages of a PDF (None for an image).
    pages: int | None = None
    uploaded_by: str = Field(max_length=100)
    uploader_role: str = Field(max_length=50)
    uploader_org: str = Field(default="", max_length=100)
    uploaded_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    #: The declaration's state when the file was uploaded.
    stage: str = Field(default="", max_length=50)
    replaces: str | None = Field(default=None, max_length=20)
    superseded_by: str | None = Field(default=None, max_length=20)
    superseded_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
