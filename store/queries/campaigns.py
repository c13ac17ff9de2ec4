"""Queries behind the campaign-wide views: the campaigns, a campaign's counts per state, its
coming deadlines and declarations at risk (docs/rules.md §10.2), the result publicity list
(公示名单), the returns of its report (§10.4) and its certificates (§2.10)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from domain.campaign_ops import ReturnEvent, is_return
from domain.models import DeclarationView
from store.campaigns import CampaignRow
from store.registry import TERMINAL_STATES
from store.tables import AuditEvent, Certificate, DeclarationRead, Publicity

__all__ = [
    "CampaignSummary",
    "at_risk_views",
    "campaign_views",
    "campaigns",
    "certificate_of",
    "certificates_of",
    "coming_deadlines",
    "result_publicities",
    "return_events",
    "routes_of",
    "states_of",
]


@dataclass(frozen=True)
class CampaignSummary:
    id: str
    name: str
    year: int
    series: str


def campaigns(session: Session, *, committee_org: str | None = None) -> list[CampaignSummary]:
    """Every campaign, newest year first; with ``committee_org``, only those that committee
    acts for (docs/rules.md §11: those naming it, and those stored before the registry)."""
    query = select(CampaignRow)
    if committee_org is not None:
        query = query.where(
            or_(
                col(CampaignRow.committee_org) == committee_org,
                col(CampaignRow.committee_org).is_(None),
            )
        )
    rows = session.exec(query.order_by(col(CampaignRow.year).desc(), col(CampaignRow.id)))
    return [
        CampaignSummary(id=r.id, name=str(r.body.get("name", r.id)), year=r.year, series=r.series)
        for r in rows
    ]


def states_of(session: Session, campaign_id: str) -> dict[str, int]:
    """How many of the campaign's declarations are in each state, by state."""
    rows = session.exec(
        select(DeclarationRead.state, func.count())
        .where(col(DeclarationRead.campaign_id) == campaign_id)
        .group_by(col(DeclarationRead.state))
    )
    return {state: int(n) for state, n in sorted(rows)}


def routes_of(session: Session, campaign_id: str) -> dict[str, dict[str, Any]]:
    """The campaign's declarations per route (docs/rules.md §12), each with its count and its
    counts per state: the report's rows for every route the campaign has declarations on."""
    rows = session.exec(
        select(DeclarationRead.route, DeclarationRead.state, func.count())
        .where(col(DeclarationRead.campaign_id) == campaign_id)
        .group_by(col(DeclarationRead.route), col(DeclarationRead.state))
    )
    routes: dict[str, dict[str, Any]] = {}
    for route, state, n in sorted(rows):
        row = routes.setdefault(route, {"declarations": 0, "states": {}})
        row["declarations"] += int(n)
        row["states"][state] = int(n)
    return routes


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
    """The certificate with this number, valid or revoked."""
    return session.exec(select(Certificate).where(Certificate.certificate_no == number)).first()
