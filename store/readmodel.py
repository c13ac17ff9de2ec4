"""The read model: the latest :class:`DeclarationView` of every declaration, for lists and
inboxes, plus the time each actor held the file (docs/rules.md §10.2).

A write carries the view's ``version`` (the sequence number of its last audit event). A row is
replaced only by a view of the same or a newer version, in one ``INSERT … ON CONFLICT DO UPDATE
… WHERE`` statement, so a retried or late write never takes the read model backwards, even when
two writers race.

**Time held.** ``held`` is computed from the declaration's audit trail: every accepted event that
changes the stage (and every authority approval, which hands the file to the next level) closes
one interval and opens the next. Each interval belongs to whoever must act in that stage
(``domain.states.PENDING``): the applicant, the unit (``unit_reviewer:<unit>``), the authority
whose level it is (``authority_reviewer:<org>``), the committee or finance. Its length is
``domain.periods.working_days_between`` (fractional working days on the official calendar).
Terminal stages are held by nobody. The interval still open is reported in ``current`` so that a
reader can add the time since.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from domain.calendar import WorkCalendar
from domain.models import DeclarationView
from domain.periods import working_days_between
from domain.states import PENDING
from store.audit import canonical_instant
from store.calendar import work_calendar
from store.registry import set_state
from store.tables import AuditEvent, DeclarationRead

__all__ = [
    "HELD_FILTER",
    "HeldEvent",
    "get_held",
    "get_view",
    "held_events",
    "held_figures",
    "involving_org",
    "upsert_view",
]

_UNIT_STAGES = frozenset({"unit_review", "unit_publicity", "unit_recommendation"})


def _holder(stage: str, view: DeclarationView, authority_index: int) -> str | None:
    pending = PENDING.get(stage)  # type: ignore[call-overload]
    if pending is None:
        return None
    role = pending[0]
    org = ""
    if stage in _UNIT_STAGES:
        org = view.unit_id
    elif stage == "authority_review" and authority_index < len(view.authority_chain):
        org = view.authority_chain[authority_index]
    return f"{role}:{org}" if org else str(role)


class HeldEvent(Protocol):
    """What the time held is computed from: these columns of an audit row."""

    @property
    def at(self) -> datetime: ...
    @property
    def outcome(self) -> str: ...
    @property
    def stage_before(self) -> str | None: ...
    @property
    def stage_after(self) -> str | None: ...
    @property
    def actor_role(self) -> str: ...
    @property
    def actor_org(self) -> str: ...


#: The audit rows that can move the file: accepted, with a stage after.
HELD_FILTER: ColumnElement[bool] = sa.and_(
    col(AuditEvent.outcome) == "accepted", col(AuditEvent.stage_after).is_not(None)
)


def held_events(session: Session, declaration_id: str) -> Sequence[HeldEvent]:
    """The audit rows that can move the file (:data:`HELD_FILTER`), oldest first, as plain rows
    of the columns :func:`held_figures` reads (no ORM objects)."""
    query = (
        sa.select(
            col(AuditEvent.at),
            col(AuditEvent.outcome),
            col(AuditEvent.stage_before),
            col(AuditEvent.stage_after),
            col(AuditEvent.actor_role),
            col(AuditEvent.actor_org),
        )
        .where(col(AuditEvent.declaration_id) == declaration_id, HELD_FILTER)
        .order_by(col(AuditEvent.seq))
    )
    return cast(Sequence[HeldEvent], session.execute(query).all())


def held_figures(
    events: Sequence[HeldEvent], view: DeclarationView, cal: WorkCalendar
) -> dict[str, Any]:
    """``{"by_holder": {holder: working days}, "intervals": [...], "current": {...} | None}``
    from a declaration's audit rows (oldest first); see the module docstring."""
    intervals: list[dict[str, Any]] = []
    by_holder: dict[str, float] = {}
    stage: str | None = None
    holder: str | None = None
    since = None
    authority_index = returned_index = 0
    for event in events:
        if event.outcome != "accepted" or event.stage_after is None:
            continue
        within_authority = (
            event.stage_before == event.stage_after == "authority_review"
            and event.actor_role == "authority_reviewer"
        )
        if event.stage_after == event.stage_before and not within_authority:
            continue
        if stage is not None and holder is not None and since is not None:
            closer = holder
            if stage == "authority_review" and event.actor_role == "authority_reviewer":
                closer = f"authority_reviewer:{event.actor_org}" if event.actor_org else holder
            days = working_days_between(since, event.at, cal)
            intervals.append(
                {
                    "stage": stage,
                    "holder": closer,
                    "from": canonical_instant(since),
                    "until": canonical_instant(event.at),
                    "working_days": round(days, 4),
                }
            )
            by_holder[closer] = by_holder.get(closer, 0.0) + days
        # Which authority level holds the file next (mirrors domain.chain).
        if event.stage_after == "authority_review":
            if within_authority:
                authority_index += 1
            elif event.stage_before == "returned":
                authority_index = returned_index
            else:
                authority_index = 0
        elif event.stage_before == "authority_review" and event.stage_after == "returned":
            returned_index = authority_index
        stage, since = event.stage_after, event.at
        holder = _holder(stage, view, authority_index)
    current = None
    if stage is not None and holder is not None and since is not None:
        current = {"stage": stage, "holder": holder, "since": canonical_instant(since)}
    return {
        "by_holder": {k: round(v, 2) for k, v in sorted(by_holder.items())},
        "intervals": intervals,
        "current": current,
    }


def _orgs(view: DeclarationView) -> str:
    orgs = [view.unit_id or view.applicant.unit_id, *view.authority_chain]
    return "|" + "|".join(o for o in orgs if o) + "|"


def involving_org(org: str) -> ColumnElement[bool]:
    """A filter for declarations whose unit or authority chain includes ``org``."""
    return col(DeclarationRead.orgs).contains(f"|{org}|", autoescape=True)


_UPSERTS: dict[tuple[str, tuple[str, ...]], Any] = {}


def _upsert_statement(dialect: str, names: tuple[str, ...]) -> Any:
    """``INSERT … ON CONFLICT (declaration_id) DO UPDATE … WHERE version <= excluded.version
    RETURNING version`` for these columns, built once per dialect and executed with the values
    as parameters (building ``excluded`` copies every column of the table: too costly per
    write)."""
    key = (dialect, names)
    statement = _UPSERTS.get(key)
    if statement is None:
        table = DeclarationRead.__table__  # type: ignore[attr-defined]
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        base = insert(table)
        excluded = base.excluded
        statement = base.on_conflict_do_update(
            index_elements=[table.c.declaration_id],
            set_={name: excluded[name] for name in names if name != "declaration_id"},
            where=table.c.version <= excluded.version,
        ).returning(table.c.version)
        _UPSERTS[key] = statement
    return statement


def upsert_view(
    session: Session,
    view: DeclarationView,
    *,
    cal: WorkCalendar | None = None,
    events: Sequence[HeldEvent] | None = None,
) -> bool:
    """Store ``view`` unless a newer version is stored already; True when written. Also
    recomputes the time held (from ``events``, the declaration's trail oldest first, when the
    caller has it at hand; else read here) and keeps the registry's ``live`` flag current."""
    if events is None:
        events = held_events(session, view.id)
    held = held_figures(events, view, cal or work_calendar(session))
    pending = view.pending
    values: dict[str, Any] = {
        "declaration_id": view.id,
        "campaign_id": view.campaign_id,
        "state": view.state,
        "pending_role": pending.role if pending else None,
        "pending_org": pending.org if pending else None,
        "pending_action": pending.action if pending else None,
        "due_at": pending.due_at if pending else None,
        "unit_id": view.unit_id or view.applicant.unit_id,
        "authority_chain": list(view.authority_chain),
        "orgs": _orgs(view),
        "level": view.level,
        "series": view.series,
        "route": view.route,
        "id_number": view.applicant.id_number,
        "at_risk": view.at_risk,
        "at_risk_from": view.at_risk_from,
        "version": view.version,
        "updated_at": view.updated_at,
        "view_json": view.model_dump_json(),
        "held": held,
    }
    statement = _upsert_statement(session.get_bind().dialect.name, tuple(values))
    # RETURNING yields the row only when it was inserted or updated (rowcount is not reliable
    # for a skipped ON CONFLICT DO UPDATE on every driver).
    written = session.connection().execute(statement, values).first() is not None
    if written:
        set_state(session, view.id, view.state)
    return written


def get_view(session: Session, declaration_id: str) -> DeclarationView | None:
    """The stored view of a declaration, or None."""
    text = session.exec(
        select(DeclarationRead.view_json).where(DeclarationRead.declaration_id == declaration_id)
    ).first()
    return None if text is None else DeclarationView.model_validate_json(text)


def get_held(session: Session, declaration_id: str) -> dict[str, Any] | None:
    """The stored time-held figures of a declaration, or None."""
    row = session.get(DeclarationRead, declaration_id)
    return None if row is None else dict(row.held)
