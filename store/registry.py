"""The declaration registry and the blacklist: what screening needs to know about a person
beyond one declaration (domain.md §2.1 and §2 end).

001: one route per applicant per campaign year, series and level; a second live declaration of
the same person in the same year, series and level (either route, any campaign of that year) is
refused. An ended declaration (any terminal state, ``certified`` included) blocks nothing. The
declaration registered first wins: a later duplicate never blocks the earlier one, even while it
lingers as a draft.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from domain.blacklist import BarEntry, applicant_barred, unit_barred
from domain.models import Campaign, DeclarationInput
from domain.states import TERMINAL
from store.db import advisory_xact_lock
from store.tables import BlacklistEntry, DeclarationRegistry, utc

__all__ = [
    "TERMINAL_STATES",
    "add_bar",
    "applicant_bar_at",
    "is_live",
    "live_rivals",
    "person_lock",
    "register",
    "set_state",
    "unit_bar_at",
]

TERMINAL_STATES: frozenset[str] = frozenset(s.value for s in TERMINAL)


def is_live(state: str) -> bool:
    """A declaration is live until it reaches a terminal state (``certified`` ends it too)."""
    return state not in TERMINAL_STATES


def person_lock(session: Session, campaign: Campaign, level: str, id_number: str) -> None:
    """Serialise registrations of one person for one title in one year (PostgreSQL)."""
    advisory_xact_lock(session, f"person:{campaign.year}:{campaign.series}:{level}:{id_number}")


def register(
    session: Session,
    *,
    declaration_id: str,
    campaign: Campaign,
    declaration: DeclarationInput,
    at: datetime,
    state: str = "draft",
) -> DeclarationRegistry:
    """Register a declaration once (a second call returns the first row unchanged)."""
    row = session.get(DeclarationRegistry, declaration_id)
    if row is not None:
        return row
    row = DeclarationRegistry(
        declaration_id=declaration_id,
        campaign_id=campaign.id,
        year=campaign.year,
        series=campaign.series,
        level=declaration.level,
        route=declaration.route,
        id_number=declaration.applicant.id_number,
        unit_id=declaration.unit_id,
        live=is_live(state),
        state=state,
        created_at=at,
    )
    session.add(row)
    session.flush()
    return row


_REGISTRY = DeclarationRegistry.__table__  # type: ignore[attr-defined]


def set_state(session: Session, declaration_id: str, state: str) -> None:
    """Keep ``live`` current with the declaration's state (no-op for an unregistered one, and
    for one already current): one conditional ``UPDATE``."""
    live = is_live(state)
    session.execute(
        sa.update(_REGISTRY)
        .where(
            _REGISTRY.c.declaration_id == declaration_id,
            sa.or_(_REGISTRY.c.state != state, _REGISTRY.c.live != live),
        )
        .values(state=state, live=live)
    )


def live_rivals(session: Session, me: DeclarationRegistry) -> list[DeclarationRegistry]:
    """Other live declarations of the same person, year, series and level registered before
    ``me`` (oldest first)."""
    query = (
        select(DeclarationRegistry)
        .where(
            DeclarationRegistry.year == me.year,
            DeclarationRegistry.series == me.series,
            DeclarationRegistry.level == me.level,
            DeclarationRegistry.id_number == me.id_number,
            col(DeclarationRegistry.live).is_(True),
            DeclarationRegistry.declaration_id != me.declaration_id,
            or_(
                col(DeclarationRegistry.created_at) < me.created_at,
                (col(DeclarationRegistry.created_at) == me.created_at)
                & (col(DeclarationRegistry.declaration_id) < me.declaration_id),
            ),
        )
        .order_by(col(DeclarationRegistry.created_at), col(DeclarationRegistry.declaration_id))
    )
    return list(session.exec(query))


# --------------------------------------------------------------------------- blacklist


def add_bar(session: Session, entry: BarEntry, campaign_id: str) -> bool:
    """Record a bar once per (subject, finding declaration); True when newly written."""
    existing = session.exec(
        select(BlacklistEntry.id).where(
            BlacklistEntry.subject_kind == entry.subject_kind,
            BlacklistEntry.subject_id == entry.subject_id,
            BlacklistEntry.declaration_id == entry.declaration_id,
        )
    ).first()
    if existing is not None:
        return False
    session.add(
        BlacklistEntry(
            subject_kind=entry.subject_kind,
            subject_id=entry.subject_id,
            series=entry.series,
            level=entry.level,
            from_at=entry.from_at,
            until=entry.until,
            reason=entry.reason,
            declaration_id=entry.declaration_id,
            campaign_id=campaign_id,
        )
    )
    session.flush()
    return True


def _entries(session: Session, kind: str, subject_id: str, at: datetime) -> list[BarEntry]:
    at = utc(at)
    rows = session.exec(
        select(BlacklistEntry).where(
            BlacklistEntry.subject_kind == kind,
            BlacklistEntry.subject_id == subject_id,
            col(BlacklistEntry.from_at) <= at,
            col(BlacklistEntry.until) > at,
        )
    )
    return [
        BarEntry(
            subject_kind=row.subject_kind,
            subject_id=row.subject_id,
            series=row.series,
            level=row.level,
            from_at=row.from_at,
            until=row.until,
            reason=row.reason,
            declaration_id=row.declaration_id,
        )
        for row in rows
    ]


def applicant_bar_at(
    session: Session, id_number: str, series: str, level: str, at: datetime
) -> BarEntry | None:
    """The bar keeping this person from this title at ``at`` (domain.blacklist decides)."""
    entries = _entries(session, "applicant", id_number, at)
    return applicant_barred(entries, id_number, series, level, at)


def unit_bar_at(session: Session, unit_id: str, at: datetime) -> BarEntry | None:
    """The bar keeping this unit from recommending at ``at``."""
    return unit_barred(_entries(session, "unit", unit_id, at), unit_id, at)
