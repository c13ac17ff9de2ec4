"""Benchmark: the worker's memory and the API's list and inbox latency with many open
declarations parked on their timers (at 100, then at ``--n``, default 20,000).

Everything runs on this machine, on loopback, in separate processes (``bench/stack.py``): a
Temporal dev server, the production worker (``python worker.py``), the API (uvicorn) and a fresh
store (SQLite file, or a new PostgreSQL database with ``--database-url``).

Declarations are started through the Temporal client (``workflows.client.start_declaration``)
in one campaign whose declaration deadline is 180 days away, filed by distinct applicants. The
first ``--baseline`` (100) all belong to the measured unit and are all submitted, so that every
measured page is full (50 rows) already at the small size; the rest are spread over ``--units``
employer units and ``--submit-fraction`` of them are submitted (waiting in their unit's inbox),
the others stay drafts. Every one is an open workflow asleep on its deadline timers, its view in
the read model.

At 100 open declarations, then again once ``--n`` are open, it measures (``--requests`` calls
each, ``--concurrency`` at a time, the endpoints taking turns):

* ``GET /inbox`` as a unit reviewer (what waits on one unit),
* ``GET /declarations`` as an admin (everything, newest activity first) and as a unit reviewer,

and prints p50/p95/p99 at both sizes with the ratio (goal: p99 at ``--n`` ≤ 2 × p99 at 100),
the worker's RSS and peak RSS (``VmHWM``; goal ≤ 1.5 GB), and how fast declarations were
started. Growing to 20,000 takes several minutes on two cores: ``--quick`` grows to 2,000, and
``--max-seconds`` stops growing early (the size reached is what is reported). Not a test.

    python bench/scale.py --quick
    python bench/scale.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.stack import (
    KEEPALIVE_S,
    CpuMeter,
    Latencies,
    Pids,
    Stack,
    StackOptions,
    create_campaign,
    postgres_pids,
    print_table,
    proc_status,
    unique_id_number,
)
from domain.models import Actor, Campaign, DeclarationStart, SubmitCommand
from gateway import send
from testing import factories as f
from workflows.client import start_declaration

P99_GOAL = 2.0
RSS_GOAL_MB = 1536


def unit(i: int) -> str:
    return f"U-{i:03d}"


class Grower:
    """Starts declarations (and submits some) until ``target`` are open."""

    def __init__(
        self, stack: Stack, campaign: Campaign, units: int, submit_fraction: float, baseline: int
    ) -> None:
        assert stack.client is not None
        self.stack, self.client, self.campaign = stack, stack.client, campaign
        self.units, self.submit_fraction, self.baseline = units, submit_fraction, baseline
        self.count = 0
        self.submitted = 0
        self.failures: list[str] = []

    async def one(self, i: int) -> None:
        applicant = Actor(id=f"applicant-{i:06d}", role="applicant")
        # The first ``baseline`` declarations are all the measured unit's, all submitted, so that
        # every measured page is full (50 rows) at the small size too: the comparison is then of
        # the same work on a larger table, not of pages of 2 rows against pages of 50.
        first = i < self.baseline
        decl = f.declaration(
            self.campaign,
            unit_id=f.UNIT.org if first else unit(i % self.units),
            applicant=f.applicant(id_number=unique_id_number()),
        )
        start = DeclarationStart(
            declaration_id=f"D-{uuid.uuid4().hex[:12]}",
            campaign=self.campaign,
            declaration=decl,
            filed_by=applicant,
            created_at=datetime.now(UTC),
        )
        try:
            await start_declaration(self.client, self.stack.task_queue, start)
            if first or random.Random(i).random() < self.submit_fraction:
                await send(
                    self.client, start.declaration_id, "submit", SubmitCommand(actor=applicant)
                )
                self.submitted += 1
        except Exception as err:
            self.failures.append(f"{type(err).__name__}: {str(err)[:200]}")
            return
        self.count += 1

    async def grow(self, target: int, concurrency: int, deadline: float) -> float:
        """Start declarations until ``target`` exist (or the deadline passes); seconds taken."""
        began = time.monotonic()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(self.count, target):
            queue.put_nowait(i)
        last_print = time.monotonic()

        async def worker() -> None:
            nonlocal last_print
            while not queue.empty() and time.monotonic() < deadline:
                await self.one(queue.get_nowait())
                if time.monotonic() - last_print > 30:
                    last_print = time.monotonic()
                    rate = self.count / (last_print - began + 1e-9)
                    print(f"  … {self.count} open ({rate:.0f}/s overall)", flush=True)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.monotonic() - began


async def settled(stack: Stack, expected: int, within: float = 300) -> int:
    """Wait until the read model holds ``expected`` declarations (the first step of each is
    written a moment after its start); returns how many it holds."""
    headers = stack.headers(f.ADMIN)
    loop_until = time.monotonic() + within
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as http:
        while True:
            page = (
                await http.get("/declarations", params={"page_size": 1}, headers=headers)
            ).json()
            if page["total"] >= expected or time.monotonic() > loop_until:
                return int(page["total"])
            await asyncio.sleep(0.5)


ENDPOINTS: list[tuple[str, str, Actor, dict[str, Any]]] = [
    ("GET /inbox (unit reviewer)", "/inbox", f.UNIT, {}),
    ("GET /declarations (admin)", "/declarations", f.ADMIN, {}),
    ("GET /declarations (unit reviewer)", "/declarations", f.UNIT, {}),
]


async def measure(
    stack: Stack, label: str, requests: int, concurrency: int
) -> tuple[dict[str, Latencies], dict[str, int]]:
    """``requests`` calls per endpoint, ``concurrency`` at a time, endpoints taking turns."""
    rows = {name: Latencies(f"{name} @ {label}") for name, *_ in ENDPOINTS}
    totals: dict[str, int] = {}
    headers = {a.id: stack.headers(a) for _, _, a, _ in ENDPOINTS}
    jobs = [e for _ in range(requests) for e in ENDPOINTS]
    limits = httpx.Limits(max_connections=concurrency * 2, keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(base_url=stack.base_url, limits=limits, timeout=60) as http:
        for name, path, actor, params in ENDPOINTS:  # warm up
            response = await http.get(path, params=params, headers=headers[actor.id])
            response.raise_for_status()
            totals[name] = int(response.json()["total"])
        began = time.perf_counter()
        position = 0

        async def caller() -> None:
            nonlocal position
            while position < len(jobs):
                name, path, actor, params = jobs[position]
                position += 1
                t = time.perf_counter()
                response = await http.get(path, params=params, headers=headers[actor.id])
                if response.status_code == 200:
                    rows[name].add(time.perf_counter() - t)
                else:
                    rows[name].errors += 1

        await asyncio.gather(*(caller() for _ in range(concurrency)))
        for row in rows.values():
            row.wall = time.perf_counter() - began
    return rows, totals


async def run(args: argparse.Namespace) -> int:
    n = 2000 if args.quick and args.n is None else (args.n or 20_000)
    options = StackOptions(
        database_url=args.database_url, temporal_db=args.temporal_db, keep=args.keep,
    )  # fmt: skip
    began = time.monotonic()
    async with Stack(options) as stack:
        assert stack.client is not None and stack.worker is not None and stack.api is not None
        now = datetime.now(UTC)
        campaign = f.campaign(now, declaration_closes_at=now + timedelta(days=180))
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as http:
            await create_campaign(stack, http, campaign)
        print(f"store: {stack.db.describe() if stack.db else '?'}; dev server "
              f"({args.temporal_db}); growing to {n} open declarations over {args.units} units, "
              f"{args.submit_fraction:.0%} submitted")  # fmt: skip
        grower = Grower(stack, campaign, args.units, args.submit_fraction, args.baseline)
        temporal = next(p for p in stack.procs if p.name == "temporal")
        groups: dict[str, Pids] = {
            "worker": [stack.worker.pid],
            "api": [stack.api.pid],
            "temporal": [temporal.pid],
            "bench driver": [os.getpid()],
        }
        if stack.db is not None and stack.db.kind == "postgresql":
            groups["postgres"] = postgres_pids  # a process per connection: listed at each reading
        deadline = time.monotonic() + args.max_seconds
        await grower.grow(args.baseline, args.grow_concurrency, deadline)
        small_total = await settled(stack, grower.count)
        small_mem = proc_status(stack.worker.pid)
        small_meter = CpuMeter(groups)
        with small_meter:
            small, small_totals = await measure(
                stack, f"{small_total} open", args.requests, args.concurrency
            )
        grow_meter = CpuMeter(groups)
        with grow_meter:
            seconds = await grower.grow(n, args.grow_concurrency, deadline)
        large_total = await settled(stack, grower.count)
        large_meter = CpuMeter(groups)
        with large_meter:
            large, large_totals = await measure(
                stack, f"{large_total} open", args.requests, args.concurrency
            )
        large_mem = proc_status(stack.worker.pid)
        grown = grower.count - args.baseline
        print(f"\nstarted {grown} more declarations in {seconds:.0f} s "
              f"({grown / seconds if seconds else 0:.1f}/s, {grower.submitted} submitted in all); "
              f"the read model holds {large_total}")  # fmt: skip
        if grower.count < n:
            print(f"  stopped at {grower.count} of {n}: --max-seconds {args.max_seconds:g} reached")
        for failure in grower.failures[:3]:
            print(f"  failure: {failure}")
        names = list(groups)
        print("  CPU while growing, per declaration, ms: " + ", ".join(
            f"{name} {grow_meter.used[name] / max(1, grown) * 1000:.1f}" for name in names
        ) + f", background {grow_meter.background / max(1, grown) * 1000:.1f}")  # fmt: skip

    print()
    print_table([*small.values(), *large.values()])
    print("  rows the caller sees (total): " + "; ".join(
        f"{name}: {small_totals[name]} → {large_totals[name]}" for name, *_ in ENDPOINTS
    ))  # fmt: skip
    for label, meter in (("at the small size", small_meter), ("at the large size", large_meter)):
        print(f"  machine while measuring {label}: background "
              f"{meter.background / max(meter.wall, 1e-9) * 100:.0f}% of a core")  # fmt: skip
    print()
    met_all = True
    for name, *_ in ENDPOINTS:
        ratio = large[name].p(99) / small[name].p(99)
        met = ratio <= P99_GOAL
        met_all = met_all and met
        print(f"  {name:36} p99 {small[name].p(99) * 1000:7.1f} ms → "
              f"{large[name].p(99) * 1000:7.1f} ms: {ratio:5.2f}x  goal <= {P99_GOAL}x: "
              f"{'met' if met else 'NOT met'}")  # fmt: skip
    rss = large_mem.get("VmRSS", 0) / 1024
    peak = large_mem.get("VmHWM", 0) / 1024
    print(f"  worker RSS {small_mem.get('VmRSS', 0) / 1024:.0f} MB at {small_total} open → "
          f"{rss:.0f} MB at {large_total} open; peak (VmHWM) {peak:.0f} MB; goal <= "
          f"{RSS_GOAL_MB} MB: {'met' if peak <= RSS_GOAL_MB else 'NOT met'}")  # fmt: skip
    print(f"run took {time.monotonic() - began:.0f} s")
    return 0 if met_all and peak <= RSS_GOAL_MB else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=None, help="open declarations (default 20000)")
    parser.add_argument("--quick", action="store_true", help="grow to 2,000 instead")
    parser.add_argument("--baseline", type=int, default=100, help="the small size")
    parser.add_argument("--units", type=int, default=20, help="employer units")
    parser.add_argument("--submit-fraction", type=float, default=0.25)
    parser.add_argument("--grow-concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=500, help="calls per endpoint and size")
    parser.add_argument("--concurrency", type=int, default=4, help="calls in flight")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop growing after")
    parser.add_argument("--database-url", default=None, help="postgresql://… (default SQLite)")
    parser.add_argument("--temporal-db", choices=["file", "memory"], default="memory")
    parser.add_argument("--keep", action="store_true", help="keep the logs and databases")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
