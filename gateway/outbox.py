"""Waking the outbox's sender (the ``outbox-delivery`` workflow, one per task queue).

The sender sleeps on a Temporal timer until the next instant something in the outbox falls due,
as far as it knows. Whatever writes notifications tells it of new ones: the worker's activities
call :meth:`OutboxWaker.due` after their transaction commits, and the waker sends the sender a
``wake`` signal (signal-with-start: it also starts the sender the first time), at most one every
:data:`WAKE_EVERY` seconds, carrying the earliest instant it was told. Every
``outbox_poll_seconds`` (and at start) it also reads the earliest due instant from the store
itself, so notifications written by a process that died before it woke the sender are still
delivered. The sender's own timers, not these wall-clock loops, decide when anything goes out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import Any

import structlog
from temporalio.client import Client, WorkflowHandle

from domain.reminders import OutboxDeliveryRun, OutboxProgress, OutboxWake
from settings import Settings
from store import delivery
from store.db import Store

__all__ = [
    "OUTBOX_WORKFLOW",
    "OutboxWaker",
    "outbox_progress",
    "outbox_workflow_id",
    "wake_outbox",
]

log = structlog.get_logger()

#: The sender's workflow type (kebab-case, as every workflow name of the service).
OUTBOX_WORKFLOW = "outbox-delivery"
#: At most one wake signal per worker process in this many seconds.
WAKE_EVERY = 0.25
#: …and one every this many seconds while Temporal does not answer.
RETRY_EVERY = 5.0


def outbox_workflow_id(task_queue: str) -> str:
    return f"{OUTBOX_WORKFLOW}-{task_queue}"


def sender_run(settings: Settings) -> OutboxDeliveryRun:
    return OutboxDeliveryRun(batch_size=settings.delivery_batch_size)


async def wake_outbox(
    client: Client, settings: Settings, due: datetime
) -> WorkflowHandle[Any, Any]:
    """Tell the sender that something falls due at ``due``, starting it if it is not running."""
    return await client.start_workflow(
        OUTBOX_WORKFLOW,
        sender_run(settings),
        id=outbox_workflow_id(settings.task_queue),
        task_queue=settings.task_queue,
        start_signal="wake",
        start_signal_args=[OutboxWake(due=due)],
    )


async def outbox_progress(client: Client, task_queue: str) -> OutboxProgress:
    """The sender's ``progress`` query (when it wakes next, what it has done)."""
    handle = client.get_workflow_handle(outbox_workflow_id(task_queue))
    progress: OutboxProgress = await handle.query("progress", result_type=OutboxProgress)
    return progress


class OutboxWaker:
    """Runs beside the worker (``worker.build_worker`` wraps the worker's run in
    :meth:`running`); activities call :meth:`due` on the event loop."""

    def __init__(self, client: Client, settings: Settings, store: Store) -> None:
        self.client = client
        self.settings = settings
        self.store = store
        self._earliest: datetime | None = None
        self._told = asyncio.Event()

    def due(self, at: datetime) -> None:
        """Something was written to the outbox that falls due at ``at``."""
        if self._earliest is None or at < self._earliest:
            self._earliest = at
        self._told.set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._run())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        await self._from_store()
        loop = asyncio.get_running_loop()
        next_poll = loop.time() + self.settings.outbox_poll_seconds
        while True:
            try:
                await asyncio.wait_for(self._told.wait(), max(0.0, next_poll - loop.time()))
            except TimeoutError:
                await self._from_store()
                next_poll = loop.time() + self.settings.outbox_poll_seconds
                continue
            self._told.clear()
            at, self._earliest = self._earliest, None
            woken = at is None or await self._wake(at)
            await asyncio.sleep(WAKE_EVERY if woken else RETRY_EVERY)

    async def _from_store(self) -> None:
        def earliest() -> datetime | None:
            with self.store.session(readonly=True) as session:
                return delivery.next_due(session)

        try:
            at = await asyncio.to_thread(earliest)
        except Exception as err:  # the store may be away for a moment: poll again later
            log.warning("outbox.poll_failed", error=str(err)[:300])
            return
        if at is not None:
            await self._wake(at)

    async def _wake(self, at: datetime) -> bool:
        try:
            await wake_outbox(self.client, self.settings, at)
        except Exception as err:  # Temporal may be away: keep the instant for the next try
            log.warning("outbox.wake_failed", error=str(err)[:300])
            self.due(at)
            return False
        return True
