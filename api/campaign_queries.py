"""Read-model and audit queries behind the campaign-wide views: the defense schedule, the result
publicity list (公示名单), the announcement list, the campaign report, and the at-risk part of the
inbox (docs/rules.md §5, §2.9-§2.10, §10.2, §10.4).

Plain functions of a session (the routes run them off the event loop with
:func:`api.services.in_session`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from api.queries import UNSCOPED_INBOX, filed_by
from domain.campaign_ops import ReturnEvent, is_return
from domain.models import Actor, DeclarationView
from store.tables import AuditEvent, Certificate, DeclarationRead, Publicity

__all__ = [
    "AtRisk",
    "at_risk_in_inbox",
    "campaign_views",
    "certificate_of",
    "certificates_of",
    "result_publicities",
    "return_events",
    "states_of",
]


def campaign_views(
    session: Session, campaign_id: str, states: Iterable[str]
) -> list[DeclarationView]:
    """The campaign's declarations in ``states`` (read model), by id."""
    rows = session.exec(
        select(DeclarationRead.view_json)
        .where(
            col(DeclarationRead.campaign_id) == campaign_id,
            col(DeclarationRead.state).in_(sorted(set(states))),
        )
        .order_by(col(DeclarationRead.declaration_id))
    )
    return [DeclarationView.model_validate_json(text) for text in rows]


def result_publicities(session: Session, declaration_ids: Iterable[str]) -> dict[str, Publicity]:
    """Each declaration's latest result publicity (its first and last day, its end)."""
    ids = sorted(set(declaration_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Publicity)
        .where(col(Publicity.declaration_id).in_(ids), Publicity.kind == "result_publicity")
        .order_by(col(Publicity.declaration_id), col(Publicity.started_at))
    )
    return {row.declaration_id: row for row in rows}  # the latest start wins


def certificates_of(session: Session, campaign_id: str) -> list[Certificate]:
    """The campaign's valid certificates, in the order they were numbered."""
    return list(
        session.exec(
            select(Certificate)
            .where(Certificate.campaign_id == campaign_id, Certificate.status == "valid")
            .order_by(col(Certificate.serial))
        )
    )


def certificate_of(session: Session, number: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.certificate_no == number)).first()


def states_of(session: Session, campaign_id: str) -> dict[str, int]:
    rows = session.exec(
        select(DeclarationRead.state, func.count())
        .where(col(DeclarationRead.campaign_id) == campaign_id)
        .group_by(col(DeclarationRead.state))
    )
    return {state: int(n) for state, n in sorted(rows)}


def return_events(session: Session, campaign_id: str) -> list[ReturnEvent]:
    """§10.4: every accepted return of the campaign's declarations, with the declaration's unit
    (a review stage's ``<stage>.return``, or an upheld objection with outcome ``return``)."""
    units = dict(
        session.exec(
            select(DeclarationRead.declaration_id, DeclarationRead.unit_id).where(
                col(DeclarationRead.campaign_id) == campaign_id
            )
        ).all()
    )
    rows = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.campaign_id == campaign_id,
            AuditEvent.outcome == "accepted",
            or_(
                col(AuditEvent.action).endswith(".return"),
                col(AuditEvent.action) == "objection.upheld",
            ),
        )
        .order_by(col(AuditEvent.declaration_id), col(AuditEvent.seq))
    )
    out = []
    for row in rows:
        if row.declaration_id not in units or not is_return(row.action, json.loads(row.detail)):
            continue
        out.append(
            ReturnEvent(
                declaration_id=row.declaration_id,
                unit_id=units[row.declaration_id],
                action=row.action,
                stage=row.stage_before,
                reasons=json.loads(row.reasons),
            )
        )
    return out


@dataclass(frozen=True)
class AtRisk:
    views: list[DeclarationView]
    total: int


def at_risk_in_inbox(session: Session, actor: Actor, *, limit: int) -> AtRisk:
    """§10.2: the declarations waiting on the caller (as ``GET /inbox`` scopes them) that are at
    risk of missing the declaration deadline, the earliest at risk first."""
    conditions: list[ColumnElement[bool]] = [
        col(DeclarationRead.pending_role) == actor.role,
        col(DeclarationRead.at_risk).is_(True),
    ]
    if actor.role == "applicant":
        conditions.append(col(DeclarationRead.declaration_id).in_(filed_by(actor.id)))
    elif actor.role not in UNSCOPED_INBOX:
        conditions.append(col(DeclarationRead.pending_org) == actor.org)
    total = int(
        session.exec(select(func.count()).select_from(DeclarationRead).where(*conditions)).one()
    )
    rows = session.exec(
        select(DeclarationRead.view_json)
        .where(*conditions)
        .order_by(
            col(DeclarationRead.at_risk_from).asc(),
            col(DeclarationRead.due_at).asc(),
            col(DeclarationRead.declaration_id),
        )
        .limit(limit)
    )
    return AtRisk([DeclarationView.model_validate_json(t) for t in rows], total)
