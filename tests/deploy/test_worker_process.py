"""``python worker.py`` as production runs it: a separate process that serves the chain and, on
SIGTERM, stops polling, lets what is in flight finish, and exits cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from settings import Settings
from testing import factories as f
from testing.declarations import Declaration, now, wait_for
from workflows.client import start_declaration

ROOT = Path(__file__).resolve().parents[2]


async def test_worker_process_serves_decisions_and_stops_gracefully_on_sigterm(
    env: WorkflowEnvironment, settings: Settings
) -> None:
    target = env.client.service_client.config.target_host
    environ = {
        **os.environ,
        "REVIEWCHAIN_TEMPORAL_ADDRESS": target,
        "REVIEWCHAIN_DATABASE_URL": settings.database_url,
        "REVIEWCHAIN_TASK_QUEUE": settings.task_queue,
        "REVIEWCHAIN_LOG_FORMAT": "json",
        "REVIEWCHAIN_GRACEFUL_SHUTDOWN_SECONDS": "10",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "worker.py", cwd=ROOT, env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        at = await now(env)
        campaign = f.campaign(at)
        start = f.start(campaign, f.declaration(campaign), at)
        await start_declaration(env.client, settings.task_queue, start)
        d = Declaration(env.client, start.declaration_id)
        await wait_for(env.client, d.id, lambda v: v.version >= 1, within=60)
        view = await d.submit()
        assert view.state == "unit_review"
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    log = err.decode()
    assert '"event": "worker.stopping"' in log and '"event": "worker.stopped"' in log
