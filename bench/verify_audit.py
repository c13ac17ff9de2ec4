"""Benchmark: verifying a campaign's audit trail against a bare hashing loop.

Builds ``--events`` audit events (``--declarations`` chains of equal length, default 2,000 × 50 =
100,000) in a fresh database, then times, in the same run and on the same rows:

(a) the service: ``store.audit.check_chains(campaign_id=…)``, what ``GET /audit/verify`` and
    ``python cli.py audit verify --campaign`` run;
(b) a bare baseline: the raw driver (``sqlite3`` / ``psycopg``) reads the same rows in the same
    order, builds each row's canonical bytes with the standard library alone, sha256-hashes them
    and compares the hash and the ``prev_hash`` link, and nothing else.

It prints both timings (best of ``--repeat``), events per second and the ratio (a) / (b). The
goal is a ratio of at most 3.

    python bench/verify_audit.py                                   # a fresh SQLite file
    python bench/verify_audit.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

With PostgreSQL the URL names a server and a role that may create databases: the benchmark
creates its own database there and drops it afterwards (``--keep`` keeps it, and the SQLite
file). Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from store.audit import (
    CANONICAL_FIELDS,
    GENESIS_HASH,
    AuditHead,
    canonical_bytes,
    check_chains,
    head_message,
)
from store.db import Store, normalize_url
from store.tables import AuditEvent, DeclarationRead

CAMPAIGN = "bench-2024-engineering"
START = datetime(2024, 9, 2, 1, 30, tzinfo=UTC)
INSERT_BATCH = 10_000

STAGES = [
    "draft",
    "unit_review",
    "unit_publicity",
    "unit_recommendation",
    "authority_review",
    "committee_formal_review",
    "fee_pending",
    "defense_pending",
    "committee_review",
    "result_publicity",
]
ACTORS = [
    ("applicant-{n}", "applicant", ""),
    ("unit-reviewer-{u}", "unit_reviewer", "U-{u:03d}"),
    ("system", "admin", ""),
    ("authority-{u}", "authority_reviewer", "county-hr"),
    ("committee-{u}", "committee", "committee-aks"),
]


# --------------------------------------------------------------------------- data


def _event(declaration: int, seq: int) -> dict[str, Any]:
    """One plausible event: stage moves, Chinese opinions, reason codes, deadline explanations."""
    actor_id, role, org = ACTORS[0] if seq == 1 else ACTORS[seq % len(ACTORS)]
    unit = declaration % 40
    stage = STAGES[min(seq // 5, len(STAGES) - 1)]
    after = STAGES[min((seq + 1) // 5, len(STAGES) - 1)]
    detail: dict[str, Any] = {"n": seq}
    if role == "admin":
        detail["explanation"] = {
            "rule": "working_days",
            "source": "001 二(二) 公示不少于5个工作日",
            "inputs": {"start": "2024-09-27T10:00:00+08:00", "working_days": "5"},
            "calendar_version": "2024=chinese-calendar 1.11.0",
            "provisional": False,
            "text": "公示期 2024-09-28 至 2024-10-10，2024-10-11 00:00 结束",
        }
    return {
        "declaration_id": f"D-{declaration:06d}",
        "campaign_id": CAMPAIGN,
        "seq": seq,
        "at": START + timedelta(hours=seq, minutes=declaration % 60, microseconds=declaration),
        "actor_id": actor_id.format(n=declaration, u=unit),
        "actor_role": role,
        "actor_org": org.format(u=unit),
        "action": "created" if seq == 1 else f"decision.step{seq % 7}",
        "stage_before": None if seq == 1 else stage,
        "stage_after": "draft" if seq == 1 else after,
        "outcome": "refused" if seq % 11 == 0 else "accepted",
        "opinion": "" if role == "admin" else f"材料齐全，同意推荐（第{seq}步）",
        "reasons": ["missing_material", "unclear_scan"] if seq % 9 == 0 else [],
        "detail": detail,
    }


def _chain(declaration: int, length: int) -> Iterator[dict[str, Any]]:
    """One declaration's rows with a correct chain, hashed by the store's own rules."""
    prev = GENESIS_HASH
    for seq in range(1, length + 1):
        row = _event(declaration, seq)
        row["prev_hash"] = prev
        row["hash"] = prev = hashlib.sha256(canonical_bytes(row)).hexdigest()
        row["reasons"] = json.dumps(row["reasons"], ensure_ascii=False, separators=(",", ":"))
        row["detail"] = json.dumps(
            row["detail"], ensure_ascii=False, separators=(",", ":"), sort_keys=True
        )
        yield row


def populate(store: Store, declarations: int, length: int) -> None:
    """Bulk-insert the chains (one multi-row INSERT per batch), each chain's signed checkpoint,
    and one read-model row each, whose ``version`` is the chain's length, so verification also
    checks every chain's end against both."""
    audit = AuditEvent.__table__  # type: ignore[attr-defined]
    read = DeclarationRead.__table__  # type: ignore[attr-defined]
    heads = AuditHead.__table__  # type: ignore[attr-defined]
    batch: list[dict[str, Any]] = []
    checkpoints: list[dict[str, Any]] = []
    with store.engine.begin() as connection:
        for d in range(declarations):
            rows = list(_chain(d, length))
            batch.extend(rows)
            last = rows[-1]
            chain, digest = last["declaration_id"], last["hash"]
            checkpoints.append(
                {
                    "chain": chain,
                    "campaign_id": CAMPAIGN,
                    "seq": length,
                    "hash": digest,
                    "key_id": store.signer.key_id,
                    "signature": store.signer.sign(head_message(chain, CAMPAIGN, length, digest)),
                }
            )
            if len(batch) >= INSERT_BATCH:
                connection.execute(sa.insert(audit), batch)
                batch.clear()
        if batch:
            connection.execute(sa.insert(audit), batch)
        connection.execute(sa.insert(heads), checkpoints)
        connection.execute(
            sa.insert(read),
            [
                {
                    "declaration_id": f"D-{d:06d}",
                    "campaign_id": CAMPAIGN,
                    "state": "unit_review",
                    "unit_id": f"U-{d % 40:03d}",
                    "authority_chain": [],
                    "orgs": f"|U-{d % 40:03d}|",
                    "level": "intermediate",
                    "id_number": f"65290119800101{d:04d}",
                    "version": length,
                    "view_json": "{}",
                    "held": {},
                }
                for d in range(declarations)
            ],
        )


# --------------------------------------------------------------------------- the two timings

#: The canonical fields in their documented order, then the stored hash: ``row[14]`` is
#: ``prev_hash``, ``row[15]`` the hash.
QUERY = (
    f"SELECT {', '.join(CANONICAL_FIELDS)}, hash"
    " FROM audit_event WHERE campaign_id = {p} ORDER BY declaration_id, seq"
)


def bare_check(rows: Iterator[tuple[Any, ...]], instant: Callable[[Any], str]) -> int:
    """The baseline's loop: canonical bytes by the documented rules, sha256, compare."""
    count, current, prev = 0, None, GENESIS_HASH
    for row in rows:
        body = dict(zip(CANONICAL_FIELDS, row, strict=False))
        body["at"] = instant(body["at"])
        body["reasons"] = json.loads(body["reasons"])
        body["detail"] = json.loads(body["detail"])
        data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(data.encode("utf-8")).hexdigest()
        if row[0] != current:
            current, prev = row[0], GENESIS_HASH
        if digest != row[15] or row[14] != prev:
            raise SystemExit(f"baseline: bad event {row[0]} #{row[2]}")
        prev = digest
        count += 1
    return count


def bare_sqlite(path: str) -> int:
    connection = sqlite3.connect(path)
    try:
        cursor = connection.execute(QUERY.format(p="?"), (CAMPAIGN,))
        # Stored as naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff".
        return bare_check(
            cursor,
            lambda at: datetime.fromisoformat(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        )
    finally:
        connection.close()


def bare_postgres(url: str) -> int:
    with psycopg.connect(url) as connection, connection.transaction():
        cursor = connection.cursor(name="bench_bare")  # server-side, like the service
        cursor.itersize = 5_000
        cursor.execute(QUERY.format(p="%s").encode(), (CAMPAIGN,))
        return bare_check(
            iter(cursor),
            lambda at: at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        )


def service(store: Store) -> int:
    with store.session(readonly=True) as session:
        report = check_chains(session, campaign_id=CAMPAIGN)
    if not report.ok:
        raise SystemExit(f"service: {report.model_dump()}")
    return report.checked


def best_of(repeat: int, runs: dict[str, Callable[[], int]], expected: int) -> dict[str, float]:
    """The best time of each run over ``repeat`` rounds; the runs alternate within a round, so
    that a busy machine slows both alike."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, run in runs.items():
            began = time.perf_counter()
            count = run()
            best[name] = min(best[name], time.perf_counter() - began)
            if count != expected:
                raise SystemExit(f"{name}: checked {count} events, expected {expected}")
    return best


# --------------------------------------------------------------------------- main


def _plain(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--declarations", type=int, default=2_000)
    parser.add_argument("--database-url", help="postgresql://user@host:port/db (a server)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's database")
    args = parser.parse_args(argv)
    length = max(1, args.events // args.declarations)
    total = length * args.declarations

    workdir: Path | None = None
    admin: sa.Engine | None = None
    database = ""
    if args.database_url:
        admin = sa.create_engine(
            normalize_url(args.database_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        database = f"reviewchain_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
        url = _plain(args.database_url, database)
        bare: Callable[[], int] = lambda: bare_postgres(url)  # noqa: E731
    else:
        workdir = Path(tempfile.mkdtemp(prefix="reviewchain-bench-"))
        path = (workdir / "bench.sqlite3").as_posix()
        url = f"sqlite:///{path}"
        bare = lambda: bare_sqlite(path)  # noqa: E731
    store = Store(url)
    try:
        store.migrate()
        began = time.perf_counter()
        populate(store, args.declarations, length)
        print(
            f"{store.dialect}: {total:,} events in {args.declarations:,} chains of {length}, "
            f"written in {time.perf_counter() - began:.1f} s"
        )
        best = best_of(args.repeat, {"service": lambda: service(store), "bare": bare}, total)
        service_s, bare_s = best["service"], best["bare"]
        print(f"(a) service verify  {service_s:8.3f} s  {total / service_s:>10,.0f} events/s")
        print(f"(b) bare baseline   {bare_s:8.3f} s  {total / bare_s:>10,.0f} events/s")
        ratio = service_s / bare_s
        print(f"ratio (a)/(b)       {ratio:8.2f}   goal <= 3: {'met' if ratio <= 3 else 'MISSED'}")
        return 0 if ratio <= 3 else 1
    finally:
        store.dispose()
        if admin is not None:
            if not args.keep:
                with admin.connect() as connection:
                    connection.execute(
                        sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                    )
            else:
                print(f"kept database {database}")
            admin.dispose()
        if workdir is not None:
            if args.keep:
                print(f"kept {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
