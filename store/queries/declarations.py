"""Queries behind the declaration lists: which declarations a reader sees, what waits in whose
inbox, the open declarations a change must reach, a person's live declaration, and the facts
about one declaration that decide who may act on it.

Who may read what is the caller's policy; it arrives here as a :class:`ReadScope`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, false, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from domain.calendar import BEIJING
from domain.models import Actor, DeclarationView
from store.campaigns import CampaignRow
from store.readmodel import involving_org
from store.registry import TERMINAL_STATES
from store.tables import AuditEvent, DeclarationRead, DeclarationRegistry

__all__ = [
    "UNSCOPED_INBOX",
    "AtRisk",
    "DeclarationFacts",
    "ListFilter",
    "PageRows",
    "ReadScope",
    "at_risk_in_inbox",
    "campaigns_of_committee",
    "campaigns_of_finance",
    "declaration_facts",
    "declaration_page",
    "filed_by",
    "inbox_page",
    "live_declaration_of",
    "open_declarations",
    "provisional_in_year",
    "states_count",
    "visible_to",
]

#: Roles whose inbox is scoped by the campaigns their organisation acts for (docs/rules.md §11:
#: committee staff for their committee's campaigns, finance for the campaigns naming their office),
#: not by the declaration's pending organisation.
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


@dataclass(frozen=True)
class AtRisk:
    views: list[DeclarationView]
    total: int


@dataclass(frozen=True)
class ReadScope:
    """Which declarations a list shows its reader: every one, those of one unit, those whose
    authority chain names an organisation (other than its own unit's) or whose campaign it
    confirms, those of the campaigns one committee reviews, or those one applicant filed. A scope
    with nothing set shows nothing."""

    everything: bool = False
    unit_id: str | None = None
    authority_org: str | None = None
    committee_org: str | None = None
    applicant_id: str | None = None


@dataclass(frozen=True)
class DeclarationFacts:
    """Where a declaration belongs and who filed it: what decides who may act on it."""

    id: str
    campaign_id: str
    unit_id: str
    authority_chain: tuple[str, ...]
    #: The ``sub`` of the applicant account that filed it.
    filed_by: str
    #: The state in the read model; None while the first step is not recorded yet.
    state: str | None = None
    #: The campaign's committee (docs/rules.md §11); None for a campaign made before the registry.
    committee_org: str | None = None
    #: Who records the campaign's fees (``Campaign.fee_offices()``); empty before the registry.
    fee_offices: tuple[str, ...] = ()
    #: The authority that confirms the campaign's results and entrustments (docs/rules.md §12).
    confirming_org: str | None = None


def declaration_facts(session: Session, declaration_id: str) -> DeclarationFacts | None:
    """What a decision needs to know about the declaration, in one query: the read model's
    columns and the actor of the first event (the view and the time held are not read). None
    while its first step is not recorded."""
    first_actor = (
        select(AuditEvent.actor_id)
        .where(AuditEvent.declaration_id == declaration_id, AuditEvent.seq == 1)
        .scalar_subquery()
    )
    row = session.execute(
        sa.select(
            col(DeclarationRead.campaign_id),
            col(DeclarationRead.unit_id),
            col(DeclarationRead.authority_chain),
            col(DeclarationRead.state),
            first_actor.label("filed_by"),
            col(CampaignRow.committee_org),
            col(CampaignRow.fee_offices),
            col(CampaignRow.confirming_org),
        )
        .select_from(DeclarationRead)
        .outerjoin(CampaignRow, col(CampaignRow.id) == col(DeclarationRead.campaign_id))
        .where(col(DeclarationRead.declaration_id) == declaration_id)
    ).first()
    if row is None or row.filed_by is None:
        return None
    return DeclarationFacts(
        id=declaration_id,
        campaign_id=row.campaign_id,
        unit_id=row.unit_id,
        authority_chain=tuple(row.authority_chain),
        filed_by=row.filed_by,
        state=row.state,
        committee_org=row.committee_org,
        fee_offices=tuple(o for o in (row.fee_offices or "").split("|") if o),
        confirming_org=row.confirming_org,
    )


def campaigns_of_committee(org: str) -> Any:
    """Ids of the campaigns committee ``org`` acts for: those naming it as ``committee_org``,
    and those made before the registry (which name none)."""
    return select(CampaignRow.id).where(
        or_(col(CampaignRow.committee_org) == org, col(CampaignRow.committee_org).is_(None))
    )


def campaigns_of_finance(org: str) -> Any:
    """Ids of the campaigns finance office ``org`` records fees for: those whose fee offices
    name it, and those made before the registry (which name none)."""
    return select(CampaignRow.id).where(
        or_(
            col(CampaignRow.fee_offices).contains(f"|{org}|", autoescape=True),
            col(CampaignRow.fee_offices) == "",
        )
    )


def filed_by(actor_id: str) -> Any:
    """Ids of the declarations this account filed (the actor of each one's first event)."""
    return select(AuditEvent.declaration_id).where(
        AuditEvent.seq == 1,
        AuditEvent.action == "created",
        AuditEvent.actor_role == "applicant",
        AuditEvent.actor_id == actor_id,
    )


def visible_to(scope: ReadScope) -> list[ColumnElement[bool]]:
    """The conditions on the read model that keep a list inside ``scope``."""
    if scope.everything:
        return []
    if scope.unit_id:
        return [col(DeclarationRead.unit_id) == scope.unit_id]
    if scope.authority_org:
        on_chain = and_(
            involving_org(scope.authority_org),
            col(DeclarationRead.unit_id) != scope.authority_org,
        )
        confirmed = col(DeclarationRead.campaign_id).in_(
            select(CampaignRow.id).where(col(CampaignRow.confirming_org) == scope.authority_org)
        )
        return [or_(on_chain, confirmed)]
    if scope.committee_org is not None:
        return [col(DeclarationRead.campaign_id).in_(campaigns_of_committee(scope.committee_org))]
    if scope.applicant_id:
        return [col(DeclarationRead.declaration_id).in_(filed_by(scope.applicant_id))]
    return [false()]


def _page(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    order: Sequence[Any],
    page: int,
    page_size: int,
) -> PageRows:
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
    session: Session, scope: ReadScope, flt: ListFilter, *, page: int, page_size: int
) -> PageRows:
    """One page of the declarations in ``scope`` that pass ``flt``, latest change first."""
    conditions = visible_to(scope)
    if flt.campaign_id:
        conditions.append(col(DeclarationRead.campaign_id) == flt.campaign_id)
    if flt.state:
        conditions.append(col(DeclarationRead.state) == flt.state)
    if flt.org:
        conditions.append(involving_org(flt.org))
    order = [col(DeclarationRead.updated_at).desc(), col(DeclarationRead.declaration_id)]
    return _page(session, conditions, order, page, page_size)


def _waiting_on(actor: Actor) -> list[ColumnElement[bool]]:
    """What waits on the actor's role and organisation: an applicant's only on the declarations
    they filed; the committee's and finance's on the campaigns their organisation acts for
    (docs/rules.md §11); anyone else's where their organisation must act."""
    conditions: list[ColumnElement[bool]] = [col(DeclarationRead.pending_role) == actor.role]
    campaign = col(DeclarationRead.campaign_id)
    if actor.role == "applicant":
        conditions.append(col(DeclarationRead.declaration_id).in_(filed_by(actor.id)))
    elif actor.role == "committee":
        conditions.append(campaign.in_(campaigns_of_committee(actor.org)))
    elif actor.role == "finance":
        conditions.append(campaign.in_(campaigns_of_finance(actor.org)))
    else:
        conditions.append(col(DeclarationRead.pending_org) == actor.org)
    return conditions


def inbox_page(session: Session, actor: Actor, *, page: int, page_size: int) -> PageRows:
    """What waits on the caller's role and organisation: soonest due first (no due time last),
    at-risk first among equals."""
    due = col(DeclarationRead.due_at)
    order = [
        due.is_(None),
        due.asc(),
        col(DeclarationRead.at_risk).desc(),
        col(DeclarationRead.declaration_id),
    ]
    return _page(session, _waiting_on(actor), order, page, page_size)


def at_risk_in_inbox(session: Session, actor: Actor, *, limit: int) -> AtRisk:
    """docs/rules.md §10.2: the declarations waiting on the caller (as the inbox scopes them)
    that are at risk of missing the declaration deadline, the earliest at risk first."""
    conditions = [*_waiting_on(actor), col(DeclarationRead.at_risk).is_(True)]
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


def declarations_in_state(session: Session, campaign_id: str, state: str) -> list[str]:
    """Declarations of the campaign in ``state`` (e.g. ``returned``), by id."""
    rows = session.exec(
        select(DeclarationRead.declaration_id)
        .where(col(DeclarationRead.campaign_id) == campaign_id, DeclarationRead.state == state)
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
    """How many declarations are in each state, over every campaign."""
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
