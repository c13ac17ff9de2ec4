"""What people see of the outbox: their reminders with each channel's fate, a campaign's
delivery figures and problems, and the figures ``/metrics`` samples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from store.delivery.tables import DELIVERY, NOTIFICATION, REGISTRY, SENDABLE, UNSENT

_D = DELIVERY.c
#: The columns that say how a delivery fared (:func:`_fate`).
_FATE = (_D.channel, _D.address, _D.status, _D.attempts, _D.last_error, _D.next_attempt_at)


def _fate(r: Any) -> dict[str, Any]:
    """How one delivery fared, as people see it (the next attempt only while it is retried)."""
    return {
        "channel": r.channel,
        "address": r.address,
        "status": r.status,
        "attempts": r.attempts,
        "error": r.last_error,
        "next_attempt_at": r.next_attempt_at if r.status == "retrying" else None,
    }


def _deliveries_of(session: Session, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    d = DELIVERY.c
    out: dict[str, list[dict[str, Any]]] = {}
    if not keys:
        return out
    rows = session.execute(
        sa.select(d.notification_key, *_FATE, d.sent_at)
        .where(d.notification_key.in_(list(keys)))
        .order_by(d.channel)
    ).all()
    for r in rows:
        out.setdefault(r.notification_key, []).append({**_fate(r), "sent_at": r.sent_at})
    return out


def reminders_of(
    session: Session,
    *,
    role: str,
    org: str | None,
    declarations: Any | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The notifications addressed to ``role`` (at ``org``, unless None: every organisation;
    about ``declarations`` only, a subquery of ids, when given), newest first, each with how
    its delivery fared on each channel. Superseded ones (a 延期 replaced them) and notices held
    back (a repeat, or outdated before it could be sent) are left out."""
    n = NOTIFICATION.c
    query = sa.select(n.key, n.declaration_id, n.kind, n.text, n.send_after, n.status).where(
        n.recipient_role == role, n.status.not_in(["cancelled", *UNSENT])
    )
    if org is not None:
        query = query.where(n.recipient_org == org)
    if declarations is not None:
        query = query.where(n.declaration_id.in_(declarations))
    rows = session.execute(query.order_by(n.send_after.desc(), n.id.desc()).limit(limit)).all()
    channels = _deliveries_of(session, [r.key for r in rows])
    return [
        {
            "key": r.key,
            "declaration_id": r.declaration_id,
            "kind": r.kind,
            "text": r.text,
            "send_after": r.send_after,
            "status": r.status,
            "deliveries": channels.get(r.key, []),
        }
        for r in rows
    ]


#: Delivery statuses the committee must look at.
PROBLEMS = ("retrying", "dead", "no_address")


def campaign_deliveries(
    session: Session, campaign_id: str, *, now: datetime, limit: int = 200
) -> dict[str, Any]:
    """A campaign's delivery figures: deliveries per channel and status, notifications not
    yet due or due and not yet dispatched, and the deliveries that failed, are being retried or
    have no address (most recent first, up to ``limit``) with their notification."""
    d, n, reg = DELIVERY.c, NOTIFICATION.c, REGISTRY.c
    counts: dict[str, dict[str, int]] = {}
    for channel, status, count in session.execute(
        sa.select(d.channel, d.status, sa.func.count())
        .where(d.campaign_id == campaign_id)
        .group_by(d.channel, d.status)
    ).all():
        counts.setdefault(channel, {})[status] = int(count)
    waiting = sa.select(sa.func.count()).select_from(
        NOTIFICATION.join(REGISTRY, reg.declaration_id == n.declaration_id)
    )
    mine = [reg.campaign_id == campaign_id, n.status == "pending"]
    scheduled = session.execute(waiting.where(*mine, n.send_after > now)).scalar_one()
    due = session.execute(waiting.where(*mine, n.send_after <= now)).scalar_one()
    problems = session.execute(
        sa.select(
            d.id,
            d.notification_key,
            d.declaration_id,
            *_FATE,
            n.kind,
            n.recipient_role,
            n.recipient_org,
            n.send_after,
        )
        .join(NOTIFICATION, n.key == d.notification_key)
        .where(d.campaign_id == campaign_id, d.status.in_(PROBLEMS))
        .order_by(n.send_after.desc(), d.id.desc())
        .limit(limit)
    ).all()
    return {
        "campaign_id": campaign_id,
        "deliveries": counts,
        "waiting": {"scheduled": int(scheduled), "due": int(due)},
        "problems": [
            {
                "key": p.notification_key,
                "declaration_id": p.declaration_id,
                "kind": p.kind,
                "recipient": {"role": p.recipient_role, "org": p.recipient_org},
                **_fate(p),
                "due_at": p.send_after,
            }
            for p in problems
        ],
    }


def outbox_figures(session: Session, *, now: datetime) -> tuple[dict[tuple[str, str], int], float]:
    """For ``/metrics``: deliveries per (channel, status), and the lag: how long the oldest
    notification or delivery that is due and not yet sent has been waiting (0 when none)."""
    d, n = DELIVERY.c, NOTIFICATION.c
    counts = {
        (channel, status): int(count)
        for channel, status, count in session.execute(
            sa.select(d.channel, d.status, sa.func.count()).group_by(d.channel, d.status)
        ).all()
    }
    oldest = [
        session.execute(
            sa.select(sa.func.min(n.send_after)).where(n.status == "pending", n.send_after <= now)
        ).scalar(),
        session.execute(
            sa.select(sa.func.min(d.next_attempt_at)).where(
                d.status.in_(SENDABLE), d.next_attempt_at <= now
            )
        ).scalar(),
    ]
    waiting = [at for at in oldest if at is not None]
    lag = (now - min(waiting)).total_seconds() if waiting else 0.0
    return counts, max(0.0, lag)
