"""Benchmark (issue "HTTP API"): the latency of a decision over HTTP against a skeleton workflow
with the same event shape driven directly through the Temporal client, at the same loads.

Everything runs on this machine, on loopback, in separate processes (``bench/stack.py``): a
Temporal dev server (its own state in memory unless ``--temporal-db file``), the production
worker (``python worker.py``), the API (uvicorn, as docker-compose runs it), the skeleton worker
(``bench/skeleton.py``, tuned like the production worker), and a fresh store (a SQLite file, or a
new PostgreSQL database with ``--database-url``). This process only drives and measures.

**The repeated decision.** ``--n`` declarations are filed and submitted over HTTP, so each waits
in ``unit_review``. The measured calls then alternate, per declaration, between the unit's
return (``POST /declarations/{id}/decisions``, stage ``unit_review``, outcome ``return``:
``returned``, correction window computed) and the applicant's resubmission (``POST
/declarations/{id}/submit``: screening, back to ``unit_review``). Unit returns count against no
submission cap (docs/rules.md §2.5), the correction window is days long and the declaration deadline
120 days away, so the pair repeats as often as needed within the rules; both are ordinary
decisions (an update each, with its local activities, search attribute upsert, re-armed timer and
audit write).

**The baselines**, measured in the same run at the same loads, through the Temporal client with
the same update names and the same command payloads:

* *client send (real chain)*: the same decisions on other declarations through
  ``gateway.send``, the call the API makes: the difference to HTTP is the API's share;

* *client send, audit write as a local activity* (``--compare-audit-write``): the same, on
  declarations started through the client with ``audit_write="local_activity"``, which keeps them
  on the audit write from before the ``audit-write-in-history`` patch (a local activity inside the
  workflow task instead of a regular activity whose input is in history): what the patch costs;

* *skeleton (matched)*: the skeleton workflow running, for each update, exactly what the real
  workflow's history shows for it (read off a probe declaration's history: two local
  activities, an upsert, a timer cancelled and re-armed), with no logic and no store;
* *skeleton (1 local activity)*: the minimal shape of the issue: a validator, one local
  activity, a re-armed timer, the answer.

**The loads.** Open loop at ``--rate`` decisions/s (default 20): call *i* is scheduled at
``t0 + i/rate`` and its latency is measured from that scheduled instant, so queueing behind a
slow call counts (no coordinated omission); a declaration gets its next call only after its
previous one has answered (waiting for it counts too). Then saturation: a closed loop with
``--concurrency`` callers (default 16), each with its own declarations. Each phase has a warm-up
that is not recorded, and is bounded in time and in calls.

It prints p50/p95/p99 for every series, the ratios HTTP/skeleton, whether the goal (HTTP p99 ≤
1.25 × the skeleton's p99) is met at each load, and the CPU seconds each process spent per
decision. Under saturation it also prints what this machine allows at best: the throughput the
HTTP chain could reach were its worker as cheap as the skeleton worker, everything else as
measured (``bench.stack.ideal_worker_bound``; a closed loop's latency is at least the inverse).
Not a test: run it by hand.

    python bench/http_vs_skeleton.py                       # SQLite store, ~4 minutes
    python bench/http_vs_skeleton.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/http_vs_skeleton.py --compare-audit-write [--database-url …]
    python bench/http_vs_skeleton.py --compare-audit-write --audit-write-only --rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from temporalio.client import Client

from bench.skeleton import (
    Plan,
    SkeletonStart,
    SkeletonWorkflow,
    event_names,
    one_local_activity_plan,
    plan_from_history,
    shape_difference,
)
from bench.stack import (
    KEEPALIVE_S,
    CpuMeter,
    Latencies,
    Pids,
    Stack,
    StackOptions,
    create_campaign,
    gather_limited,
    ideal_worker_bound,
    postgres_pids,
    print_table,
    proc_status,
    unique_id_number,
)
from domain.models import (
    Campaign,
    DecisionCommand,
    DeclarationStart,
    DeclarationView,
    SubmitCommand,
)
from gateway import send, workflow_id
from testing import factories as f
from workflows import search
from workflows.client import start_declaration

OPINION = "请补充近五年业绩证明材料 / please add the proof of achievements"
GOAL = 1.25
LOCAL_AUDIT = "client send, audit as local activity"


# --------------------------------------------------------------------------- targets


@dataclass
class Lane:
    """One declaration (or skeleton workflow): its calls run one at a time, alternating."""

    key: str
    next_op: str = "decide"
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Target:
    """Something that answers decisions: the API over HTTP, or skeleton workflows."""

    name: str
    lanes: list[Lane]

    async def call(self, lane: Lane) -> bool:
        raise NotImplementedError

    async def one(self, lane: Lane) -> tuple[bool, str]:
        """Send the lane's next decision; True when it was accepted."""
        async with lane.lock:
            op = lane.next_op
            ok = await self.call(lane)
            if ok:
                lane.next_op = "submit" if op == "decide" else "decide"
            return ok, op


class HttpTarget(Target):
    def __init__(self, http: httpx.AsyncClient, stack: Stack, ids: list[str]) -> None:
        self.name = "HTTP API (real chain)"
        self.http = http
        self.lanes = [Lane(i) for i in ids]
        self.unit = stack.headers(f.UNIT)
        self.applicant = stack.headers(f.APPLICANT)

    async def call(self, lane: Lane) -> bool:
        if lane.next_op == "decide":
            response = await self.http.post(
                f"/declarations/{lane.key}/decisions",
                json={"stage": "unit_review", "outcome": "return", "opinion": OPINION},
                headers=self.unit,
            )
            ok = response.status_code == 200 and response.json()["state"] == "returned"
        else:
            response = await self.http.post(
                f"/declarations/{lane.key}/submit", headers=self.applicant
            )
            ok = response.status_code == 200 and response.json()["state"] == "unit_review"
        if not ok:  # resynchronise with the declaration's real state
            view = (await self.http.get(f"/declarations/{lane.key}", headers=self.unit)).json()
            lane.next_op = "submit" if view.get("state") == "returned" else "decide"
        return ok


class ClientTarget(Target):
    """The real chain through ``gateway.send`` (what the API calls), without HTTP."""

    def __init__(
        self, client: Client, ids: list[str], name: str = "client send (real chain)"
    ) -> None:
        self.name = name
        self.client = client
        self.lanes = [Lane(i) for i in ids]
        self.decide = DecisionCommand(
            actor=f.UNIT, stage="unit_review", outcome="return", opinion=OPINION
        )
        self.submit = SubmitCommand(actor=f.APPLICANT)

    async def call(self, lane: Lane) -> bool:
        cmd = self.decide if lane.next_op == "decide" else self.submit
        try:
            await send(self.client, lane.key, lane.next_op, cmd)
        except Exception:
            view = await self.client.get_workflow_handle(workflow_id(lane.key)).query(
                "view", result_type=DeclarationView
            )
            lane.next_op = "submit" if view.state == "returned" else "decide"
            return False
        return True


class SkeletonTarget(Target):
    def __init__(self, name: str, client: Client, keys: list[str]) -> None:
        self.name = name
        self.client = client
        self.lanes = [Lane(k) for k in keys]
        self.decide = DecisionCommand(
            actor=f.UNIT, stage="unit_review", outcome="return", opinion=OPINION
        )
        self.submit = SubmitCommand(actor=f.APPLICANT)

    async def call(self, lane: Lane) -> bool:
        handle = self.client.get_workflow_handle(lane.key)
        cmd = self.decide if lane.next_op == "decide" else self.submit
        try:
            await handle.execute_update(lane.next_op, cmd)
        except Exception:
            return False
        return True


# --------------------------------------------------------------------------- loads


async def open_loop(
    target: Target, rate: float, seconds: float, warmup: float, label: str
) -> Latencies:
    """Calls at fixed intervals; latency from each call's scheduled instant."""
    out = Latencies(f"{target.name} @ {rate:g}/s {label}")
    lanes = target.lanes
    total = int((warmup + seconds) * rate)
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.2
    measured_from = t0 + warmup
    tasks = []

    async def fire(i: int, scheduled: float) -> None:
        try:
            ok, _ = await target.one(lanes[i % len(lanes)])
        except Exception:
            ok = False
        if scheduled < measured_from:
            return
        if ok:
            out.add(loop.time() - scheduled)
        else:
            out.errors += 1

    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(fire(i, scheduled)))
    await asyncio.gather(*tasks)
    out.wall = seconds
    return out


async def closed_loop(
    target: Target, concurrency: int, seconds: float, warmup: float, max_calls: int
) -> Latencies:
    """``concurrency`` callers, each sending its own declarations' decisions back to back."""
    out = Latencies(f"{target.name} saturated (C={concurrency})")
    loop = asyncio.get_running_loop()
    start = loop.time()
    measured_from = start + warmup
    stop_at = measured_from + seconds
    done = 0

    async def caller(k: int) -> None:
        nonlocal done
        mine = target.lanes[k::concurrency]
        i = 0
        while loop.time() < stop_at and done < max_calls:
            began = loop.time()
            try:
                ok, _ = await target.one(mine[i % len(mine)])
            except Exception:
                ok = False
            i += 1
            if began < measured_from:
                continue
            done += 1
            if ok:
                out.add(loop.time() - began)
            else:
                out.errors += 1

    await asyncio.gather(*(caller(k) for k in range(concurrency)))
    out.wall = max(loop.time() - measured_from, 1e-9)
    return out


# --------------------------------------------------------------------------- preparation


def bench_campaign() -> Campaign:
    now = datetime.now(UTC)
    return f.campaign(now, declaration_closes_at=now + timedelta(days=120))


async def prepare_http(
    stack: Stack, http: httpx.AsyncClient, n: int, campaign: Campaign | None = None
) -> list[str]:
    """A campaign (created here) and ``n`` declarations waiting in ``unit_review``."""
    campaign = campaign or bench_campaign()
    await create_campaign(stack, http, campaign)
    applicant = stack.headers(f.APPLICANT)

    async def file(_: int) -> str:
        applicant_data = f.applicant(id_number=unique_id_number())
        body = f.declaration_body(campaign, applicant=applicant_data)
        response = await http.post("/declarations", json=body, headers=applicant)
        response.raise_for_status()
        declaration_id = str(response.json()["id"])
        for _attempt in range(100):  # the first step is recorded a moment after the 201
            submitted = await http.post(f"/declarations/{declaration_id}/submit", headers=applicant)
            if submitted.status_code == 200:
                return declaration_id
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{declaration_id}: submit answered {submitted.status_code}")

    return list(await gather_limited(n, file))


async def prepare_local_audit(stack: Stack, campaign: Campaign, n: int) -> list[str]:
    """``n`` declarations of ``campaign`` (already created) waiting in ``unit_review``, started
    through the client with ``audit_write="local_activity"`` (the pre-patch audit write)."""
    client = stack.client
    assert client is not None

    async def file(_: int) -> str:
        start = DeclarationStart(
            declaration_id=f"D-local-{uuid.uuid4().hex[:12]}",
            campaign=campaign,
            declaration=f.declaration(
                campaign, applicant=f.applicant(id_number=unique_id_number())
            ),
            filed_by=f.APPLICANT,
            created_at=datetime.now(UTC),
            audit_write="local_activity",
        )
        await start_declaration(client, stack.task_queue, start)
        await send(client, start.declaration_id, "submit", SubmitCommand(actor=f.APPLICANT))
        return start.declaration_id

    return list(await gather_limited(n, file))


async def events_per_decision(stack: Stack, declaration_id: str, target: Target) -> float:
    """History events per decision of the repeated return / resubmission, after two rounds on
    ``declaration_id`` (counted from the second decision's workflow task on)."""
    lane = Lane(declaration_id)
    for _ in range(4):
        ok, op = await target.one(lane)
        if not ok:
            raise RuntimeError(f"{declaration_id}: {op} refused")
    assert stack.client is not None
    history = await stack.client.get_workflow_handle(workflow_id(declaration_id)).fetch_history()
    names = from_first_decision(event_names(history.events))
    updates = sum(1 for n in names if n == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
    return len(names) / max(1, updates)


async def probe_plan(stack: Stack, http: httpx.AsyncClient, probe: str) -> tuple[Plan, list[str]]:
    """Two return/resubmit rounds on one declaration; the skeleton plan read off its history:
    start, first submit, then (return, resubmit) repeated."""
    target = HttpTarget(http, stack, [probe])
    for _ in range(4):
        ok, op = await target.one(target.lanes[0])
        if not ok:
            raise RuntimeError(f"probe {op} refused")
    assert stack.client is not None
    history = await stack.client.get_workflow_handle(workflow_id(probe)).fetch_history()
    plan = plan_from_history(history.events)
    triggers = [s.trigger for s in plan.steps]
    expected = ["start", "update:submit", "update:decide", "update:submit"]
    if triggers[:4] != expected:
        raise RuntimeError(f"unexpected probe history: {triggers}")
    return Plan(steps=plan.steps[:4], cycle_from=2), event_names(history.events)


async def start_skeletons(stack: Stack, plan: Plan, n: int, tag: str) -> list[str]:
    client = stack.client
    assert client is not None
    keys = [f"skeleton-{tag}-{uuid.uuid4().hex[:8]}" for _ in range(n)]

    async def start(i: int) -> None:
        await client.start_workflow(
            SkeletonWorkflow.run,
            SkeletonStart(key=keys[i], plan=plan),
            id=keys[i],
            task_queue=stack.skeleton_queue,
        )
        await client.get_workflow_handle(keys[i]).execute_update(
            "submit", SubmitCommand(actor=f.APPLICANT)
        )

    await gather_limited(n, start)
    return keys


async def skeleton_shape(stack: Stack, key: str, rounds: int) -> list[str]:
    """The event types of a fresh skeleton after the probe's calls (to compare shapes)."""
    assert stack.client is not None
    target = SkeletonTarget("shape", stack.client, [key])
    for _ in range(rounds):
        await target.one(target.lanes[0])
    history = await stack.client.get_workflow_handle(key).fetch_history()
    return event_names(history.events)


def from_first_decision(names: list[str]) -> list[str]:
    """The events from the first measured-shape update on (whether the very first update
    shares the first workflow task with the start is a matter of timing, not of shape)."""
    updates = [i for i, n in enumerate(names) if n == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED"]
    return names[updates[1] - 3 :] if len(updates) > 1 else names


# --------------------------------------------------------------------------- main


def ratio(a: float, b: float) -> str:
    return f"{a / b:5.2f}x" if b else "   n/a"


async def run(args: argparse.Namespace) -> int:
    options = StackOptions(
        database_url=args.database_url, temporal_db=args.temporal_db, skeleton=True,
        keep=args.keep,
    )  # fmt: skip
    began = time.monotonic()
    async with Stack(options) as stack:
        assert stack.client is not None and stack.worker and stack.api and stack.skeleton_worker
        await search.ensure_registered(stack.client)
        limits = httpx.Limits(
            max_connections=max(64, args.concurrency * 2), keepalive_expiry=KEEPALIVE_S
        )
        async with httpx.AsyncClient(base_url=stack.base_url, limits=limits, timeout=60.0) as http:
            print(f"store: {stack.db.describe() if stack.db else '?'}; Temporal dev server "
                  f"({args.temporal_db}); {args.n} declarations per target")  # fmt: skip
            t = time.monotonic()
            campaign = bench_campaign()
            extra = 1 if args.compare_audit_write else 0  # a probe for the events per decision
            ids = await prepare_http(stack, http, 2 * args.n + 1 + extra, campaign)
            probe, ids, client_ids = ids[0], ids[1 : args.n + 1], ids[args.n + 1 :]
            plan, real_shape = await probe_plan(stack, http, probe)
            local_ids: list[str] = []
            events_each: dict[str, float] = {}
            if args.compare_audit_write:
                local_ids = await prepare_local_audit(stack, campaign, args.n + 1)
                probes = {"regular activity": client_ids.pop(), "local activity": local_ids.pop()}
                for way, one in probes.items():
                    events_each[way] = await events_per_decision(
                        stack, one, ClientTarget(stack.client, [one])
                    )
            matched = await start_skeletons(stack, plan, args.n + 1, "matched")
            minimal_plan = one_local_activity_plan(["decide", "submit"], first=["submit"])
            minimal = await start_skeletons(stack, minimal_plan, args.n, "minimal")
            shape = await skeleton_shape(stack, matched.pop(), 4)
            print(f"prepared in {time.monotonic() - t:.0f} s")
            real_shape, shape = from_first_decision(real_shape), from_first_decision(shape)
            diff = shape_difference(real_shape, shape)
            print(f"event shape of the repeated decisions, real vs matched skeleton "
                  f"({len(real_shape)} events): "
                  f"{'identical' if not diff else 'DIFFERENT: ' + diff}")  # fmt: skip
            for label, value in events_each.items():
                print(
                    f"history events per repeated decision, audit write as a {label}: {value:.1f}"
                )
            client_target = ClientTarget(stack.client, client_ids)
            targets: list[Target] = [HttpTarget(http, stack, ids), client_target]
            if local_ids:
                targets.append(ClientTarget(stack.client, local_ids, LOCAL_AUDIT))
            targets += [
                SkeletonTarget("skeleton (matched events)", stack.client, matched),
                SkeletonTarget("skeleton (1 local activity)", stack.client, minimal),
            ]
            if args.audit_write_only:  # the two ways of writing the trail, nothing else
                targets = [t for t in targets if isinstance(t, ClientTarget)]
            skeletons = [t for t in targets if isinstance(t, SkeletonTarget)]
            http_target = next((t for t in targets if isinstance(t, HttpTarget)), None)
            temporal = next(p for p in stack.procs if p.name == "temporal")
            groups: dict[str, Pids] = {
                "worker": [stack.worker.pid],
                "api": [stack.api.pid],
                "skeleton worker": [stack.skeleton_worker.pid],
                "temporal": [temporal.pid],
                "bench driver": [os.getpid()],
            }
            if stack.db is not None and stack.db.kind == "postgresql":
                groups["postgres"] = (
                    postgres_pids  # a process per connection: listed at each reading
                )
            phases = {
                "open": f"open loop {args.rate:g}/s",
                "sat": f"saturation C={args.concurrency}",
            }
            rows = {
                (phase, t.name): Latencies(f"{t.name} | {label}")
                for phase, label in phases.items()
                for t in targets
            }
            meters = {key: CpuMeter(groups) for key in rows}
            # Rounds: the targets take turns, so that whatever else loads the machine meanwhile
            # falls on all of them alike.
            for _ in range(args.rounds):
                for target in targets:
                    key = ("open", target.name)
                    with meters[key]:
                        rows[key].merge(
                            await open_loop(target, args.rate, args.seconds / args.rounds,
                                            args.warmup, "")
                        )  # fmt: skip
            for _ in range(args.rounds):
                for target in targets:
                    key = ("sat", target.name)
                    with meters[key]:
                        rows[key].merge(
                            await closed_loop(target, args.concurrency,
                                              args.sat_seconds / args.rounds, args.warmup,
                                              args.max_calls)
                        )  # fmt: skip
            worker_mem = proc_status(stack.worker.pid)

    print()
    print(f"Decision latency: open loop {args.seconds:g} s at {args.rate:g}/s, saturation "
          f"{args.sat_seconds:g} s with C={args.concurrency}; each in {args.rounds} rounds taking "
          f"turns, each round after a {args.warmup:g} s unrecorded warm-up")  # fmt: skip
    print_table(list(rows.values()))
    print()
    names = list(groups)
    print("CPU per decision in each series, ms (background: the rest of the machine's busy time):")
    print(f"  {'series':60} " + " ".join(f"{n[:10]:>10}" for n in [*names, "background"]))
    per_decision = {
        key: meters[key].per_unit(len(row.values) + row.errors) for key, row in rows.items()
    }
    for key, row in rows.items():
        calls = max(1, len(row.values) + row.errors)
        per = [*per_decision[key].values(), meters[key].background / calls * 1000]
        print(f"  {row.name[:60]:60} " + " ".join(f"{v:10.2f}" for v in per))
    print()
    met_all = True
    for phase, label in phases.items():
        client_row = rows[(phase, client_target.name)]
        if http_target is None:
            http_row = client_row
        else:
            http_row = rows[(phase, http_target.name)]
            print(f"  {label:16} HTTP / client send (the API's own share)  p50 "
                  f"{ratio(http_row.p(50), client_row.p(50))}  p99 "
                  f"{ratio(http_row.p(99), client_row.p(99))}")  # fmt: skip
        if local_ids:
            local_row = rows[(phase, LOCAL_AUDIT)]
            print(
                f"  {label:16} client send / {LOCAL_AUDIT} (what the audit write in history "
                f"costs)  p50 {ratio(client_row.p(50), local_row.p(50))}  p99 "
                f"{ratio(client_row.p(99), local_row.p(99))}  throughput "
                f"{client_row.rate / local_row.rate:5.2f}"
            )
        for target in skeletons:
            skeleton_row = rows[(phase, target.name)]
            p99_ratio = http_row.p(99) / skeleton_row.p(99)
            met = p99_ratio <= GOAL
            met_all = met_all and met
            print(f"  {label:16} HTTP / {target.name:28} p50 "
                  f"{ratio(http_row.p(50), skeleton_row.p(50))}  p99 "
                  f"{ratio(http_row.p(99), skeleton_row.p(99))}  "
                  f"goal p99 <= {GOAL}x: {'met' if met else 'NOT met'}")  # fmt: skip
        if phase == "sat" and skeletons and http_target is not None:
            for target in skeletons:
                skeleton_row = rows[(phase, target.name)]
                print(f"  {'':16} throughput HTTP / {target.name:28} "
                      f"{http_row.rate / skeleton_row.rate:5.2f}")  # fmt: skip
            real_key, twin_key = (phase, http_target.name), (phase, skeletons[0].name)
            bound = ideal_worker_bound(
                per_decision[real_key], per_decision[twin_key], ["worker"], "skeleton worker"
            )
            print(f"  {'':16} bound: with a worker as cheap as the skeleton's, HTTP throughput "
                  f"<= {bound:.2f} of the matched skeleton's,\n  {'':16} so closed-loop latency "
                  f">= {1 / bound:.2f}x (machine busy {meters[real_key].busy_share():.0%} / "
                  f"{meters[twin_key].busy_share():.0%} of {os.cpu_count()} cores)")  # fmt: skip
    print(f"\nworker peak RSS {worker_mem.get('VmHWM', 0) / 1024:.0f} MB; "
          f"run took {time.monotonic() - began:.0f} s")  # fmt: skip
    return 0 if met_all else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=200, help="declarations per target")
    parser.add_argument("--rate", type=float, default=20.0, help="open-loop decisions per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="open-loop measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="unrecorded seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds in which targets alternate")
    parser.add_argument("--concurrency", type=int, default=16, help="closed-loop callers")
    parser.add_argument("--sat-seconds", type=float, default=20.0, help="saturation seconds")
    parser.add_argument("--max-calls", type=int, default=20_000, help="cap per saturation phase")
    parser.add_argument("--database-url", default=None, help="postgresql://… (default SQLite)")
    parser.add_argument(
        "--temporal-db",
        choices=["file", "memory"],
        default="memory",
        help="the dev server's own state: in memory (default) or a SQLite file",
    )
    parser.add_argument(
        "--compare-audit-write",
        action="store_true",
        help="also measure the client send on declarations that write their audit trail as a "
        "local activity (the way before the audit-write-in-history patch)",
    )
    parser.add_argument(
        "--audit-write-only",
        action="store_true",
        help="with --compare-audit-write: measure only the two client-send targets (more "
        "samples of the comparison in the same time)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs and databases")
    args = parser.parse_args()
    if args.audit_write_only and not args.compare_audit_write:
        parser.error("--audit-write-only needs --compare-audit-write")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
