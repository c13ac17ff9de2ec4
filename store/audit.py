"""The audit trail's hash chain (domain.md §8, api.md "Audit store").

Each declaration's events form one chain ordered by ``seq`` (1, 2, 3, …). Every row carries the
hash of the row before it (``prev_hash``; 64 zeros for ``seq`` 1) and its own ``hash``:

    hash = sha256(canonical_bytes(row)).hexdigest()

**Canonical form.** ``canonical_bytes`` serialises one JSON object holding exactly these fifteen
keys, every column of ``audit_event`` except ``id`` and ``hash``:

    declaration_id, campaign_id, seq, at, actor_id, actor_role, actor_org, action,
    stage_before, stage_after, outcome, opinion, reasons, detail, prev_hash

- keys sorted (at every depth), no whitespace (separators ``","`` and ``":"``), non-ASCII
  characters written as themselves (``ensure_ascii=False``), encoded as UTF-8;
- ``seq`` is a JSON integer; ``stage_before`` / ``stage_after`` are a string or ``null``;
- ``at`` is the instant in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fractional
  digits and a literal ``Z``), e.g. ``"2024-09-25T02:00:00.000000Z"`` for 10:00 Beijing time;
- ``reasons`` (a list of strings) and ``detail`` (an object) are JSON *values*, not the JSON text
  the columns store; the columns store them in this same canonical form, so an auditor can
  recompute every hash from the table alone.

An auditor verifies a declaration by walking its rows in ``seq`` order: ``seq`` runs 1..n without
a gap, each ``prev_hash`` equals the previous row's ``hash``, and each ``hash`` equals the hash of
the row's canonical bytes (:func:`verify`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.models import AuditEventIn
from store.db import advisory_xact_lock
from store.errors import AuditConflict, AuditGap
from store.tables import AuditEvent, utc

__all__ = [
    "CANONICAL_FIELDS",
    "GENESIS_HASH",
    "AuditConflict",
    "AuditGap",
    "ChainCheck",
    "append_events",
    "canonical_bytes",
    "canonical_instant",
    "event_hash",
    "events_of",
    "row_dict",
    "verify",
]

GENESIS_HASH = "0" * 64

CANONICAL_FIELDS: tuple[str, ...] = (
    "declaration_id",
    "campaign_id",
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "actor_org",
    "action",
    "stage_before",
    "stage_after",
    "outcome",
    "opinion",
    "reasons",
    "detail",
    "prev_hash",
)


class ChainCheck(BaseModel):
    """``GET /audit/verify``: ``ok``, how many events were checked and the first bad one."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_declaration_id: str | None = None


def canonical_instant(at: datetime) -> str:
    """``at`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return utc(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash covers (see the module docstring). ``event`` holds the fifteen
    canonical fields (extra keys such as ``id`` and ``hash`` are ignored); ``at`` may be a
    datetime or already-canonical text, ``reasons``/``detail`` values or their JSON text."""
    missing = [name for name in CANONICAL_FIELDS if name not in event]
    if missing:
        raise ValueError(f"audit event lacks {', '.join(missing)}")
    body = {name: event[name] for name in CANONICAL_FIELDS}
    if isinstance(body["at"], datetime):
        body["at"] = canonical_instant(body["at"])
    for name in ("reasons", "detail"):
        if isinstance(body[name], str):
            body[name] = json.loads(body[name])
    return _dumps(body).encode("utf-8")


def event_hash(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def row_dict(row: AuditEvent) -> dict[str, Any]:
    """A stored row as the canonical mapping (plus ``hash``)."""
    out = {name: getattr(row, name) for name in CANONICAL_FIELDS}
    out["at"] = canonical_instant(row.at)
    out["reasons"] = json.loads(row.reasons)
    out["detail"] = json.loads(row.detail)
    out["hash"] = row.hash
    return out


def _incoming_dict(event: AuditEventIn) -> dict[str, Any]:
    data = event.model_dump(mode="json")
    data["at"] = canonical_instant(event.at)
    return data


def _content(data: Mapping[str, Any]) -> dict[str, Any]:
    """What identifies an event's content: the canonical fields other than ``prev_hash``."""
    return {name: data[name] for name in CANONICAL_FIELDS if name != "prev_hash"}


def events_of(session: Session, declaration_id: str) -> list[AuditEvent]:
    """A declaration's trail, oldest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.declaration_id == declaration_id)
        .order_by(col(AuditEvent.seq))
    )
    return list(session.exec(query))


def _hash_at(session: Session, declaration_id: str, seq: int) -> str | None:
    query = select(AuditEvent.hash).where(
        AuditEvent.declaration_id == declaration_id, AuditEvent.seq == seq
    )
    return session.exec(query).first()


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
    written = present = 0
    for declaration_id, batch in by_declaration.items():
        batch.sort(key=lambda e: e.seq)
        seqs = [e.seq for e in batch]
        if len(set(seqs)) != len(seqs):
            raise AuditConflict(f"declaration {declaration_id}: batch repeats a sequence number")
        stored = {
            row.seq: row
            for row in session.exec(
                select(AuditEvent).where(
                    AuditEvent.declaration_id == declaration_id,
                    col(AuditEvent.seq).in_(seqs),
                )
            )
        }
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
                prev = _hash_at(session, declaration_id, event.seq - 1)
                if prev is None:
                    raise AuditGap(
                        f"declaration {declaration_id}: event {event.seq - 1} is not recorded "
                        f"yet, so event {event.seq} cannot be chained"
                    )
            assert prev is not None
            incoming["prev_hash"] = prev
            digest = event_hash(incoming)
            session.add(
                AuditEvent(
                    declaration_id=event.declaration_id,
                    campaign_id=event.campaign_id,
                    seq=event.seq,
                    at=event.at,
                    actor_id=event.actor_id,
                    actor_role=event.actor_role,
                    actor_org=event.actor_org,
                    action=event.action,
                    stage_before=event.stage_before,
                    stage_after=event.stage_after,
                    outcome=event.outcome,
                    opinion=event.opinion,
                    reasons=_dumps(incoming["reasons"]),
                    detail=_dumps(incoming["detail"]),
                    prev_hash=prev,
                    hash=digest,
                )
            )
            written += 1
            prev, prev_seq = digest, event.seq
    session.flush()
    return written, present


def _check_chain(rows: list[AuditEvent]) -> int | None:
    """The first bad ``seq`` of one declaration's rows (oldest first), or None."""
    expected_prev = GENESIS_HASH
    for expected_seq, row in enumerate(rows, start=1):
        data = row_dict(row)
        if (
            row.seq != expected_seq
            or row.prev_hash != expected_prev
            or event_hash(data) != row.hash
        ):
            return expected_seq if row.seq > expected_seq else row.seq
        expected_prev = row.hash
    return None


def verify(
    session: Session, *, declaration_id: str | None = None, campaign_id: str | None = None
) -> ChainCheck:
    """Recompute the chains of one declaration or of every declaration of a campaign."""
    if (declaration_id is None) == (campaign_id is None):
        raise ValueError("verify one declaration_id or one campaign_id")
    if declaration_id is not None:
        ids = [declaration_id]
    else:
        ids = list(
            session.exec(
                select(AuditEvent.declaration_id)
                .where(AuditEvent.campaign_id == campaign_id)
                .group_by(col(AuditEvent.declaration_id))
                .order_by(func.min(AuditEvent.id))
            )
        )
    checked = 0
    for current in ids:
        rows = events_of(session, current)
        bad = _check_chain(rows)
        if bad is not None:
            return ChainCheck(
                ok=False,
                checked=checked + sum(1 for r in rows if r.seq < bad),
                first_bad_seq=bad,
                first_bad_declaration_id=current,
            )
        checked += len(rows)
    return ChainCheck(ok=True, checked=checked)
