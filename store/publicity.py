"""Publicity periods (公示, docs/rules.md §2.2 and §2.9): when each started and ends, and why.

A publicity is keyed by (declaration, kind, start instant). Opening it again with the same start
returns the recorded end, so a retry sees the same deadline, except that a **provisional** end
(computed over a year without official calendar data) is recomputed with the calendar as it is
now and updated when it moved (§7: loading a year's official data recomputes provisional
deadlines; the workflow asks by re-opening with the same start).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.calendar import BEIJING, WorkCalendar
from domain.models import Campaign, ComputedDeadline, DeadlineExplanation, PublicityKind
from domain.periods import publicity_end
from store.db import advisory_xact_lock
from store.errors import InvalidRequest
from store.tables import AuditEvent, Publicity, utc

__all__ = ["OBJECTION_ACTION", "Closed", "close", "open_", "stored_deadline"]

#: The audit action of a lodged objection (``domain.chain``), counted when a publicity closes.
OBJECTION_ACTION = "objection.lodged"


def stored_deadline(row: Publicity) -> ComputedDeadline:
    return ComputedDeadline(
        at=row.ends_at.astimezone(BEIJING),
        explanation=DeadlineExplanation.model_validate(row.explanation),
        first_day=row.first_day,
        last_day=row.last_day,
    )


def _apply(row: Publicity, computed: ComputedDeadline) -> None:
    row.ends_at = computed.at
    row.first_day = computed.first_day
    row.last_day = computed.last_day
    row.explanation = computed.explanation.model_dump(mode="json")


def open_(
    session: Session,
    *,
    declaration_id: str,
    kind: PublicityKind,
    start: datetime,
    campaign: Campaign,
    cal: WorkCalendar,
) -> ComputedDeadline:
    """Record the publicity once and return its end (see the module docstring)."""
    computed = publicity_end(kind, start, campaign, cal)
    advisory_xact_lock(session, f"publicity:{declaration_id}")
    row = session.exec(
        select(Publicity).where(
            Publicity.declaration_id == declaration_id,
            Publicity.kind == kind,
            Publicity.started_at == utc(start),
        )
    ).first()
    if row is None:
        row = Publicity(
            declaration_id=declaration_id,
            kind=kind,
            started_at=start,
            ends_at=computed.at,
            explanation={},
        )
        _apply(row, computed)
        session.add(row)
        session.flush()
        return computed
    stored = stored_deadline(row)
    if stored.explanation.provisional and stored != computed:
        _apply(row, computed)
        session.add(row)
        session.flush()
        return computed
    return stored


def _objections(session: Session, row: Publicity, closed_at: datetime) -> int:
    count = session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.declaration_id == row.declaration_id,
            AuditEvent.action == OBJECTION_ACTION,
            AuditEvent.outcome == "accepted",
            AuditEvent.stage_before == row.kind,
            col(AuditEvent.at) >= row.started_at,
            col(AuditEvent.at) <= utc(closed_at),
        )
    ).one()
    return int(count)


class Closed(NamedTuple):
    kind: str
    closed_at: datetime
    #: Objections lodged during the publicity.
    objections: int


def close(
    session: Session, *, declaration_id: str, kind: PublicityKind, closed_at: datetime, outcome: str
) -> Closed:
    """Close the declaration's latest publicity of this kind once; a second call returns the
    first closing."""
    advisory_xact_lock(session, f"publicity:{declaration_id}")
    row = session.exec(
        select(Publicity)
        .where(Publicity.declaration_id == declaration_id, Publicity.kind == kind)
        .order_by(col(Publicity.started_at).desc())
    ).first()
    if row is None:
        raise InvalidRequest(
            f"申报 {declaration_id} 没有进行中的{kind} / no {kind} was opened for this declaration"
        )
    if row.closed_at is None:
        row.closed_at = closed_at
        row.outcome = outcome
        session.add(row)
        session.flush()
    first = row.closed_at
    return Closed(row.kind, first.astimezone(BEIJING), _objections(session, row, first))
