"""Writing notifications to the outbox outside an audited step (docs/rules.md §3 reminders)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field
from temporalio import activity

from activities.support import log, run_blocking
from domain.models import Model, Notification
from store.db import Store
from store.outbox import enqueue

if TYPE_CHECKING:
    from gateway.outbox import OutboxWaker


class NotifyRequest(Model):
    """Notifications of one declaration, and the reminder groups that no longer apply."""

    declaration_id: str
    notifications: list[Notification] = Field(default_factory=list)
    cancel_reminders: list[str] = Field(default_factory=list)


class NotifyActivities:
    def __init__(self, store: Store, waker: OutboxWaker | None = None) -> None:
        self._store = store
        self._waker = waker

    @activity.defn(name="notify")
    async def notify(self, request: NotifyRequest) -> int:
        """Cancel the groups, then enqueue (insert-if-absent by key); returns how many
        notifications were new. Once committed, the outbox's sender is told when they fall
        due."""
        added = await run_blocking(self._notify, request, declaration_id=request.declaration_id)
        if self._waker is not None and request.notifications:
            self._waker.due(min(n.send_after for n in request.notifications))
        return added

    def _notify(self, request: NotifyRequest) -> int:
        with self._store.session() as session:
            added = enqueue(
                session,
                request.notifications,
                cancel=request.cancel_reminders,
                declaration_id=request.declaration_id,
            )
        log.info("notifications.enqueued", added=added)
        return added
