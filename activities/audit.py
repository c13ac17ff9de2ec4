"""Recording one step of a declaration: its audit events, its view, its notifications
(docs/rules.md §8, §10.2, §3 reminders), in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from temporalio import activity

from activities.messages import RecordBatch, RecordResult
from activities.support import log, run_blocking
from domain.reminders import rearmed_reminders
from store.audit import chain_rows, insert_rows, tail_rows
from store.audit_tail import reconcile
from store.calendar import work_calendar
from store.db import Store, advisory_xact_lock
from store.errors import InvalidRequest
from store.outbox import enqueue
from store.readmodel import HELD_FILTER, HeldEvent, upsert_view

if TYPE_CHECKING:
    from gateway.outbox import OutboxWaker


class AuditActivities:
    def __init__(self, store: Store, waker: OutboxWaker | None = None) -> None:
        self._store = store
        self._waker = waker

    @activity.defn(name="record_audit_event")
    async def record_audit_event(self, batch: RecordBatch) -> RecordResult:
        """In one transaction: append ``batch.events`` to the hash chain, store ``batch.view``
        in the read model (unless a newer version is there; also refreshes the time held and
        the registry's ``live`` flag), cancel the ``cancel_reminders`` groups, then enqueue the
        notifications. Idempotent: a retry writes nothing twice and cancels nothing it wrote.
        ``AuditConflict`` (non-retryable) when a sequence number is already taken by different
        content; a missing predecessor (``AuditGap``) is retried. The workflow runs it as a
        regular activity (its batch is in the history before it runs); runs from before the
        ``audit-write-in-history`` patch run it as a local activity, and rows their dead workflow
        tasks wrote are kept and followed (:func:`store.audit_tail.reconcile`; ``shift`` in the
        result). A step that created the declaration or moved its deadlines also (re)schedules
        its reminder (:func:`domain.reminders.rearmed_reminders`). Once committed, the outbox's
        sender is told when the new notifications fall due."""
        result, due = await run_blocking(self._record, batch, declaration_id=batch.view.id)
        if self._waker is not None and due is not None:
            self._waker.due(due)
        return result

    def _record(self, batch: RecordBatch) -> tuple[RecordResult, datetime | None]:
        """The step's result, and when the earliest notification it wrote falls due."""
        declaration_id = batch.view.id
        strangers = sorted({e.declaration_id for e in batch.events} - {declaration_id})
        if strangers:
            raise InvalidRequest(
                f"events of {', '.join(strangers)} in the batch of declaration {declaration_id}"
            )
        first = min((e.seq for e in batch.events), default=None)
        with self._store.session() as session:
            advisory_xact_lock(session, f"audit:{declaration_id}")
            # One read serves the whole step: the stored tail the batch must follow or repeat,
            # and the rows the time held is computed from.
            rows = tail_rows(
                session,
                declaration_id,
                None if first is None else first - 1,
                also=HELD_FILTER,
            )
            stored = {r.seq: r for r in rows if first is not None and r.seq >= first - 1}
            # Rows a dead workflow task wrote stay; the batch follows them (reliability finding).
            plan = reconcile(stored, batch.events)
            chained, present = chain_rows(declaration_id, plan.events, stored)
            insert_rows(session, chained)
            trail: dict[int, HeldEvent] = {r.seq: r for r in rows}
            trail.update((e.seq, e) for e in plan.events if e.seq not in stored)
            view = batch.view.model_copy(update={"version": batch.view.version + plan.shift})
            notifications = plan.notifications(batch.notifications)
            rearmed, cancels = rearmed_reminders(view, plan.events, notifications)
            upsert_view(
                session,
                view,
                cal=work_calendar(session),
                events=[trail[seq] for seq in sorted(trail)],
            )
            enqueue(
                session,
                [*notifications, *rearmed],
                cancel=[*batch.cancel_reminders, *cancels],
                declaration_id=declaration_id,
            )
        written = len(chained)
        log.info(
            "audit.recorded",
            written=written,
            already_present=present,
            version=view.version,
            state=view.state,
        )
        due = min((n.send_after for n in [*notifications, *rearmed]), default=None)
        return RecordResult(written=written, already_present=present, shift=plan.shift), due
