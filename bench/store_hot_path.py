"""Benchmark: what the worker's store work costs per decision, statement by statement.

The profile of a decision (``bench/profile_hot_path.py``) puts most of the worker's time in two
local activities: ``record_audit_event`` (audit events, read model, notifications in one
transaction) and ``screen_applicant``. This script runs the production worker in this process
against the time-skipping test server and a fresh store, drives ``--rounds`` unit return ↔
resubmission pairs on ``--declarations`` declarations through ``gateway.send``, and
reports for each of those activities: SQL statements per call (by kind), and the median wall and
CPU (thread) time per call. Run it on two checkouts to compare a change (it imports the code of
the checkout it lives in).

    python bench/store_hot_path.py                                    # SQLite
    python bench/store_hot_path.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, event
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

import activities.audit as audit_activities
import activities.screening as screening_activities
from bench.stack import BIN, Database
from domain.models import DecisionCommand, SubmitCommand
from settings import Settings
from testing import factories as f
from testing.declarations import create, now
from worker import build_worker

_current: list[str | None] = [None]
statements: dict[str, list[str]] = defaultdict(list)
timings: dict[str, list[tuple[float, float]]] = defaultdict(list)


def _measured(name: str, method: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def run(self: Any, request: Any) -> Any:
        _current[0] = name
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return method(self, request)
        finally:
            timings[name].append(
                ((time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000)
            )
            _current[0] = None

    return run


@contextmanager
def instrumented() -> Iterator[None]:
    """Count the statements and time the store functions of the two activities (the blocking
    functions each activity runs in a worker thread)."""
    audit: Any = audit_activities.AuditActivities
    screening: Any = screening_activities.ScreeningActivities
    record, screen = audit._record, screening._screen
    audit._record = _measured("record_audit_event", record)
    screening._screen = _measured("screen_applicant", screen)

    def before(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if _current[0]:
            words = statement.split()
            statements[_current[0]].append(" ".join(words[:3]) + (" …" if len(words) > 3 else ""))

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        audit._record, screening._screen = record, screen


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="reviewchain-store-bench-") as tmp:
        db = Database(args.database_url, Path(tmp))
        try:
            settings = Settings(
                database_url=db.url,
                task_queue=f"store-bench-{uuid.uuid4().hex[:8]}",
                log_format="json",
                log_level="WARNING",
            )
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=pydantic_data_converter,
                test_server_existing_path=str(BIN / "temporal-test-server"),
            )
            async with env, build_worker(env.client, settings):
                at = await now(env)
                chains = [
                    await create(env.client, settings.task_queue, at,
                                 declaration_closes_at=at + timedelta(days=120))
                    for _ in range(args.declarations)
                ]  # fmt: skip
                for d in chains:
                    await d.send("submit", SubmitCommand(actor=f.APPLICANT))
                with instrumented():
                    for _ in range(args.rounds):
                        for d in chains:
                            await d.send("decide", DecisionCommand(
                                actor=f.UNIT, stage="unit_review", outcome="return",
                                opinion="请补充材料"))  # fmt: skip
                            await d.send("submit", SubmitCommand(actor=f.APPLICANT))
        finally:
            db.drop()
    print(f"store: {db.describe()}; {args.declarations} declarations × {args.rounds} "
          "return/resubmit pairs")  # fmt: skip
    for name, rows in timings.items():
        calls = len(rows)
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        print(f"\n{name}: {calls} calls; median {wall:.2f} ms wall, {cpu:.2f} ms CPU per call; "
              f"{len(statements[name]) / calls:.1f} SQL statements per call:")  # fmt: skip
        for statement, count in Counter(statements[name]).most_common():
            print(f"  {count / calls:5.2f}  {statement}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--declarations", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="postgresql://… (default SQLite)")
    args = parser.parse_args()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
