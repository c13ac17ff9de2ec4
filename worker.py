"""The worker: registers every workflow and activity (wiring only).

``python worker.py`` runs a long-lived worker against ``REVIEWCHAIN_TEMPORAL_ADDRESS``; it shuts
down gracefully on SIGTERM or SIGINT, letting in-flight activities finish.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from pathlib import Path

import structlog
from temporalio.client import Client
from temporalio.plugin import SimplePlugin
from temporalio.worker import Worker

from activities import all_activities
from gateway import connect
from gateway.codec import with_data_converter
from gateway.outbox import OutboxWaker
from settings import Settings, check_startup, get_settings, tune_gc
from settings.logs import configure_logging
from store.db import Store
from workflows import all_workflows
from workflows.guard import CommandGuard

log = structlog.get_logger()


def compile_workflow_modules() -> None:
    """The workflow sandbox imports the workflow modules afresh for every workflow run. Write
    their bytecode once, here, so that no run compiles them from source again: Python reads
    cached bytecode even under ``PYTHONDONTWRITEBYTECODE``, it just never writes it. A read-only
    tree (the image compiles at build time) is left as it is."""
    import compileall

    import workflows

    compileall.compile_dir(Path(workflows.__file__).parent, maxlevels=0, quiet=2)


def build_worker(client: Client, settings: Settings | None = None) -> Worker:
    """A worker for the review chain on ``settings.task_queue`` with every workflow and activity.

    ``client`` gets the service's data converter (pydantic, plus the payload codec when
    ``payload_keys`` is set: ``gateway.codec``), so a plain client will do; commands it cannot
    authenticate change nothing, and malformed ones are dropped (``workflows.guard``). The
    store is migrated here, so a worker never runs against an older schema. Where e-mail or a
    webhook is configured (``smtp_url``, ``webhook_url``), the worker also delivers the outbox:
    while it runs, an :class:`gateway.outbox.OutboxWaker` beside it starts and wakes the
    ``outbox-delivery`` workflow, which this worker runs like any other.
    """
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    for problem in check_startup(settings, identity=False):
        log.warning("worker.unsafe_setting", problem=problem)
    client = with_data_converter(client, settings)
    compile_workflow_modules()
    # Only activities use this store, and they retry: no liveness round trip per activity.
    store = Store.from_settings(settings, pre_ping=False)
    store.migrate()
    waker = OutboxWaker(client, settings, store) if settings.delivers_outbox else None
    plugins = (
        [] if waker is None else [SimplePlugin("reviewchain.outbox", run_context=waker.running)]
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=all_workflows(),
        activities=all_activities(store, client, settings=settings, waker=waker),
        interceptors=[CommandGuard()],
        plugins=plugins,
        max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_cached_workflows=settings.max_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_seconds),
    )


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    client = await connect(settings)
    worker = build_worker(client, settings)
    tune_gc(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker.started", task_queue=settings.task_queue, address=settings.temporal_address)
    async with worker:
        await stop.wait()
        log.info("worker.stopping", grace_seconds=settings.graceful_shutdown_seconds)
    log.info("worker.stopped")


if __name__ == "__main__":
    asyncio.run(main())
