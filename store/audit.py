"""The audit trail's hash chain (docs/rules.md §8, §18).

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
the row's canonical bytes (:func:`verify`). A deleted *last* event leaves a shorter chain that is
still consistent, so the chain's length is also checked against the read model, which records in
the same transaction the ``seq`` of the last event each view reflects (``declaration_read.version``).
``docs/audit.md`` describes the whole scheme for auditors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from domain.models import AuditEventIn
from store.db import advisory_xact_lock
from store.errors import AuditConflict, AuditGap
from store.tables import AuditEvent, DeclarationRead, utc

__all__ = [
    "CANONICAL_FIELDS",
    "GENESIS_HASH",
    "AuditConflict",
    "AuditGap",
    "ChainCheck",
    "ChainReport",
    "Progress",
    "append_events",
    "canonical_bytes",
    "canonical_instant",
    "chain_rows",
    "check_chains",
    "count_chains",
    "event_hash",
    "events_of",
    "insert_rows",
    "row_dict",
    "tail_rows",
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


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


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


def row_dict(row: Any) -> dict[str, Any]:
    """A stored row (an :class:`AuditEvent` or a plain row of its columns) as the canonical
    mapping (plus ``hash``)."""
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
    """Write rows made by :func:`chain_rows` (one statement)."""
    if rows:
        session.connection().execute(_INSERT, list(rows))


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


# --------------------------------------------------------------------------- verification

#: Rows fetched per round trip while verifying (a server-side cursor on PostgreSQL).
VERIFY_BATCH = 5_000

_DECLARATION = CANONICAL_FIELDS.index("declaration_id")
_SEQ = CANONICAL_FIELDS.index("seq")
_PREV = CANONICAL_FIELDS.index("prev_hash")
_HASH = len(CANONICAL_FIELDS)

#: Called after each chain is walked with ``(declaration_id, events in it)``.
Progress = Callable[[str, int], None]


class ChainReport(ChainCheck):
    """A :class:`ChainCheck` plus what an auditor reads next: why the first bad event is bad and
    how many chains were walked. :func:`verify` answers the contract; the CLI prints this."""

    problem: str | None = None
    chains: int = 0

    def check(self) -> ChainCheck:
        return ChainCheck(
            ok=self.ok,
            checked=self.checked,
            first_bad_seq=self.first_bad_seq,
            first_bad_declaration_id=self.first_bad_declaration_id,
        )


class _Break(Exception):
    """The first bad event of a chain (control flow inside :func:`_scan` only)."""

    def __init__(self, declaration_id: str, seq: int, problem: str) -> None:
        super().__init__(problem)
        self.declaration_id, self.seq, self.problem = declaration_id, seq, problem


def _span(first: int, last: int) -> str:
    return f"event {first}" if first == last else f"events {first}..{last}"


def _row_bytes(row: Sequence[Any]) -> bytes:
    """The canonical bytes of a row selected as ``_VERIFY_COLUMNS`` (a plain tuple, no ORM
    object): the same bytes :func:`canonical_bytes` gives, without its argument checks."""
    body = dict(zip(CANONICAL_FIELDS, row, strict=False))
    body["at"] = canonical_instant(body["at"])
    body["reasons"] = json.loads(body["reasons"])
    body["detail"] = json.loads(body["detail"])
    return _ENCODER.encode(body).encode("utf-8")


def _check_row(row: Sequence[Any], expected_seq: int, expected_prev: str) -> None:
    """Raise :class:`_Break` unless ``row`` is event ``expected_seq`` of its chain, intact and
    linked to ``expected_prev``."""
    declaration_id, seq = row[_DECLARATION], row[_SEQ]
    if seq != expected_seq:
        if seq > expected_seq:
            raise _Break(
                declaration_id,
                expected_seq,
                f"{_span(expected_seq, seq - 1)} missing (the next stored event is {seq})",
            )
        raise _Break(
            declaration_id, seq, f"event {seq} stored again after event {expected_seq - 1}"
        )
    try:
        data = _row_bytes(row)
    except (ValueError, TypeError) as err:  # e.g. reasons or detail overwritten with non-JSON
        raise _Break(declaration_id, seq, f"event {seq} altered: unreadable ({err})") from None
    if hashlib.sha256(data).hexdigest() != row[_HASH]:
        raise _Break(
            declaration_id, seq, f"event {seq} altered: its hash does not match its content"
        )
    if row[_PREV] != expected_prev:
        link = "the genesis value (64 zeros)" if seq == 1 else f"the hash of event {seq - 1}"
        raise _Break(
            declaration_id,
            seq,
            f"event {seq}: prev_hash is not {link}; the event before it was replaced",
        )


def _check_length(declaration_id: str, count: int, version: int) -> None:
    """The read model has seen ``version`` events of this chain; fewer stored means its tail (or
    all of it) was deleted. The first missing ``seq`` is the first bad one."""
    if count < version:
        raise _Break(
            declaration_id,
            count + 1,
            f"{_span(count + 1, version)} missing: the read model has seen {version} events, "
            f"the trail holds {count}",
        )


def _scan(
    rows: Iterable[Sequence[Any]], versions: Mapping[str, int], progress: Progress | None
) -> ChainReport:
    """Walk rows ordered by (declaration_id, seq), hashing as they stream past."""
    checked = chains = count = 0
    current: str | None = None
    expected_prev = GENESIS_HASH
    seen: set[str] = set()
    try:
        for row in rows:
            if row[_DECLARATION] != current:
                if current is not None:
                    _check_length(current, count, versions.get(current, 0))
                    chains += 1
                    if progress is not None:
                        progress(current, count)
                current, count, expected_prev = row[_DECLARATION], 0, GENESIS_HASH
                seen.add(current)
            _check_row(row, count + 1, expected_prev)
            count += 1
            checked += 1
            expected_prev = row[_HASH]
        if current is not None:
            _check_length(current, count, versions.get(current, 0))
            chains += 1
            if progress is not None:
                progress(current, count)
        # Declarations the read model knows but whose every event is gone.
        for declaration_id in sorted(set(versions) - seen):
            _check_length(declaration_id, 0, versions[declaration_id])
            chains += 1
            if progress is not None:
                progress(declaration_id, 0)
    except _Break as bad:
        return ChainReport(
            ok=False,
            checked=checked,
            first_bad_seq=bad.seq,
            first_bad_declaration_id=bad.declaration_id,
            problem=bad.problem,
            chains=chains,
        )
    return ChainReport(ok=True, checked=checked, chains=chains)


def check_chains(
    session: Session,
    *,
    declaration_id: str | None = None,
    campaign_id: str | None = None,
    progress: Progress | None = None,
) -> ChainReport:
    """Verify one declaration's chain or every chain of a campaign (see :func:`verify`), with the
    reason for the first bad event and an optional per-chain ``progress`` callback."""
    if (declaration_id is None) == (campaign_id is None):
        raise ValueError("verify one declaration_id or one campaign_id")
    read = DeclarationRead.__table__  # type: ignore[attr-defined]
    if declaration_id is not None:
        where = _TABLE.c.declaration_id == declaration_id
        order = [_TABLE.c.seq]
        scope = read.c.declaration_id == declaration_id
    else:
        where = _TABLE.c.campaign_id == campaign_id
        order = [_TABLE.c.declaration_id, _TABLE.c.seq]
        scope = read.c.campaign_id == campaign_id
    connection = session.connection()
    versions: dict[str, int] = {
        d: int(v)
        for d, v in connection.execute(
            sa.select(read.c.declaration_id, read.c.version).where(scope)
        )
    }
    query = sa.select(*_VERIFY_COLUMNS).where(where).order_by(*order)
    result = connection.execution_options(yield_per=VERIFY_BATCH).execute(query)
    try:
        return _scan(result, versions, progress)
    finally:
        result.close()


def count_chains(session: Session, *, campaign_id: str) -> int:
    """How many chains :func:`check_chains` walks for a campaign (for a progress bar)."""
    read = DeclarationRead.__table__  # type: ignore[attr-defined]
    ids = sa.union(
        sa.select(_TABLE.c.declaration_id).where(_TABLE.c.campaign_id == campaign_id),
        sa.select(read.c.declaration_id).where(read.c.campaign_id == campaign_id),
    ).subquery()
    return int(
        session.connection().execute(sa.select(sa.func.count()).select_from(ids)).scalar_one()
    )


def verify(
    session: Session, *, declaration_id: str | None = None, campaign_id: str | None = None
) -> ChainCheck:
    """Recompute the chain of one declaration, or of every declaration of a campaign
    (``GET /audit/verify``).

    Each chain is walked in ``seq`` order: ``seq`` must run 1..n without a gap, each ``hash``
    must be the hash of the row's canonical bytes, and each ``prev_hash`` the previous row's
    ``hash`` (64 zeros for ``seq`` 1). A chain must also be as long as the read model says: the
    declaration's ``declaration_read.version`` is the ``seq`` of the last event its view
    reflects, written in the same transaction as the events, so a chain shorter than that lost
    its tail (``first_bad_seq`` is then the first missing ``seq``: n + 1), and a declaration the
    read model knows with no event left at all is bad at ``seq`` 1. A longer chain is fine
    (refused attempts are appended without a new view).

    ``checked`` counts the events found good before the first bad one. A campaign's chains are
    walked in ``declaration_id`` order (the database's), then those with no event left;
    ``first_bad_declaration_id`` names the chain of the first bad event. Rows stream through a
    server-side cursor as plain tuples, so memory stays flat on any size of trail.
    """
    return check_chains(session, declaration_id=declaration_id, campaign_id=campaign_id).check()
