"""record_audit_event: one step's events, view and notifications in one transaction (§8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.audit import AuditActivities
from activities.messages import RecordBatch, RecordResult
from store.audit import events_of, verify
from store.db import Store
from store.errors import AuditGap
from store.outbox import pending
from store.readmodel import get_view
from store.tables import NotificationRow
from testing.builders import MONDAY, declaration_id, notification, trail, view


async def record(store: Store, batch: RecordBatch) -> RecordResult:
    return await ActivityEnvironment().run(AuditActivities(store).record_audit_event, batch)


def step(d: str, upto: int, *, start: int = 1, reminder: str | None = None) -> RecordBatch:
    """Events start..upto of a trail, the view at ``upto`` and a reminder of the new stage."""
    notifications = [notification(d, f"{d}:{upto}:act")]
    if reminder:
        notifications.append(notification(d, reminder, group=f"{d}:reminder"))
    return RecordBatch(
        events=trail(d, upto)[start - 1 :],
        view=view(d, version=upto, updated_at=MONDAY + timedelta(hours=upto - 1)),
        notifications=notifications,
        cancel_reminders=[f"{d}:reminder"],
    )


async def test_one_step_writes_events_view_and_notifications_together(store: Store) -> None:
    d = declaration_id()
    result = await record(store, step(d, 2, reminder="r2"))
    assert (result.written, result.already_present) == (2, 0)
    with store.session(readonly=True) as session:
        assert [e.seq for e in events_of(session, d)] == [1, 2]
        assert get_view(session, d).version == 2  # type: ignore[union-attr]
        assert [n.key for n in pending(session, d)] == [f"{d}:2:act", "r2"]
        assert verify(session, declaration_id=d).ok


async def test_a_retried_step_writes_nothing_twice_and_keeps_its_reminder(store: Store) -> None:
    d = declaration_id()
    await record(store, step(d, 2, reminder="r2"))
    retry = await record(store, step(d, 2, reminder="r2"))
    assert (retry.written, retry.already_present) == (0, 2)
    with store.session(readonly=True) as session:
        assert [n.key for n in pending(session, d)] == [f"{d}:2:act", "r2"]
        assert len(list(session.exec(select(NotificationRow).where(
            NotificationRow.declaration_id == d)))) == 2  # fmt: skip


async def test_the_next_step_replaces_the_reminder_of_the_previous_one(store: Store) -> None:
    d = declaration_id()
    await record(store, step(d, 2, reminder="r2"))
    await record(store, step(d, 3, start=3, reminder="r3"))
    with store.session(readonly=True) as session:
        keys = [n.key for n in pending(session, d)]
    assert "r2" not in keys and "r3" in keys


async def test_a_late_step_does_not_take_the_read_model_back(store: Store) -> None:
    d = declaration_id()
    await record(store, step(d, 3))
    await record(store, step(d, 2))
    with store.session(readonly=True) as session:
        assert get_view(session, d).version == 3  # type: ignore[union-attr]


async def test_rewriting_a_recorded_event_is_refused_for_good(store: Store) -> None:
    d = declaration_id()
    await record(store, step(d, 2))
    altered = step(d, 2)
    altered.events[1] = altered.events[1].model_copy(update={"action": "forged"})
    with pytest.raises(ApplicationError) as caught:
        await record(store, altered)
    assert (caught.value.type, caught.value.non_retryable) == ("AuditConflict", True)


async def test_a_step_whose_predecessor_is_missing_is_retried(store: Store) -> None:
    d = declaration_id()
    with pytest.raises(AuditGap):  # not an ApplicationError: Temporal retries it
        await record(store, step(d, 3, start=3))
    with store.session(readonly=True) as session:
        assert events_of(session, d) == []
        assert get_view(session, d) is None, "nothing of the step is written"


async def test_events_of_another_declaration_are_refused(store: Store) -> None:
    d = declaration_id()
    batch = step(d, 1)
    batch.events = trail(declaration_id(), 1)
    with pytest.raises(ApplicationError) as caught:
        await record(store, batch)
    assert (caught.value.type, caught.value.non_retryable) == ("InvalidRequest", True)
