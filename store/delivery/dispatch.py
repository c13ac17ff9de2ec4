"""Dispatching: due notifications become one delivery per channel, addressed, or are held back
(a repeat of one the person had, or outdated)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from domain.reminders import REPEATABLE_KINDS, Notice, notice_seq, unsent
from store.delivery.addresses import AddressBook, lookup_key
from store.delivery.tables import AUDIT, DELIVERY, NOTIFICATION, REGISTRY, UNSENT, locked


@dataclass(frozen=True)
class Dispatched:
    notifications: int
    no_address: int
    #: Notices not sent: a repeat of one the person had for the same stay, or outdated.
    held_back: int = 0


def _notice(row: Any) -> Notice | None:
    seq = notice_seq(row.key, row.declaration_id)
    if seq is None:
        return None
    recipient = (row.recipient_role, row.recipient_org, row.recipient_id)
    return Notice(row.key, row.declaration_id, seq, row.kind, recipient)


def _held_back(session: Session, due: Sequence[Any]) -> dict[str, str]:
    """The notices among ``due`` not to send, with why (:func:`domain.reminders.unsent`): two
    queries, only when the batch holds notices of the kinds that can repeat."""
    candidates = [n for n in map(_notice, due) if n is not None and n.kind in REPEATABLE_KINDS]
    if not candidates:
        return {}
    declarations = sorted({n.declaration_id for n in candidates})
    c = NOTIFICATION.c
    earlier = session.execute(
        sa.select(
            c.key, c.declaration_id, c.kind, c.recipient_role, c.recipient_org, c.recipient_id
        ).where(
            c.declaration_id.in_(declarations),
            c.kind.in_(sorted(REPEATABLE_KINDS)),
            c.status.in_(["dispatched", *UNSENT]),
        )
    ).all()
    a = AUDIT.c
    changes: dict[str, list[int]] = {}
    for declaration_id, seq in session.execute(
        sa.select(a.declaration_id, a.seq).where(
            a.declaration_id.in_(declarations),
            a.outcome == "accepted",
            sa.or_(a.stage_before.is_(None), a.stage_before != a.stage_after),
        )
    ).all():
        changes.setdefault(declaration_id, []).append(seq)
    known = [n for n in map(_notice, earlier) if n is not None]
    return unsent(candidates, known, changes)


def dispatch_due(
    session: Session,
    *,
    now: datetime,
    channels: Mapping[str, str],
    limit: int,
) -> Dispatched:
    """Turn up to ``limit`` due notifications into deliveries, one per channel of ``channels``
    (channel → its fixed address, e.g. the webhook's URL; ``""`` for e-mail, addressed per
    recipient). Oldest due first; rows another sender is dispatching are skipped."""
    if not channels:
        return Dispatched(0, 0)
    n = NOTIFICATION.c
    found = session.execute(
        locked(
            sa.select(
                n.id,
                n.key,
                n.declaration_id,
                n.kind,
                n.recipient_role,
                n.recipient_org,
                n.recipient_id,
            )
            .where(n.status == "pending", n.send_after <= now)
            .order_by(n.send_after, n.id)
            .limit(limit),
            session,
        )
    ).all()
    if not found:
        return Dispatched(0, 0)
    held = _held_back(session, found)
    for reason in UNSENT:
        ids = [r.id for r in found if held.get(r.key) == reason]
        if ids:
            session.execute(sa.update(NOTIFICATION).where(n.id.in_(ids)).values(status=reason))
    due = [r for r in found if r.key not in held]
    if not due:
        return Dispatched(len(found), 0, len(held))
    declarations = sorted({row.declaration_id for row in due})
    campaigns = dict(
        session.execute(
            sa.select(REGISTRY.c.declaration_id, REGISTRY.c.campaign_id).where(
                REGISTRY.c.declaration_id.in_(declarations)
            )
        ).all()
    )
    book = AddressBook.load(
        session, declarations, {lookup_key(r.recipient_role, r.recipient_org) for r in due}
    )
    keys = [row.key for row in due]
    present = set(
        session.execute(
            sa.select(DELIVERY.c.notification_key, DELIVERY.c.channel).where(
                DELIVERY.c.notification_key.in_(keys)
            )
        ).all()
    )
    rows: list[dict[str, Any]] = []
    missing = 0
    for row in due:
        for channel, fixed in channels.items():
            if (row.key, channel) in present:
                continue
            address = fixed or book.lookup(
                role=row.recipient_role, org=row.recipient_org, declaration_id=row.declaration_id
            )
            if not address:
                missing += 1
            rows.append(
                {
                    "notification_key": row.key,
                    "declaration_id": row.declaration_id,
                    "campaign_id": campaigns.get(row.declaration_id, ""),
                    "channel": channel,
                    "address": address or "",
                    "status": "pending" if address else "no_address",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "claimed_by": "",
                    "last_error": "" if address else _no_address(row),
                    "created_at": now,
                }
            )
    if rows:
        session.execute(sa.insert(DELIVERY), rows)
    session.execute(
        sa.update(NOTIFICATION).where(n.id.in_([row.id for row in due])).values(status="dispatched")
    )
    return Dispatched(len(found), missing, len(held))


def _no_address(row: Any) -> str:
    if row.recipient_role == "applicant":
        return (
            f"申报 {row.declaration_id} 未填写申报人邮箱 / the declaration has no applicant e-mail"
        )
    who = row.recipient_org or row.recipient_role
    return f"{who} 未登记邮箱 / no e-mail address registered for {who}"
