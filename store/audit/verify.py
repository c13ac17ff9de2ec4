"""Verifying the audit trail: every chain walked in ``seq`` order, every hash recomputed, every
link checked, each chain compared with its signed checkpoint and with the read model."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from store.audit.append import _TABLE, _VERIFY_COLUMNS
from store.audit.canonical import (
    _ENCODER,
    CANONICAL_FIELDS,
    GENESIS_HASH,
    ChainCheck,
    canonical_instant,
)
from store.audit.heads import AuditHead, Head, head_problem, load_heads, signer_of
from store.signing import Signer
from store.tables import DeclarationRead

__all__ = ["ChainReport", "Progress", "check_chains", "count_chains", "verify"]

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


def _check_end(
    chain: str,
    count: int,
    last_hash: str | None,
    version: int,
    head: Head | None,
    signer: Signer,
) -> None:
    """A walked chain against its signed checkpoint, then against the read model."""
    problem = head_problem(head, count, last_hash, signer)
    if problem is not None:
        raise _Break(chain, *problem)
    _check_length(chain, count, version)


def _scan(
    rows: Iterable[Sequence[Any]],
    versions: Mapping[str, int],
    heads: Mapping[str, Head],
    signer: Signer,
    progress: Progress | None,
) -> ChainReport:
    """Walk rows ordered by (declaration_id, seq), hashing as they stream past."""
    checked = chains = count = 0
    current: str | None = None
    expected_prev = GENESIS_HASH
    seen: set[str] = set()

    def close(chain: str, n: int, last: str | None) -> None:
        _check_end(chain, n, last, versions.get(chain, 0), heads.get(chain), signer)
        if progress is not None:
            progress(chain, n)

    try:
        for row in rows:
            if row[_DECLARATION] != current:
                if current is not None:
                    close(current, count, expected_prev)
                    chains += 1
                current, count, expected_prev = row[_DECLARATION], 0, GENESIS_HASH
                seen.add(current)
            _check_row(row, count + 1, expected_prev)
            count += 1
            checked += 1
            expected_prev = row[_HASH]
        if current is not None:
            close(current, count, expected_prev)
            chains += 1
        # Chains the read model or a checkpoint knows but whose every event is gone.
        for chain in sorted((set(versions) | set(heads)) - seen):
            close(chain, 0, None)
            chains += 1
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
    heads = load_heads(session, chain=declaration_id, campaign_id=campaign_id)
    query = sa.select(*_VERIFY_COLUMNS).where(where).order_by(*order)
    result = connection.execution_options(yield_per=VERIFY_BATCH).execute(query)
    try:
        return _scan(result, versions, heads, signer_of(session), progress)
    finally:
        result.close()


def count_chains(session: Session, *, campaign_id: str) -> int:
    """How many chains :func:`check_chains` walks for a campaign (for a progress bar)."""
    read = DeclarationRead.__table__  # type: ignore[attr-defined]
    heads = AuditHead.__table__  # type: ignore[attr-defined]
    ids = sa.union(
        sa.select(_TABLE.c.declaration_id).where(_TABLE.c.campaign_id == campaign_id),
        sa.select(read.c.declaration_id).where(read.c.campaign_id == campaign_id),
        sa.select(heads.c.chain).where(heads.c.campaign_id == campaign_id),
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
    ``hash`` (64 zeros for ``seq`` 1). Its end must be its signed checkpoint
    (:mod:`store.audit.heads`): the checkpoint's signature must verify with the service's key,
    and the chain must end at the checkpoint's ``seq`` and ``hash``; a chain shorter than its
    checkpoint lost its tail (``first_bad_seq``: the first missing one, n + 1), a longer one
    gained events the service did not write (the first of them), a chain without a checkpoint
    was not written by the service (1). A chain must also be as long as the read model says:
    the declaration's ``declaration_read.version`` is the ``seq`` of the last event its view
    reflects, written in the same transaction, so a shorter chain lost its tail, and a
    declaration the read model knows with no event left at all is bad at ``seq`` 1. Longer than
    ``version`` is fine (refused attempts are appended without a new view).

    ``checked`` counts the events found good before the first bad one. A campaign's chains are
    walked in ``declaration_id`` order (the database's), then those with no event left;
    ``first_bad_declaration_id`` names the chain of the first bad event. Rows stream through a
    server-side cursor as plain tuples, so memory stays flat on any size of trail.
    """
    return check_chains(session, declaration_id=declaration_id, campaign_id=campaign_id).check()
