"""Read-model and audit queries behind the lists (docs/rules.md §15): who sees which declarations,
what waits in whose inbox, a declaration's history, the open declarations a change must reach.

Plain functions of a session (the routes run them off the event loop with
:func:`api.services.in_session`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, false, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from api.policy import READ_ROLES
from domain.calendar import BEIJING
from domain.models import Actor, DeclarationView
from store.audit import canonical_instant, events_of
from store.readmodel import involving_org
from store.registry import TERMINAL_STATES
from store.tables import AuditEvent, DeclarationRead, DeclarationRegistry

__all__ = [
    "ListFilter",
    "PageRows",
    "declaration_page",
    "event_dict",
    "history",
    "inbox_page",
    "live_declaration_of",
    "open_declarations",
    "provisional_in_year",
    "states_count",
]

#: Roles whose inbox is not scoped by organisation (one committee, one finance office).
UNSCOPED_INBOX = frozenset({"committee", "finance"})


@dataclass(frozen=True)
class ListFilter:
    campaign_id: str | None = None
    state: str | None = None
    org: str | None = None


@dataclass(frozen=True)
class PageRows:
    views: list[DeclarationView]
    total: int


def filed_by(actor_id: str) -> Any:
    """Ids of the declarations this account filed (the actor of each one's first event)."""
    return select(AuditEvent.declaration_id).where(
        AuditEvent.seq == 1,
        AuditEvent.action == "created",
        AuditEvent.actor_role == "applicant",
        AuditEvent.actor_id == actor_id,
    )


def visible_to(actor: Actor) -> list[ColumnElement[bool]]:
    """Who sees what: auditor, admin and committee everything; a unit reviewer their unit's; an
    authority reviewer those whose authority chain names their organisation; an applicant their
    own. Anyone else nothing."""
    if actor.role in READ_ROLES:
        return []
    if actor.role == "unit_reviewer" and actor.org:
        return [col(DeclarationRead.unit_id) == actor.org]
    if actor.role == "authority_reviewer" and actor.org:
        return [involving_org(actor.org), col(DeclarationRead.unit_id) != actor.org]
    if actor.role == "applicant":
        return [col(DeclarationRead.declaration_id).in_(filed_by(actor.id))]
    return [false()]


def _page(
    session: Session, conditions: Sequence[ColumnElement[bool]], order: Sequence[Any],
    page: int, page_size: int,
) -> PageRows:  # fmt: skip
    where = and_(*conditions) if conditions else None
    count = select(func.count()).select_from(DeclarationRead)
    rows = select(DeclarationRead.view_json)
    if where is not None:
        count = count.where(where)
        rows = rows.where(where)
    total = int(session.exec(count).one())
    texts = session.exec(rows.order_by(*order).offset((page - 1) * page_size).limit(page_size))
    return PageRows([DeclarationView.model_validate_json(t) for t in texts], total)


def declaration_page(
    session: Session, actor: Actor, flt: ListFilter, *, page: int, page_size: int
) -> PageRows:
    conditions = visible_to(actor)
    if flt.campaign_id:
        conditions.append(col(DeclarationRead.campaign_id) == flt.campaign_id)
    if flt.state:
        conditions.append(col(DeclarationRead.state) == flt.state)
    if flt.org:
        conditions.append(involving_org(flt.org))
    order = [col(DeclarationRead.updated_at).desc(), col(DeclarationRead.declaration_id)]
    return _page(session, conditions, order, page, page_size)


def inbox_page(session: Session, actor: Actor, *, page: int, page_size: int) -> PageRows:
    """What waits on the caller's role and organisation: soonest due first (no due time last),
    at-risk first among equals."""
    conditions: list[ColumnElement[bool]] = [col(DeclarationRead.pending_role) == actor.role]
    if actor.role == "applicant":
        conditions.append(col(DeclarationRead.declaration_id).in_(filed_by(actor.id)))
    elif actor.role not in UNSCOPED_INBOX:
        conditions.append(col(DeclarationRead.pending_org) == actor.org)
    due = col(DeclarationRead.due_at)
    order = [
        due.is_(None),
        due.asc(),
        col(DeclarationRead.at_risk).desc(),
        col(DeclarationRead.declaration_id),
    ]
    return _page(session, conditions, order, page, page_size)


def event_dict(row: AuditEvent) -> dict[str, Any]:
    """One audit row as the history shows it (docs/rules.md §18)."""
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
    return [event_dict(row) for row in events_of(session, declaration_id)]


def open_declarations(session: Session, campaign_id: str) -> list[str]:
    """Declarations of the campaign that have not ended (``certified`` has: nothing it waits
    for has a deadline)."""
    rows = session.exec(
        select(DeclarationRead.declaration_id)
        .where(
            col(DeclarationRead.campaign_id) == campaign_id,
            col(DeclarationRead.state).not_in(sorted(TERMINAL_STATES)),
        )
        .order_by(col(DeclarationRead.declaration_id))
    )
    return list(rows)


def _provisional_years(view: DeclarationView) -> set[int]:
    years = set()
    for kind in view.provisional_deadlines:
        at: datetime | None = getattr(view.deadlines, kind, None)
        if at is not None:
            years.add(at.astimezone(BEIJING).year)
    return years


def provisional_in_year(session: Session, year: int) -> list[str]:
    """Open declarations holding a provisional deadline that a calendar for ``year`` may move:
    one falling in that year or later (a period counted through ``year`` ends in it or after)."""
    rows = session.exec(
        select(DeclarationRead.view_json).where(
            col(DeclarationRead.state).not_in(sorted(TERMINAL_STATES)),
            col(DeclarationRead.view_json).contains('"provisional_deadlines":["'),
        )
    )
    out = []
    for text in rows:
        view = DeclarationView.model_validate_json(text)
        if any(y >= year for y in _provisional_years(view)):
            out.append(view.id)
    return sorted(out)


def states_count(session: Session) -> dict[str, int]:
    rows = session.exec(
        select(DeclarationRead.state, func.count()).group_by(col(DeclarationRead.state))
    )
    return {state: int(n) for state, n in rows}


def live_declaration_of(
    session: Session, *, year: int, series: str, level: str, id_number: str
) -> DeclarationRegistry | None:
    """The person's live declaration for this title in this year (any route, any campaign of
    that year), oldest first (001: one route per applicant per year, series and level)."""
    return session.exec(
        select(DeclarationRegistry)
        .where(
            DeclarationRegistry.year == year,
            DeclarationRegistry.series == series,
            DeclarationRegistry.level == level,
            DeclarationRegistry.id_number == id_number,
            col(DeclarationRegistry.live).is_(True),
        )
        .order_by(col(DeclarationRegistry.created_at), col(DeclarationRegistry.declaration_id))
    ).first()
