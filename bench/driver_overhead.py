"""Benchmark: what SQLAlchemy adds to the store step's statements, next to psycopg alone.

A decision's store step (``record_audit_event``) runs its statements through SQLAlchemy Core on
the ORM session's connection. Profiles attribute much of that step to SQLAlchemy's execution path,
which made "the statements outside SQLAlchemy" a candidate change. This script measures the
candidate before anyone writes it: in a fresh PostgreSQL database migrated to the product's
schema, it runs the same transaction ``--n`` times per round both ways, rounds taking turns:

* *store*: ``Store.session()``, then the store's own functions: ``advisory_xact_lock``,
  ``tail_rows`` (the declaration's tail and the rows the time held is computed from) and
  ``insert_rows`` (one audit row), committed;
* *psycopg*: the very SQL those functions send (compiled once by SQLAlchemy for this dialect),
  executed with psycopg's own cursor on a pooled connection, committed;
* *Core connection*: the same statement objects on a plain ``engine.begin()`` connection, no ORM
  session (what dropping only the session would save).

Each transaction writes the first event of a new declaration, so both sides do the same work on
the same growing table. It prints wall and CPU time per transaction and per statement for both,
and the difference: what leaving SQLAlchemy would save per statement.

    python bench/driver_overhead.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.dialects import postgresql

from bench.stack import Database
from domain.models import AuditEventIn
from store.audit.append import _INSERT, _TAILS, chain_rows, insert_rows, tail_rows
from store.db import _XACT_LOCK, Store, _lock_key, advisory_xact_lock
from store.readmodel import HELD_FILTER

#: Statements per transaction on both sides: lock, tail read, insert.
STATEMENTS = 3


def _event(declaration_id: str) -> AuditEventIn:
    return AuditEventIn(
        declaration_id=declaration_id,
        campaign_id="C-bench",
        seq=1,
        at=datetime.now(UTC),
        actor_id="applicant-1",
        actor_role="applicant",
        action="declaration.submitted",
        stage_before="draft",
        stage_after="unit_review",
        detail={"note": "基准"},
    )


def _row(declaration_id: str) -> dict[str, Any]:
    rows, _ = chain_rows(declaration_id, [_event(declaration_id)], {})
    return rows[0]


def through_store(store: Store) -> None:
    declaration_id = f"D-{uuid.uuid4().hex[:12]}"
    with store.session() as session:
        advisory_xact_lock(session, f"audit:{declaration_id}")
        tail_rows(session, declaration_id, 0, also=HELD_FILTER)
        insert_rows(session, [_row(declaration_id)])


def _tail_statement(store: Store) -> Any:
    """The tail statement exactly as the store builds it (built by one call, then cached)."""
    with store.session() as session:
        tail_rows(session, "D-warm", 0, also=HELD_FILTER)
    return next(statement for _, statement in _TAILS.values())


def through_core(store: Store) -> Callable[[], None]:
    tail = _tail_statement(store)

    def run() -> None:
        declaration_id = f"D-{uuid.uuid4().hex[:12]}"
        with store.engine.begin() as connection:
            connection.execute(_XACT_LOCK, {"key": _lock_key(f"audit:{declaration_id}")})
            connection.execute(tail, {"declaration_id": declaration_id, "from_seq": 0}).all()
            connection.execute(_INSERT, [_row(declaration_id)])

    return run


def through_psycopg(store: Store) -> Callable[[], None]:
    dialect = postgresql.dialect()
    dialect.paramstyle = "pyformat"
    lock = str(_XACT_LOCK.compile(dialect=dialect))
    compiled = _tail_statement(store).compile(dialect=dialect)
    tail, constants = str(compiled), dict(compiled.params)  # HELD_FILTER's literals
    insert = str(_INSERT.compile(dialect=dialect, column_keys=list(_row("D-warm"))))

    def run() -> None:
        declaration_id = f"D-{uuid.uuid4().hex[:12]}"
        with store.engine.connect() as connection:
            raw: Any = connection.connection.dbapi_connection
            with raw.transaction(), raw.cursor() as cursor:
                cursor.execute(lock, {"key": _lock_key(f"audit:{declaration_id}")})
                cursor.execute(tail, {**constants, "declaration_id": declaration_id, "from_seq": 0})
                cursor.fetchall()
                cursor.execute(insert, _row(declaration_id))

    return run


def measure(fn: Callable[[], None], n: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(n):
        wall, cpu = time.perf_counter(), time.thread_time()
        fn()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.thread_time() - cpu) * 1000)
    return walls, cpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=2000, help="transactions per side per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", required=True, help="postgresql://… (a server)")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgresql", "postgres")):
        parser.error("the comparison is with psycopg: give a PostgreSQL server")
    with tempfile.TemporaryDirectory(prefix="reviewchain-driver-bench-") as tmp:
        db = Database(args.database_url, Path(tmp))
        store = Store(db.url, pre_ping=False)
        try:
            store.migrate()
            sides: dict[str, Callable[[], None]] = {
                "store (SQLAlchemy Core)": lambda: through_store(store),
                "psycopg alone": through_psycopg(store),
                "Core connection, no Session": through_core(store),
            }
            results: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in sides}
            for fn in sides.values():  # warm every side: pool, prepared statements, caches
                measure(fn, 200)
            for _ in range(args.rounds):
                for name, fn in sides.items():
                    walls, cpus = measure(fn, args.n)
                    results[name][0].extend(walls)
                    results[name][1].extend(cpus)
        finally:
            store.dispose()
            db.drop()
    print(f"{args.rounds} rounds × {args.n} transactions per side; {STATEMENTS} statements and "
          "a commit per transaction; PostgreSQL, fresh database")  # fmt: skip
    print(f"  {'side':26} {'wall p50 ms':>12} {'CPU mean ms':>12} {'CPU per statement':>18}")
    cpu_means = {}
    for name, (walls, cpus) in results.items():
        cpu_means[name] = statistics.fmean(cpus)
        print(f"  {name:26} {statistics.median(walls):12.3f} {cpu_means[name]:12.3f} "
              f"{cpu_means[name] / STATEMENTS:18.3f}")  # fmt: skip
    store_cpu, raw_cpu, core_cpu = cpu_means.values()
    print(f"  SQLAlchemy's share: {(store_cpu - raw_cpu) / STATEMENTS:.3f} ms of CPU per statement "
          f"({store_cpu / raw_cpu:.2f}x psycopg alone); the ORM session's: "
          f"{(store_cpu - core_cpu) / STATEMENTS:.3f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
