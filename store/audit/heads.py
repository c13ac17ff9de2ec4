"""Signed checkpoints: the head of every chain, kept beside it (``audit_head``), so that a deleted
tail shows.

A chain that loses its last events is still a perfectly linked chain, just shorter; no hash in
it can tell. So every transaction that appends to a chain also moves its checkpoint, in the same
transaction: ``(chain, campaign_id, seq, hash)`` of its last event, signed with the service's
Ed25519 key (:mod:`store.signing`) over :func:`head_message`. Verification then compares each
chain with its checkpoint (:func:`head_problem`): a chain shorter than its checkpoint lost its
tail; one longer gained events the service did not write; a head hash that differs was
rewritten; a checkpoint whose signature fails, or a chain without one, was forged or removed.
Nobody without the signing key (kept outside the database) can write a checkpoint that
verifies, so deleting a tail means forging a signature or rolling the checkpoint back to an
older one of the same chain, which the table's triggers refuse (no DELETE; an UPDATE must move
``seq`` forward) unless they are bypassed too. ``docs/audit.md`` says exactly what is and is not
detected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

from store.db import SIGNER_KEY
from store.errors import AuditConflict
from store.signing import Signer

__all__ = [
    "AuditHead",
    "Head",
    "head_message",
    "head_problem",
    "load_heads",
    "move_heads",
    "signer_of",
]


class AuditHead(SQLModel, table=True):
    """One chain's signed checkpoint: the ``seq`` and ``hash`` of its last event."""

    __tablename__ = "audit_head"

    chain: str = Field(primary_key=True, max_length=100)
    campaign_id: str = Field(max_length=100, index=True)
    seq: int
    hash: str = Field(max_length=64)
    key_id: str = Field(max_length=32)
    signature: str = Field(max_length=100)


_TABLE = AuditHead.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Head:
    chain: str
    campaign_id: str
    seq: int
    hash: str
    key_id: str
    signature: str


def head_message(chain: str, campaign_id: str, seq: int, digest: str) -> bytes:
    """The bytes a checkpoint's signature covers (UTF-8):
    ``review-chain audit head v1\\n<chain>\\n<campaign_id>\\n<seq>\\n<hash>``."""
    return f"review-chain audit head v1\n{chain}\n{campaign_id}\n{seq}\n{digest}".encode()


def signer_of(session: Session) -> Signer:
    signer = session.info.get(SIGNER_KEY)
    if not isinstance(signer, Signer):
        raise RuntimeError("audit rows are written through Store.session(), which signs them")
    return signer


def move_heads(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Move the checkpoint of every chain ``rows`` append to (rows made by
    ``store.audit.append.chain_rows``, already inserted in this transaction) to its last row.
    A checkpoint ahead of the rows means events of that chain were deleted: nothing is written
    over it (:class:`AuditConflict`)."""
    last: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        seen = last.get(row["declaration_id"])
        if seen is None or row["seq"] > seen["seq"]:
            last[row["declaration_id"]] = row
    if not last:
        return
    signer = signer_of(session)
    connection = session.connection()
    for chain, row in last.items():
        values = {
            "campaign_id": row["campaign_id"],
            "seq": row["seq"],
            "hash": row["hash"],
            "key_id": signer.key_id,
            "signature": signer.sign(
                head_message(chain, row["campaign_id"], row["seq"], row["hash"])
            ),
        }
        moved = connection.execute(
            sa.update(_TABLE)
            .where(_TABLE.c.chain == chain, _TABLE.c.seq < row["seq"])
            .values(**values)
        )
        if moved.rowcount:
            continue
        ahead = connection.execute(
            sa.select(_TABLE.c.seq).where(_TABLE.c.chain == chain)
        ).scalar_one_or_none()
        if ahead is not None:
            raise AuditConflict(
                f"chain {chain}: its signed checkpoint names event {ahead}, but event "
                f"{row['seq']} is being appended: events were deleted behind the service; "
                "verify the trail (python cli.py audit verify)"
            )
        connection.execute(sa.insert(_TABLE).values(chain=chain, **values))


def load_heads(
    session: Session, *, chain: str | None = None, campaign_id: str | None = None
) -> dict[str, Head]:
    """The checkpoints of one chain or of every chain of a campaign, by chain."""
    query = sa.select(*(_TABLE.c[name] for name in Head.__dataclass_fields__))
    if chain is not None:
        query = query.where(_TABLE.c.chain == chain)
    else:
        query = query.where(_TABLE.c.campaign_id == campaign_id)
    return {row.chain: Head(**row._mapping) for row in session.connection().execute(query)}


def head_problem(
    head: Head | None, count: int, last_hash: str | None, signer: Signer
) -> tuple[int, str] | None:
    """``(first bad seq, why)`` when a chain of ``count`` events ending in ``last_hash`` does
    not match its checkpoint; None when it does."""
    if head is None:
        if count == 0:
            return None
        return 1, "the chain has no signed checkpoint: it was not written by the service"
    message = head_message(head.chain, head.campaign_id, head.seq, head.hash)
    if not signer.verify(head.key_id, message, head.signature):
        return (
            min(head.seq, count + 1),
            f"the chain's checkpoint (event {head.seq}) is not signed by a trusted key "
            f"(key {head.key_id}): it was forged or altered",
        )
    if count < head.seq:
        missing = "event" if count + 1 == head.seq else "events"
        span = f"{count + 1}" if count + 1 == head.seq else f"{count + 1}..{head.seq}"
        return (
            count + 1,
            f"{missing} {span} missing: the signed checkpoint names event {head.seq}, "
            f"the trail holds {count}",
        )
    if count > head.seq:
        return (
            head.seq + 1,
            f"events {head.seq + 1}..{count} follow the signed checkpoint (event {head.seq}): "
            "they were not written by the service",
        )
    if last_hash != head.hash:
        return head.seq, f"event {head.seq} is not the one the signed checkpoint names"
    return None
