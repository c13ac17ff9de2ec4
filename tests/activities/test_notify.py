"""notify: writes to the outbox; a retry adds nothing (docs/rules.md §3 reminders)."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment

from activities.notify import NotifyActivities, NotifyRequest
from store.db import Store
from store.outbox import enqueue, pending
from testing.builders import declaration_id, notification


async def test_notify_enqueues_new_keys_once_and_cancels_old_reminders(store: Store) -> None:
    d = declaration_id()
    group = f"{d}:reminder"
    with store.session() as session:
        enqueue(session, [notification(d, "old", group=group)])
    request = NotifyRequest(
        declaration_id=d,
        notifications=[notification(d, "a"), notification(d, "new", group=group)],
        cancel_reminders=[group],
    )
    env, activities = ActivityEnvironment(), NotifyActivities(store)
    assert await env.run(activities.notify, request) == 2
    assert await env.run(activities.notify, request) == 0
    with store.session(readonly=True) as session:
        assert [n.key for n in pending(session, d)] == ["a", "new"]
