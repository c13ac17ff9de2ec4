"""The notification outbox: retries are no-ops, reminders replace each other (docs/rules.md §3)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from store.db import Store
from store.outbox import cancel_groups, enqueue, pending
from store.tables import NotificationRow
from testing.builders import MONDAY, declaration_id, notification


def _statuses(store: Store, d: str) -> dict[str, str]:
    with store.session(readonly=True) as session:
        rows = session.exec(select(NotificationRow).where(NotificationRow.declaration_id == d))
        return {row.key: row.status for row in rows}


def test_enqueueing_the_same_key_twice_writes_one_row(store: Store) -> None:
    d = declaration_id()
    with store.session() as session:
        assert enqueue(session, [notification(d, f"{d}:1:act")]) == 1
    with store.session() as session:
        assert enqueue(session, [notification(d, f"{d}:1:act")]) == 0
    assert _statuses(store, d) == {f"{d}:1:act": "pending"}


def test_a_new_reminder_cancels_the_pending_reminder_of_its_group(store: Store) -> None:
    d, other = declaration_id(), declaration_id()
    group = f"{d}:reminder"
    with store.session() as session:
        enqueue(session, [notification(d, "r1", group=group)])
        enqueue(session, [notification(other, "o1", group=group)])  # another declaration
    with store.session() as session:
        enqueue(session, [notification(d, "r2", group=group, at=MONDAY + timedelta(days=1))])
    assert _statuses(store, d) == {"r1": "cancelled", "r2": "pending"}
    assert _statuses(store, other) == {"o1": "pending"}
    with store.session() as session:  # a retry of the first reminder brings nothing back
        enqueue(session, [notification(d, "r1", group=group)])
    assert _statuses(store, d) == {"r1": "cancelled", "r2": "pending"}


def test_cancelling_groups_spares_other_groups_sent_rows_and_kept_keys(store: Store) -> None:
    d = declaration_id()
    with store.session() as session:
        enqueue(
            session,
            [
                notification(d, "a", group="g1"),
                notification(d, "b", group="g2"),
                notification(d, "c"),
                notification(d, "sent", group="g3"),
                notification(d, "kept", group="g3"),
            ],
        )
        row = session.exec(select(NotificationRow).where(NotificationRow.key == "sent")).one()
        row.status = "sent"
        session.add(row)
    with store.session() as session:
        assert cancel_groups(session, d, ["g1", "g3"], keep=["kept"]) == 1
        assert cancel_groups(session, d, []) == 0
        assert [r.key for r in pending(session, d)] == ["b", "c", "kept"]
    assert _statuses(store, d) == {
        "a": "cancelled",
        "b": "pending",
        "c": "pending",
        "sent": "sent",
        "kept": "pending",
    }


def test_within_one_batch_only_the_last_reminder_of_a_group_stays_pending(store: Store) -> None:
    """One step may queue two reminders of the same group (a transition, then the deadline it
    computes): the later one replaces the earlier, as if they had been written one by one; a key
    repeated in the batch is written once."""
    d = declaration_id()
    group = f"{d}:reminder"
    with store.session() as session:
        enqueue(session, [notification(d, "old", group=group)])
    with store.session() as session:
        inserted = enqueue(
            session,
            [
                notification(d, "first", group=group),
                notification(d, "act"),
                notification(d, "second", group=group, at=MONDAY + timedelta(days=1)),
                notification(d, "act"),
            ],
        )
    assert inserted == 3
    assert _statuses(store, d) == {
        "old": "cancelled",
        "first": "cancelled",
        "act": "pending",
        "second": "pending",
    }
    with store.session() as session:
        assert [r.key for r in pending(session, d)] == ["act", "second"]
