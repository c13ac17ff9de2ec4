"""Audit rows as people read them: one declaration's history, and every event of one actor
across declarations (docs/rules.md §8: "everything one reviewer decided")."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.audit import canonical_instant, events_of
from store.tables import AuditEvent, DeclarationRead

__all__ = [
    "ActorEvents",
    "Ending",
    "endings",
    "event_dict",
    "events_of_actor",
    "history",
    "objection_texts",
]


@dataclass(frozen=True)
class ActorEvents:
    events: list[dict[str, Any]]
    total: int


def event_dict(row: AuditEvent) -> dict[str, Any]:
    """One audit row as the history shows it."""
    return {
        "seq": row.seq,
        "at": canonical_instant(row.at),
        "actor_id": row.actor_id,
        "actor_role": row.actor_role,
        "actor_org": row.actor_org,
        "action": row.action,
        "stage_before": row.stage_before,
        "stage_after": row.stage_after,
        "outcome": row.outcome,
        "opinion": row.opinion,
        "reasons": json.loads(row.reasons),
        "detail": json.loads(row.detail),
    }


def history(session: Session, declaration_id: str) -> list[dict[str, Any]]:
    """The declaration's audit trail, oldest first."""
    return [event_dict(row) for row in events_of(session, declaration_id)]


def events_of_actor(
    session: Session,
    actor_id: str | None,
    *,
    outcome: str | None = None,
    campaign_id: str | None = None,
    page: int = 1,
    page_size: int = 100,
) -> ActorEvents:
    """Every audit event whose actor is ``actor_id`` (any actor when None), across declarations
    and the campaign and access chains of refused attempts, oldest first; each with its
    ``declaration_id``. ``outcome="refused"`` answers "every refused decision attempt"."""
    conditions: list[Any] = []
    if actor_id:
        conditions.append(AuditEvent.actor_id == actor_id)
    if outcome:
        conditions.append(AuditEvent.outcome == outcome)
    if campaign_id:
        conditions.append(AuditEvent.campaign_id == campaign_id)
    total = int(session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one())
    rows = session.exec(
        select(AuditEvent)
        .where(*conditions)
        .order_by(col(AuditEvent.at), col(AuditEvent.declaration_id), col(AuditEvent.seq))
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    events = [
        {"declaration_id": r.declaration_id, "campaign_id": r.campaign_id, **event_dict(r)}
        for r in rows
    ]
    return ActorEvents(events=events, total=total)


class Ending(NamedTuple):
    """How a declaration ended: the action of its last accepted event, the stage it left, when."""

    declaration_id: str
    action: str
    stage_before: str | None
    at: datetime


def endings(session: Session, campaign_id: str, actions: Sequence[str]) -> list[Ending]:
    """The declarations of the campaign whose last accepted event is one of ``actions`` (e.g.
    a deadline timer that ended them), with the stage each was in."""
    rows = session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.campaign_id) == campaign_id,
            col(AuditEvent.action).in_(list(actions)),
            AuditEvent.outcome == "accepted",
        )
        .order_by(col(AuditEvent.declaration_id), col(AuditEvent.seq))
    )
    found: dict[str, Ending] = {}
    for row in rows:
        found[row.declaration_id] = Ending(row.declaration_id, row.action, row.stage_before, row.at)
    still = {
        r.declaration_id
        for r in session.exec(
            select(DeclarationRead).where(
                col(DeclarationRead.declaration_id).in_(list(found)),
                col(DeclarationRead.state).in_(["abandoned", "not_accepted"]),
            )
        )
    }
    return [e for d, e in sorted(found.items()) if d in still]


def objection_texts(session: Session, declaration_id: str) -> dict[str, str]:
    """Each objection's text, by its id: the opinion of its ``objection.lodged`` event (the
    declaration's state keeps who lodged it and when, not what it says: docs/rules.md §10.8)."""
    rows = session.exec(
        select(AuditEvent).where(
            AuditEvent.declaration_id == declaration_id,
            AuditEvent.action == "objection.lodged",
            AuditEvent.outcome == "accepted",
        )
    )
    return {str(json.loads(row.detail).get("objection_id", "")): row.opinion for row in rows}
