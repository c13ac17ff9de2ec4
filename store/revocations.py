"""Tokens revoked before they expire (console sign-out).

A row names a token (its ``jti``, or the SHA-256 of the token) and when it would have expired;
until then every API process refuses it (``api.auth.Revocations`` reads this table). Rows whose
token has expired anyway are pruned as new ones arrive, so the table holds at most the
sign-outs of one token lifetime (12 h by default).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

from store.tables import UTCDateTime

__all__ = ["RevokedToken", "revoke", "revoked_ids"]


class RevokedToken(SQLModel, table=True):
    __tablename__ = "revoked_token"

    token_id: str = Field(primary_key=True, max_length=100)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    revoked_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


_TABLE = RevokedToken.__table__  # type: ignore[attr-defined]


def revoke(session: Session, token_id: str, *, expires_at: datetime, at: datetime) -> None:
    """Refuse ``token_id`` until ``expires_at`` (again: nothing more), and forget tokens that
    have expired by ``at``."""
    connection = session.connection()
    connection.execute(sa.delete(_TABLE).where(_TABLE.c.expires_at < at))
    if session.get(RevokedToken, token_id) is None:
        session.add(RevokedToken(token_id=token_id, expires_at=expires_at, revoked_at=at))


def revoked_ids(session: Session, now: datetime) -> set[str]:
    """The tokens refused now."""
    query = sa.select(_TABLE.c.token_id).where(_TABLE.c.expires_at >= now)
    return set(session.connection().execute(query).scalars())
