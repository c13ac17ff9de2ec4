"""The notification outbox (docs/rules.md §3 reminders; §10.2 at-risk reminders).

Rows are written in the same transaction as the audit events that cause them and delivered later
by a sender that reads ``pending`` rows whose ``send_after`` has passed. ``key`` makes a retried
write a no-op. A notification with a ``supersedes`` group (e.g. the reminder of the current
deadline) cancels the earlier pending rows of that group for the same declaration, so only the
newest reminder is ever sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select, update

from domain.models import Notification
from store.tables import NotificationRow

__all__ = ["cancel_groups", "enqueue", "pending"]


_TABLE = NotificationRow.__table__  # type: ignore[attr-defined]
_KNOWN = sa.select(_TABLE.c.key).where(_TABLE.c.key.in_(sa.bindparam("keys", expanding=True)))
_INSERT = sa.insert(_TABLE)


def _cancelling(*which: ColumnElement[bool]) -> sa.Update:
    return (
        sa.update(_TABLE)
        .where(
            _TABLE.c.declaration_id == sa.bindparam("owner"),
            _TABLE.c.status == "pending",
            sa.or_(*which),
        )
        .values(status="cancelled")
    )


_OF_GROUPS = _TABLE.c.supersedes.in_(sa.bindparam("superseded", expanding=True))
_OF_CANCELLED = sa.and_(
    _TABLE.c.supersedes.in_(sa.bindparam("cancel", expanding=True)),
    _TABLE.c.key.not_in(sa.bindparam("keep", expanding=True)),
)
#: The cancelling update, built once for each (groups superseded, groups cancelled) case.
_CANCEL = {
    (True, False): _cancelling(_OF_GROUPS),
    (False, True): _cancelling(_OF_CANCELLED),
    (True, True): _cancelling(_OF_GROUPS, _OF_CANCELLED),
}


def enqueue(
    session: Session,
    notifications: Iterable[Notification],
    *,
    cancel: Iterable[str] = (),
    declaration_id: str | None = None,
    now: datetime | None = None,
) -> int:
    """Insert each notification whose key is new; returns how many were inserted.

    A new notification with a ``supersedes`` group cancels the pending rows of its group (for
    its declaration) written before it: those stored already, and the earlier ones of this batch,
    which are written as cancelled. ``cancel`` names more groups of the batch's declaration to
    cancel, sparing the batch's own keys (:func:`cancel_groups`), so that a retried step never
    cancels what its first try wrote. Three statements at most (the known keys, one cancelling
    update, one insert), whatever the batch holds.
    """
    notifications = list(notifications)
    keys = [n.key for n in notifications]
    connection = session.connection()
    known = set(connection.execute(_KNOWN, {"keys": keys}).scalars()) if keys else set()
    fresh: list[Notification] = []
    for notification in notifications:
        if notification.key not in known:
            fresh.append(notification)
            known.add(notification.key)
    groups: dict[str, set[str]] = {}
    newest: dict[tuple[str, str], int] = {}
    for index, notification in enumerate(fresh):
        if notification.supersedes:
            groups.setdefault(notification.declaration_id, set()).add(notification.supersedes)
            newest[(notification.declaration_id, notification.supersedes)] = index
    cancel = sorted(set(cancel))
    if cancel and declaration_id is None:
        raise ValueError("cancelling groups needs the declaration they belong to")
    owners = set(groups)
    if cancel and declaration_id is not None:
        owners.add(declaration_id)
    for owner in sorted(owners):
        superseded = sorted(groups.get(owner, ()))
        cancels = bool(cancel) and owner == declaration_id
        connection.execute(
            _CANCEL[(bool(superseded), cancels)],
            {
                "owner": owner,
                "superseded": superseded,
                "cancel": cancel if cancels else [],
                "keep": sorted(set(keys)),
            },
        )
    if not fresh:
        return 0
    created_at = now or datetime.now(UTC)
    rows = [
        {
            "key": n.key,
            "declaration_id": n.declaration_id,
            "recipient_role": n.recipient_role,
            "recipient_org": n.recipient_org,
            "recipient_id": n.recipient_id,
            "kind": n.kind,
            "text": n.text,
            "send_after": n.send_after,
            "supersedes": n.supersedes,
            "status": (
                "cancelled"
                if n.supersedes and newest[(n.declaration_id, n.supersedes)] != index
                else "pending"
            ),
            "created_at": created_at,
        }
        for index, n in enumerate(fresh)
    ]
    connection.execute(_INSERT, rows)
    return len(rows)


def cancel_groups(
    session: Session,
    declaration_id: str,
    groups: Iterable[str],
    *,
    keep: Iterable[str] = (),
) -> int:
    """Cancel the pending notifications of these ``supersedes`` groups; returns how many.

    ``keep`` names keys to leave alone: the notifications written in the same step, so that a
    retried step (cancel, then enqueue again) never cancels the reminder its first try wrote.
    """
    groups = sorted(set(groups))
    if not groups:
        return 0
    conditions = [
        col(NotificationRow.declaration_id) == declaration_id,
        col(NotificationRow.supersedes).in_(groups),
        col(NotificationRow.status) == "pending",
    ]
    keep = sorted(set(keep))
    if keep:
        conditions.append(col(NotificationRow.key).not_in(keep))
    result = session.exec(update(NotificationRow).where(*conditions).values(status="cancelled"))
    return int(result.rowcount)


def pending(session: Session, declaration_id: str) -> list[NotificationRow]:
    """A declaration's pending notifications, soonest first."""
    query = (
        select(NotificationRow)
        .where(
            NotificationRow.declaration_id == declaration_id,
            NotificationRow.status == "pending",
        )
        .order_by(col(NotificationRow.send_after), col(NotificationRow.id))
    )
    return list(session.exec(query))
