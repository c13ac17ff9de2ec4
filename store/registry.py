"""The declaration registry and the blacklist: what screening needs to know about a person
beyond one declaration (docs/rules.md §2.1 and §2 end).

001: one route per applicant per campaign year, series and level; a second live declaration of
the same person in the same year, series and level (either route, any campaign of that year) is
refused. An ended declaration (any terminal state, ``certified`` included) blocks nothing. The
declaration registered first wins: a later duplicate never blocks the earlier one, even while it
lingers as a draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from domain.blacklist import BarEntry, applicant_barred, unit_barred
from domain.models import Campaign, DeclarationInput
from domain.states import TERMINAL
from store.db import advisory_xact_lock
from store.delivery import record_applicant_email
from store.tables import BlacklistEntry, DeclarationRegistry, utc

__all__ = [
    "TERMINAL_STATES",
    "add_bar",
    "applicant_bar_at",
    "bars_at",
    "is_live",
    "live_rivals",
    "person_lock",
    "person_registrations",
    "register",
    "set_state",
    "unit_bar_at",
]

TERMINAL_STATES: frozenset[str] = frozenset(s.value for s in TERMINAL)


def is_live(state: str) -> bool:
    """A declaration is live until it reaches a terminal state (``certified`` ends it too)."""
    return state not in TERMINAL_STATES


def person_lock(session: Session, year: int, series: str, level: str, id_number: str) -> None:
    """Serialise registrations of one person for one title in one year (PostgreSQL)."""
    advisory_xact_lock(session, f"person:{year}:{series}:{level}:{id_number}")


def register(
    session: Session,
    *,
    declaration_id: str,
    campaign: Campaign,
    declaration: DeclarationInput,
    at: datetime,
    state: str = "draft",
    known: Sequence[DeclarationRegistry] | None = None,
) -> DeclarationRegistry:
    """Register a declaration once (a second call returns the first row unchanged). ``known``:
    the person's registrations already read (:func:`person_registrations`), so that a
    registered declaration is found without another query."""
    if known is None:
        row = session.get(DeclarationRegistry, declaration_id)
    else:
        row = next((r for r in known if r.declaration_id == declaration_id), None)
    if row is not None:
        return row
    row = DeclarationRegistry(
        declaration_id=declaration_id,
        campaign_id=campaign.id,
        year=campaign.year,
        series=declaration.series_in(campaign),
        level=declaration.level,
        route=declaration.route,
        id_number=declaration.applicant.id_number,
        unit_id=declaration.unit_id,
        live=is_live(state),
        state=state,
        created_at=at,
    )
    session.add(row)
    record_applicant_email(session, declaration_id, declaration.applicant.email)
    session.flush()
    return row


_REGISTRY = DeclarationRegistry.__table__  # type: ignore[attr-defined]
_SET_STATE = (
    sa.update(_REGISTRY)
    .where(
        _REGISTRY.c.declaration_id == sa.bindparam("id"),
        sa.or_(
            _REGISTRY.c.state != sa.bindparam("new_state"),
            _REGISTRY.c.live != sa.bindparam("new_live"),
        ),
    )
    .values(state=sa.bindparam("new_state"), live=sa.bindparam("new_live"))
)


def set_state(session: Session, declaration_id: str, state: str) -> None:
    """Keep ``live`` current with the declaration's state (no-op for an unregistered one, and
    for one already current): one conditional ``UPDATE``."""
    session.connection().execute(
        _SET_STATE, {"id": declaration_id, "new_state": state, "new_live": is_live(state)}
    )


#: A person's registrations for one title in one year, oldest first; built once (screening runs
#: it on every submission), executed with the values as parameters.
_PERSON = (
    select(DeclarationRegistry)
    .where(
        col(DeclarationRegistry.year) == sa.bindparam("year"),
        col(DeclarationRegistry.series) == sa.bindparam("series"),
        col(DeclarationRegistry.level) == sa.bindparam("level"),
        col(DeclarationRegistry.id_number) == sa.bindparam("id_number"),
    )
    .order_by(col(DeclarationRegistry.created_at), col(DeclarationRegistry.declaration_id))
)


def person_registrations(
    session: Session, year: int, series: str, level: str, id_number: str
) -> list[DeclarationRegistry]:
    """Every registration of this person for this title in this year (any route, any campaign
    of that year), oldest first."""
    params = {"year": year, "series": series, "level": level, "id_number": id_number}
    return list(session.exec(_PERSON, params=params))


def live_rivals(
    session: Session,
    me: DeclarationRegistry,
    among: Sequence[DeclarationRegistry] | None = None,
) -> list[DeclarationRegistry]:
    """Other live declarations of the same person, year, series and level registered before
    ``me`` (oldest first); ``among``: the person's registrations already read."""
    if among is not None:
        return [
            r
            for r in among
            if r.live
            and r.declaration_id != me.declaration_id
            and (r.year, r.series, r.level, r.id_number)
            == (me.year, me.series, me.level, me.id_number)
            and (utc(r.created_at), r.declaration_id) < (utc(me.created_at), me.declaration_id)
        ]
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
    session.add(BlacklistEntry(**entry.model_dump(), campaign_id=campaign_id))
    session.flush()
    return True


_BLACKLIST = BlacklistEntry.__table__  # type: ignore[attr-defined]
#: The bars of ``n`` subjects in force at an instant, by ``n``: built once each (screening asks
#: for two subjects on every submission), returning plain rows of the columns a bar has.
_BARS: dict[int, sa.Select[Any]] = {}


def _bars_statement(n: int) -> sa.Select[Any]:
    statement = _BARS.get(n)
    if statement is None:
        table = _BLACKLIST
        statement = _BARS[n] = sa.select(*(table.c[name] for name in BarEntry.model_fields)).where(
            sa.or_(
                *(
                    sa.and_(
                        table.c.subject_kind == sa.bindparam(f"kind_{i}"),
                        table.c.subject_id == sa.bindparam(f"subject_{i}"),
                    )
                    for i in range(n)
                )
            ),
            table.c.from_at <= sa.bindparam("at"),
            table.c.until > sa.bindparam("at"),
        )
    return statement


def bars_at(
    session: Session, subjects: Sequence[tuple[str, str]], at: datetime
) -> dict[tuple[str, str], list[BarEntry]]:
    """The bars in force at ``at`` of each ``(subject_kind, subject_id)``, in one query."""
    found: dict[tuple[str, str], list[BarEntry]] = {subject: [] for subject in subjects}
    if not subjects:
        return found
    params: dict[str, Any] = {"at": utc(at)}
    for i, (kind, subject_id) in enumerate(subjects):
        params[f"kind_{i}"], params[f"subject_{i}"] = kind, subject_id
    rows = session.connection().execute(_bars_statement(len(subjects)), params)
    for row in rows:
        found[(row.subject_kind, row.subject_id)].append(
            BarEntry.model_validate(row, from_attributes=True)
        )
    return found


def applicant_bar_at(
    session: Session,
    id_number: str,
    series: str,
    level: str,
    at: datetime,
    entries: Sequence[BarEntry] | None = None,
) -> BarEntry | None:
    """The bar keeping this person from this title at ``at`` (domain.blacklist decides);
    ``entries``: the person's bars already read (:func:`bars_at`)."""
    if entries is None:
        entries = bars_at(session, [("applicant", id_number)], at)[("applicant", id_number)]
    return applicant_barred(list(entries), id_number, series, level, at)


def unit_bar_at(
    session: Session, unit_id: str, at: datetime, entries: Sequence[BarEntry] | None = None
) -> BarEntry | None:
    """The bar keeping this unit from recommending at ``at``; ``entries``: already read."""
    if entries is None:
        entries = bars_at(session, [("unit", unit_id)], at)[("unit", unit_id)]
    return unit_barred(list(entries), unit_id, at)
