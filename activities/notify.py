"""Writing notifications to the outbox outside an audited step (docs/rules.md §3 reminders)."""

from __future__ import annotations

from pydantic import Field
from temporalio import activity

from activities.support import log, run_blocking
from domain.models import Model, Notification
from store.db import Store
from store.outbox import enqueue


class NotifyRequest(Model):
    """Notifications of one declaration, and the reminder groups that no longer apply."""

    declaration_id: str
    notifications: list[Notification] = Field(default_factory=list)
    cancel_reminders: list[str] = Field(default_factory=list)


class NotifyActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name="notify")
    async def notify(self, request: NotifyRequest) -> int:
        """Cancel the groups, then enqueue (insert-if-absent by key); returns how many
        notifications were new."""
        return await run_blocking(self._notify, request, declaration_id=request.declaration_id)

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
