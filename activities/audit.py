"""Recording one step of a declaration: its audit events, its view, its notifications
(domain.md §8, §10.2, §3 reminders), in one transaction."""

from __future__ import annotations

from temporalio import activity

from activities.support import log, run_blocking
from domain.models import RecordBatch, RecordResult
from store.audit import append_events
from store.audit_tail import reconcile
from store.calendar import work_calendar
from store.db import Store
from store.errors import InvalidRequest
from store.outbox import cancel_groups, enqueue
from store.readmodel import upsert_view


class AuditActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name="record_audit_event")
    async def record_audit_event(self, batch: RecordBatch) -> RecordResult:
        """In one transaction: append ``batch.events`` to the hash chain, store ``batch.view``
        in the read model (unless a newer version is there; also refreshes the time held and
        the registry's ``live`` flag), cancel the ``cancel_reminders`` groups, then enqueue the
        notifications. Idempotent: a retry writes nothing twice and cancels nothing it wrote.
        ``AuditConflict`` (non-retryable) when a sequence number is already taken by different
        content; a missing predecessor (``AuditGap``) is retried. Rows a dead workflow task wrote
        are kept and followed (:func:`store.audit_tail.reconcile`; ``shift`` in the result)."""
        return await run_blocking(self._record, batch, declaration_id=batch.view.id)

    def _record(self, batch: RecordBatch) -> RecordResult:
        strangers = sorted({e.declaration_id for e in batch.events} - {batch.view.id})
        if strangers:
            raise InvalidRequest(
                f"events of {', '.join(strangers)} in the batch of declaration {batch.view.id}"
            )
        with self._store.session() as session:
            # Rows a dead workflow task wrote stay; the batch follows them (reliability finding).
            plan = reconcile(session, batch.events)
            written, present = append_events(session, plan.events)
            view = batch.view.model_copy(update={"version": batch.view.version + plan.shift})
            notifications = plan.notifications(batch.notifications)
            upsert_view(session, view, cal=work_calendar(session))
            cancel_groups(
                session,
                batch.view.id,
                batch.cancel_reminders,
                keep=[n.key for n in notifications],
            )
            enqueue(session, notifications)
        log.info(
            "audit.recorded",
            written=written,
            already_present=present,
            version=view.version,
            state=view.state,
        )
        return RecordResult(written=written, already_present=present, shift=plan.shift)
