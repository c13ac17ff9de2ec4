"""Full-size reliability runs (docs/reliability.md): kill the worker, or restart the Temporal dev
server, in the middle of a drive of M declarations, and count what completed, what was lost and
what was duplicated. The engine is testing/reliability/, the same as the CI-sized tests
(tests/reliability/test_worker_kill.py, test_server_restart.py).

    python bench/reliability_worker_kill.py                      # M=500, worker SIGKILLed at 40 %
    python bench/reliability_worker_kill.py --server-restart     # dev server stopped and started
    python bench/reliability_worker_kill.py --server-restart --kill-server   # … SIGKILLed
    python bench/reliability_worker_kill.py --declarations 200 --at 0.7 \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

Everything runs on loopback: a dev server with its state in a temporary file, ``python
worker.py`` as a separate process (a temporary SQLite store, or a new PostgreSQL database that
is dropped afterwards), the decisions sent from this process. Exits 1 unless nothing was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from store.db import normalize_url
from testing.reliability.drive import RunOptions, kill_worker, restart_server, run_drive


def _admin(url: str) -> Engine:
    return create_engine(normalize_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--declarations", "-m", type=int, default=500)
    parser.add_argument("--at", type=float, default=0.4, help="fraction answered when it strikes")
    parser.add_argument("--down", type=float, default=1.0, help="seconds the process stays down")
    parser.add_argument("--server-restart", action="store_true")
    parser.add_argument("--kill-server", action="store_true", help="SIGKILL instead of SIGTERM")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server to use")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--keep", action="store_true", help="keep the logs and state files")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="reviewchain-reliability-"))
    database_url, name = None, None
    if args.database_url and not args.database_url.startswith("sqlite"):
        name = f"reviewchain_reliability_{uuid.uuid4().hex[:10]}"
        with _admin(args.database_url).connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        database_url = make_url(args.database_url).set(database=name).render_as_string(False)
    disrupt = (
        restart_server(args.down, kill=args.kill_server)
        if args.server_restart
        else kill_worker(args.down)
    )
    what = (
        f"dev server {'SIGKILLed' if args.kill_server else 'stopped'} and restarted"
        if args.server_restart
        else "worker SIGKILLed and restarted"
    )
    try:
        report = await run_drive(
            workdir,
            RunOptions(declarations=args.declarations, at=args.at, database_url=database_url,
                       timeout=args.timeout),
            disrupt,
        )  # fmt: skip
        print(f"{what} at {args.at:.0%} of the decisions; store: "
              f"{'PostgreSQL' if database_url else 'SQLite'}")  # fmt: skip
        print("\n".join(report.lines()))
        ok = (
            report.completed_pct == 100.0
            and report.lost_decisions == 0
            and report.double_applied == 0
            and report.duplicated_events == 0
            and report.seq_gaps == 0
            and report.chains_verified
            and not report.unexpected
        )
        return 0 if ok else 1
    finally:
        if name is not None and args.database_url:
            with _admin(args.database_url).connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if args.keep:
            print(f"(kept {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
