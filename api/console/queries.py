"""Read-only queries behind the committee's dashboard and the auditor's views that the JSON API
has no endpoint for: campaigns listed, a campaign's counts per state, its coming deadlines and
its declarations at risk, and every audit event of one actor across declarations (docs/rules.md §8:
"everything one reviewer decided").

Plain functions of a session, run off the event loop with :func:`api.services.in_session`. They
read the read model and the audit trail; no rule is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.queries import event_dict
from domain.models import DeclarationView
from store.campaigns import CampaignRow
from store.registry import TERMINAL_STATES
from store.tables import AuditEvent, DeclarationRead

__all__ = [
    "ActorEvents",
    "CampaignSummary",
    "at_risk_views",
    "campaigns",
    "coming_deadlines",
    "events_of_actor",
    "state_counts",
]


@dataclass(frozen=True)
class CampaignSummary:
    id: str
    name: str
    year: int
    series: str


@dataclass(frozen=True)
class ActorEvents:
    events: list[dict[str, Any]]
    total: int


def campaigns(session: Session) -> list[CampaignSummary]:
    """Every campaign, newest year first."""
    rows = session.exec(
        select(CampaignRow).order_by(col(CampaignRow.year).desc(), col(CampaignRow.id))
    )
    return [
        CampaignSummary(id=r.id, name=str(r.body.get("name", r.id)), year=r.year, series=r.series)
        for r in rows
    ]


def state_counts(session: Session, campaign_id: str) -> dict[str, int]:
    rows = session.exec(
        select(DeclarationRead.state, func.count())
        .where(DeclarationRead.campaign_id == campaign_id)
        .group_by(col(DeclarationRead.state))
    )
    return {state: int(n) for state, n in rows}


def _open_views(session: Session, campaign_id: str, *conditions: Any, limit: int) -> list[Any]:
    query = select(DeclarationRead.view_json).where(
        DeclarationRead.campaign_id == campaign_id,
        col(DeclarationRead.state).not_in(sorted(TERMINAL_STATES)),
        *conditions,
    )
    return list(
        session.exec(
            query.order_by(col(DeclarationRead.due_at), col(DeclarationRead.declaration_id)).limit(
                limit
            )
        )
    )


def coming_deadlines(
    session: Session, campaign_id: str, *, limit: int = 20
) -> list[DeclarationView]:
    """Open declarations whose next step has a due time, soonest first."""
    texts = _open_views(session, campaign_id, col(DeclarationRead.due_at).is_not(None), limit=limit)
    return [DeclarationView.model_validate_json(t) for t in texts]


def at_risk_views(session: Session, campaign_id: str, *, limit: int = 100) -> list[DeclarationView]:
    """Open declarations flagged at risk (§10.2), soonest due first."""
    texts = _open_views(session, campaign_id, col(DeclarationRead.at_risk).is_(True), limit=limit)
    return [DeclarationView.model_validate_json(t) for t in texts]


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
