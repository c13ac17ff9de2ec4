"""Appending to the audit trail: chaining new events to the stored tail, idempotently, and moving
each chain's signed checkpoint in the same transaction (:mod:`store.audit.heads`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from domain.models import AuditEventIn
from store.audit.canonical import (
    CANONICAL_FIELDS,
    GENESIS_HASH,
    _content,
    _dumps,
    _incoming_dict,
    event_hash,
    row_dict,
)
from store.audit.heads import move_heads
from store.db import advisory_xact_lock
from store.errors import AuditConflict, AuditGap
from store.tables import AuditEvent

__all__ = ["append_events", "chain_rows", "insert_rows", "tail_rows"]

_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]
#: The columns read back from the trail, in this order: the fifteen canonical fields, then
#: ``hash`` (plain rows with attribute access, no ORM objects).
_VERIFY_COLUMNS = tuple(_TABLE.c[name] for name in (*CANONICAL_FIELDS, "hash"))
_INSERT = sa.insert(_TABLE)


_TAILS: dict[tuple[bool, int], tuple[Any, Any]] = {}


def tail_rows(
    session: Session,
    declaration_id: str,
    from_seq: int | None,
    *,
    also: ColumnElement[bool] | None = None,
) -> Sequence[sa.Row[Any]]:
    """One query: a declaration's stored rows from ``from_seq`` on (none when None), plus those
    matching ``also``, oldest first, as plain rows of :data:`_VERIFY_COLUMNS`. The statement is
    built once per shape (``also`` is expected to be a module-level condition)."""
    if from_seq is None and also is None:
        return []
    key = (from_seq is not None, id(also))
    cached = _TAILS.get(key)
    if cached is None or cached[0] is not also:
        conditions: list[ColumnElement[bool]] = []
        if from_seq is not None:
            conditions.append(_TABLE.c.seq >= sa.bindparam("from_seq"))
        if also is not None:
            conditions.append(also)
        statement = (
            sa.select(*_VERIFY_COLUMNS)
            .where(_TABLE.c.declaration_id == sa.bindparam("declaration_id"), sa.or_(*conditions))
            .order_by(_TABLE.c.seq)
        )
        cached = _TAILS[key] = (also, statement)
    params: dict[str, Any] = {"declaration_id": declaration_id}
    if from_seq is not None:
        params["from_seq"] = from_seq
    return session.connection().execute(cached[1], params).all()


def chain_rows(
    declaration_id: str, events: Iterable[AuditEventIn], stored: Mapping[int, Any]
) -> tuple[list[dict[str, Any]], int]:
    """The rows to insert for ``events`` (one declaration's) and how many are already present.

    ``stored`` holds every stored row of the declaration from the predecessor of the first event
    on (:func:`tail_rows`), by ``seq``. An event stored with the same content is present; with
    different content it is an :class:`AuditConflict`; one whose predecessor is neither stored
    nor in the batch is an :class:`AuditGap`. Pure: the caller writes the rows."""
    batch = sorted(events, key=lambda e: e.seq)
    seqs = [e.seq for e in batch]
    if len(set(seqs)) != len(seqs):
        raise AuditConflict(f"declaration {declaration_id}: batch repeats a sequence number")
    rows: list[dict[str, Any]] = []
    present = 0
    prev: str | None = None
    prev_seq: int | None = None
    for event in batch:
        incoming = _incoming_dict(event)
        row = stored.get(event.seq)
        if row is not None:
            if _content(row_dict(row)) != _content(incoming):
                raise AuditConflict(
                    f"declaration {declaration_id}: event {event.seq} is already recorded "
                    "with different content; the audit trail is append-only"
                )
            present += 1
            prev, prev_seq = row.hash, event.seq
            continue
        if event.seq == 1:
            prev = GENESIS_HASH
        elif prev_seq != event.seq - 1:
            before = stored.get(event.seq - 1)
            prev = None if before is None else before.hash
            if prev is None:
                raise AuditGap(
                    f"declaration {declaration_id}: event {event.seq - 1} is not recorded "
                    f"yet, so event {event.seq} cannot be chained"
                )
        assert prev is not None
        incoming["prev_hash"] = prev
        digest = event_hash(incoming)
        rows.append(
            {
                **incoming,
                "at": event.at,
                "reasons": _dumps(incoming["reasons"]),
                "detail": _dumps(incoming["detail"]),
                "hash": digest,
            }
        )
        prev, prev_seq = digest, event.seq
    return rows, present


def insert_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write rows made by :func:`chain_rows` (one statement), and move their chains' signed
    checkpoints to them (:func:`store.audit.heads.move_heads`), in the caller's transaction."""
    if rows:
        session.connection().execute(_INSERT, list(rows))
        move_heads(session, rows)


def append_events(session: Session, events: Iterable[AuditEventIn]) -> tuple[int, int]:
    """Append events to their declarations' chains; returns ``(written, already_present)``.

    Idempotent by (declaration_id, seq): an event already stored with the same content is
    skipped; one stored with different content raises :class:`AuditConflict`; an event whose
    predecessor (``seq - 1``) is missing raises :class:`AuditGap`. Writers of one declaration are
    serialised (advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so the chain never
    forks. Runs inside the caller's transaction: nothing is written unless it all is.
    """
    by_declaration: dict[str, list[AuditEventIn]] = {}
    for event in events:
        by_declaration.setdefault(event.declaration_id, []).append(event)
    advisory_xact_lock(session, *(f"audit:{d}" for d in by_declaration))
    rows: list[dict[str, Any]] = []
    present = 0
    for declaration_id, batch in by_declaration.items():
        first = min(e.seq for e in batch)
        stored = {r.seq: r for r in tail_rows(session, declaration_id, first - 1)}
        chained, already = chain_rows(declaration_id, batch, stored)
        rows.extend(chained)
        present += already
    insert_rows(session, rows)
    return len(rows), present
