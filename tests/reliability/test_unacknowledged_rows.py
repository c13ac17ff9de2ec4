"""A worker killed between the audit write of a workflow task and the task's completion
(finding of test_worker_kill.py): the retried task writes its events again, computed at its own,
later instant. The trail is append-only, so the rows already stored stay:

* an event that differs only in its instant is the stored one: nothing is added;
* any other difference is recorded: an ``audit.superseded`` event names the rows of the dead task,
  and the retried events follow it (``shift`` tells the workflow how far they moved);
* a row as new as the batch, or newer, is still a conflict (``AuditConflict``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.audit import AuditActivities
from activities.messages import RecordBatch, RecordResult
from store.audit import canonical_instant, events_of, verify
from store.audit_tail import SUPERSEDED
from store.db import Store
from store.outbox import pending
from store.readmodel import get_view
from testing.builders import MONDAY, declaration_id, notification, trail, view


async def record(store: Store, batch: RecordBatch) -> RecordResult:
    return await ActivityEnvironment().run(AuditActivities(store).record_audit_event, batch)


def batch(
    d: str, upto: int, start: int, later: timedelta = timedelta(0), **changes: Any
) -> RecordBatch:
    """Events start..upto of a trail (one hour apart), ``later`` and changed."""
    events = [
        e.model_copy(update={"at": e.at + later, **changes}) for e in trail(d, upto)[start - 1 :]
    ]
    return RecordBatch(
        events=events,
        view=view(d, version=upto, updated_at=events[-1].at),
        notifications=[notification(d, f"{d}:{upto}:act")],
    )


def rows(store: Store, d: str) -> list[Any]:
    with store.session(readonly=True) as session:
        assert verify(session, declaration_id=d).ok
        return events_of(session, d)


async def test_the_same_events_at_a_later_instant_are_taken_as_already_present(
    store: Store,
) -> None:
    d = declaration_id()
    await record(store, batch(d, 2, 1))
    await record(store, batch(d, 4, 3))  # the dead attempt: written, never acknowledged
    retry = await record(store, batch(d, 5, 3, later=timedelta(seconds=11)))
    assert (retry.written, retry.already_present, retry.shift) == (1, 2, 0)
    stored = rows(store, d)
    assert [r.seq for r in stored] == [1, 2, 3, 4, 5]
    assert canonical_instant(stored[2].at) == canonical_instant(MONDAY + timedelta(hours=2))


@pytest.mark.parametrize(
    "change",
    [{"action": "unit_review.reject"}, {"detail": {"start": "the retried task's instant"}}],
    ids=["other-action", "other-detail"],
)
async def test_other_events_follow_an_audit_superseded_event(store: Store, change: dict) -> None:
    d = declaration_id()
    await record(store, batch(d, 2, 1))
    await record(store, batch(d, 4, 3))  # the dead attempt
    retry = await record(store, batch(d, 4, 3, later=timedelta(hours=3), **change))
    assert (retry.written, retry.shift) == (3, 3)  # the marker, then 3 and 4 as 6 and 7
    stored = rows(store, d)
    assert [r.seq for r in stored] == [1, 2, 3, 4, 5, 6, 7]
    marker = stored[4]
    assert marker.action == SUPERSEDED and marker.actor_id == "system"
    assert '"superseded_seqs":[3,4]' in marker.detail
    assert [r.opinion for r in stored[5:]] == ["意见 3", "意见 4"]
    with store.session(readonly=True) as session:
        assert get_view(session, d).version == 7  # type: ignore[union-attr]
        assert f"{d}:7:act" in [n.key for n in pending(session, d)]


async def test_a_different_event_at_the_same_instant_is_still_a_conflict(store: Store) -> None:
    d = declaration_id()
    await record(store, batch(d, 3, 1))
    with pytest.raises(ApplicationError) as refused:
        await record(store, batch(d, 3, 3, action="unit_review.reject"))
    assert refused.value.type == "AuditConflict"


async def test_an_older_rewrite_never_follows_a_newer_row(store: Store) -> None:
    """A zombie attempt, older than what is stored, is refused."""
    d = declaration_id()
    await record(store, batch(d, 3, 1))
    with pytest.raises(ApplicationError) as refused:
        await record(store, batch(d, 3, 3, later=timedelta(seconds=-11), opinion="旧"))
    assert refused.value.type == "AuditConflict"
