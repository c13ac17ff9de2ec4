"""Claiming deliveries for one sender under a lease, marking them sent or failed (retried with
backoff, or dead), when the outbox next falls due, and queueing failures again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from domain.reminders import after_failure, retry_delay
from store.delivery.addresses import AddressBook, lookup_key
from store.delivery.tables import DELIVERY, NOTIFICATION, SENDABLE, locked


@dataclass(frozen=True)
class Claimed:
    """A delivery one sender holds, with what its message is made of."""

    id: int
    key: str
    channel: str
    address: str
    attempts: int
    declaration_id: str
    campaign_id: str
    recipient_role: str
    recipient_org: str
    recipient_id: str
    kind: str
    text: str
    send_after: datetime


def claim(
    session: Session, *, now: datetime, token: str, lease: timedelta, limit: int
) -> list[Claimed]:
    """Claim up to ``limit`` deliveries that may be tried at ``now`` (due, or held by a claim
    whose lease has ended) for ``token``, counting the attempt. Earliest first."""
    d = DELIVERY.c
    candidates = locked(
        sa.select(d.id)
        .where(
            sa.or_(
                sa.and_(d.status.in_(SENDABLE), d.next_attempt_at <= now),
                sa.and_(d.status == "sending", d.claimed_until <= now),
            )
        )
        .order_by(d.next_attempt_at, d.id)
        .limit(limit),
        session,
    )
    ids = list(
        session.execute(
            sa.update(DELIVERY)
            .where(d.id.in_(candidates.scalar_subquery()))
            .values(
                status="sending",
                claimed_by=token,
                claimed_until=now + lease,
                attempts=d.attempts + 1,
            )
            .returning(d.id)
        ).scalars()
    )
    if not ids:
        return []
    n = NOTIFICATION.c
    rows = session.execute(
        sa.select(
            d.id,
            d.notification_key,
            d.channel,
            d.address,
            d.attempts,
            d.declaration_id,
            d.campaign_id,
            n.recipient_role,
            n.recipient_org,
            n.recipient_id,
            n.kind,
            n.text,
            n.send_after,
        )
        .join(NOTIFICATION, n.key == d.notification_key)
        .where(d.id.in_(ids))
        .order_by(d.next_attempt_at, d.id)
    ).all()
    return [
        Claimed(
            id=r.id,
            key=r.notification_key,
            channel=r.channel,
            address=r.address,
            attempts=r.attempts,
            declaration_id=r.declaration_id,
            campaign_id=r.campaign_id,
            recipient_role=r.recipient_role,
            recipient_org=r.recipient_org,
            recipient_id=r.recipient_id,
            kind=r.kind,
            text=r.text,
            send_after=r.send_after,
        )
        for r in rows
    ]


def mark_sent(session: Session, ids: Sequence[int], *, token: str, at: datetime) -> int:
    """Mark these deliveries sent, where ``token`` still holds them; returns how many."""
    if not ids:
        return 0
    d = DELIVERY.c
    result = session.connection().execute(
        sa.update(DELIVERY)
        .where(d.id.in_(list(ids)), d.claimed_by == token, d.status == "sending")
        .values(status="sent", sent_at=at, claimed_by="", claimed_until=None, last_error="")
    )
    return int(result.rowcount)


@dataclass(frozen=True)
class Failure:
    id: int
    #: The attempts made so far, this one included (from the claim).
    attempts: int
    error: str
    #: The server refused the address itself: no retry can help.
    permanent: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base: timedelta
    cap: timedelta


MAX_ERROR = 1000


def mark_failed(
    session: Session,
    failures: Sequence[Failure],
    *,
    token: str,
    now: datetime,
    policy: RetryPolicy,
) -> dict[str, int]:
    """Record failed attempts: ``retrying`` with the next attempt's instant (the backoff counted
    from ``now``), or ``dead``. Returns how many became each (only those ``token`` still held)."""
    d = DELIVERY.c
    counts = {"retrying": 0, "dead": 0}
    for failure in failures:
        status = after_failure(
            failure.attempts, max_attempts=policy.max_attempts, permanent=failure.permanent
        )
        delay = retry_delay(failure.attempts, base=policy.base, cap=policy.cap)
        result = session.connection().execute(
            sa.update(DELIVERY)
            .where(d.id == failure.id, d.claimed_by == token, d.status == "sending")
            .values(
                status=status,
                next_attempt_at=now + delay,
                claimed_by="",
                claimed_until=None,
                last_error=failure.error[:MAX_ERROR],
            )
        )
        counts[status] += int(result.rowcount)
    return counts


def next_due(session: Session) -> datetime | None:
    """The earliest instant anything in the outbox falls due: a pending notification, a delivery
    to try (again), or a claim whose lease ends."""
    n, d = NOTIFICATION.c, DELIVERY.c
    instants = [
        session.execute(sa.select(sa.func.min(n.send_after)).where(n.status == "pending")),
        session.execute(sa.select(sa.func.min(d.next_attempt_at)).where(d.status.in_(SENDABLE))),
        session.execute(sa.select(sa.func.min(d.claimed_until)).where(d.status == "sending")),
    ]
    present = [value for value in (r.scalar() for r in instants) if value is not None]
    return min(present) if present else None


def requeue(
    session: Session, *, campaign_id: str, now: datetime, statuses: Sequence[str]
) -> dict[str, int]:
    """Send again what failed (``dead``) or had no address (``no_address``) in a campaign: the
    addresses are looked up again, the attempts start afresh. Returns how many were queued
    again and how many still have no address."""
    d, n = DELIVERY.c, NOTIFICATION.c
    rows = session.execute(
        sa.select(d.id, d.channel, d.address, d.declaration_id, n.recipient_role, n.recipient_org)
        .join(NOTIFICATION, n.key == d.notification_key)
        .where(d.campaign_id == campaign_id, d.status.in_(list(statuses)))
    ).all()
    book = AddressBook.load(
        session,
        {r.declaration_id for r in rows},
        {lookup_key(r.recipient_role, r.recipient_org) for r in rows},
    )
    queued, still_missing = 0, 0
    for r in rows:
        address = r.address
        if r.channel == "email":
            address = (
                book.lookup(
                    role=r.recipient_role, org=r.recipient_org, declaration_id=r.declaration_id
                )
                or ""
            )
        if not address:
            still_missing += 1
            continue
        session.execute(
            sa.update(DELIVERY)
            .where(d.id == r.id, d.status.in_(list(statuses)))
            .values(
                status="pending", address=address, attempts=0, next_attempt_at=now, last_error=""
            )
        )
        queued += 1
    return {"queued": queued, "no_address": still_missing}
