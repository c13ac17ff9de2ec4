"""Benchmark (issue "Benchmarks"): whole chains per second, through the Temporal client and over
HTTP, against a skeleton workflow with exactly the same events.

Everything runs on this machine, on loopback, in separate processes (``bench/stack.py``): a
Temporal dev server, ``--workers`` production worker processes (``python worker.py``), the API
(uvicorn), the skeleton worker, and a fresh store (SQLite file, or a new PostgreSQL database with
``--database-url``). This process only drives and measures.

**The chain** is notice 001's shape (``testing/factories.py``): draft → submit → unit review →
unit publicity → recommendation → two authority levels → committee formal review (review form
issued) → fee (confirmed in the ledger) → paper materials → defense → committee vote → result
publicity → certified: one start and 11 decisions per declaration, every one an update, plus two
publicity periods that end by the workflow's own timer.

**Publicity periods** last at least 5 working days by rule (a campaign cannot shorten them) and
the dev server's clock is real. Rather than stop at the publicities or move to the time-skipping
test server (another server, whose costs are not the dev server's), the benchmark keeps the dev
server and uses its per-workflow time skipping (``frontend.WorkflowTimeSkippingEnabled``,
experimental, Temporal server 1.32): once a declaration enters a publicity, the driver
fast-forwards *that workflow's* clock to one minute past the publicity's end. Its timer then
fires at once and the workflow does, for real, everything the end of a publicity does (close
the publicity, move on or announce and certify, audit, notify); nothing else moves, since the
declaration deadline is 120 days away. The wall time of every step, the timer-driven ones
included, counts; only the five working days of waiting do not. A fast-forward adds two events
of its own to a history (options updated, time-skipping transitioned); they are counted apart.

**Passes**, taking turns in ``--rounds`` rounds so that whatever else loads the machine falls on
each alike, each driving its share of ``--n`` declarations with ``--concurrency`` declarations
in flight:

* *client*: ``workflows.client.start_declaration`` and ``gateway.send``;
* *client, audit as local activity* (``--compare-audit-write``): the same, with declarations
  started with ``audit_write="local_activity"``: the audit write from before the
  ``audit-write-in-history`` patch (a local activity inside the workflow task instead of a
  regular activity whose input is in history), to measure what the patch costs;
* *HTTP*: ``POST /declarations`` and the decision endpoints, as each actor (JWT);
* *skeleton*: the skeleton workflow (``bench/skeleton.py``) with the plan read off a certified
  declaration's history from the client pass: the same updates with the same payloads, the same
  local and remote activities (no-ops), upserts and timers in the same order, fast-forwarded at
  the same points; no logic, no store. The two histories' event types are compared and the
  result printed.

It prints declarations/s per pass and the ratios chain/skeleton (goal ≥ 0.8), each with the
most this machine allows (the ratio were the workers as cheap as the skeleton worker, everything
else as measured: ``bench.stack.ideal_worker_bound``), p50/p95/p99 of the decision calls,
history events and bytes per declaration, CPU per declaration per process, and each worker's
peak RSS (``VmHWM``). Not a test: run it by hand.

    python bench/chain_throughput.py                       # 200 declarations, SQLite store
    python bench/chain_throughput.py --n 200 --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/chain_throughput.py --compare-audit-write [--database-url …]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from temporalio.client import Client, WorkflowHandle

from bench.skeleton import (
    Plan,
    SkeletonStart,
    SkeletonWorkflow,
    event_names,
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
    Actor,
    Campaign,
    Command,
    DecisionCommand,
    DeclarationStart,
    DeclarationView,
    DefenseCommand,
    MaterialsReceivedCommand,
    PaymentCommand,
    SubmitCommand,
    VoteCommand,
)
from gateway import send, view, workflow_id
from testing import factories as f
from workflows import search
from workflows.client import start_declaration

GOAL = 0.8
#: The pass of ``--compare-audit-write``.
LOCAL = "local"
MARGIN = timedelta(minutes=1)
#: Events a fast-forward adds to a history (not the chain's own).
SKIP_EVENTS = {
    "WORKFLOW_EXECUTION_OPTIONS_UPDATED",
    "WORKFLOW_EXECUTION_TIME_SKIPPING_TRANSITIONED",
}


@dataclass
class Pass:
    """One way of driving whole chains, and what it measured."""

    name: str
    decisions: Latencies
    creates: Latencies
    timers: Latencies
    chains: int = 0
    failures: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @classmethod
    def named(cls, name: str) -> Pass:
        return cls(
            name,
            Latencies(f"{name}: decisions"),
            Latencies(f"{name}: start / create"),
            Latencies(f"{name}: publicity end → next state"),
        )


async def timed(into: Latencies, work: Awaitable[Any]) -> Any:
    began = time.perf_counter()
    result = await work
    into.add(time.perf_counter() - began)
    return result


class Driver:
    """What both chain passes share: the campaign, the stack, fast-forwarding a publicity."""

    def __init__(self, stack: Stack, campaign: Campaign) -> None:
        assert stack.client is not None
        self.stack = stack
        self.client: Client = stack.client
        self.campaign = campaign

    def declaration(self) -> Any:
        return f.declaration(self.campaign, applicant=f.applicant(id_number=unique_id_number()))

    async def end_publicity(
        self, declaration_id: str, publicity_ends: datetime, now: datetime, state: str, into: Pass
    ) -> None:
        """Fast-forward the workflow past the publicity's end; wait until it reaches ``state``."""
        began = time.perf_counter()
        handle = self.client.get_workflow_handle(workflow_id(declaration_id))
        await self.stack.fast_forward(handle, publicity_ends - now + MARGIN)
        await wait_state(self.client, declaration_id, state)
        into.timers.add(time.perf_counter() - began)


async def wait_state(client: Client, declaration_id: str, state: str, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while True:
        current = await view(client, declaration_id)
        if current.state == state:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{declaration_id}: still {current.state}, wanted {state}")
        await asyncio.sleep(0.02)


# --------------------------------------------------------------------------- client pass


class ClientChain(Driver):
    """One declaration through the whole chain with ``workflows.client``; records the updates
    (name, command) it sent, in order, for the skeleton. ``audit_write``: the declarations'
    :attr:`DeclarationStart.audit_write`."""

    def __init__(
        self, stack: Stack, campaign: Campaign, audit_write: Literal["local_activity"] | None = None
    ) -> None:
        super().__init__(stack, campaign)
        self.audit_write = audit_write

    async def run(self, into: Pass, sent: list[tuple[str, Command]] | None = None) -> str:
        """``sent``: record the updates, and let the first workflow task finish before the first
        update (so that the history reads start, then updates: the skeleton's plan)."""
        client, queue = self.client, self.stack.task_queue
        start = DeclarationStart(
            declaration_id=f"D-{uuid.uuid4().hex[:12]}",
            campaign=self.campaign,
            declaration=self.declaration(),
            filed_by=f.APPLICANT,
            created_at=datetime.now(UTC),
            audit_write=self.audit_write,
        )
        d = start.declaration_id
        await timed(into.creates, start_declaration(client, queue, start))
        if sent is not None:
            for _ in range(1500):
                if (await view(client, d)).version >= 1:
                    break
                await asyncio.sleep(0.02)

        async def call(update: str, cmd: Command) -> DeclarationView:
            if sent is not None:
                sent.append((update, cmd))
            return await timed(into.decisions, send(client, d, update, cmd))

        def decide(actor: Actor, stage: str, **kw: Any) -> DecisionCommand:
            return DecisionCommand(actor=actor, stage=stage, outcome="approve", **kw)

        await call("submit", SubmitCommand(actor=f.APPLICANT))
        v = await call("decide", decide(f.UNIT, "unit_review", opinion="材料真实完整"))
        assert v.deadlines.publicity_ends and v.updated_at
        await self.end_publicity(
            d, v.deadlines.publicity_ends, v.updated_at, "unit_recommendation", into
        )
        await call(
            "decide",
            decide(
                f.UNIT, "unit_recommendation", opinion="同意推荐", publicity_result_ref="公示-1"
            ),
        )
        await call("decide", decide(f.COUNTY, "authority_review"))
        await call("decide", decide(f.PREFECTURE, "authority_review"))
        v = await call("decide", decide(f.COMMITTEE, "committee_formal_review"))
        v = await call(
            "record_payment",
            PaymentCommand(actor=f.FINANCE, amount=v.fee.due, receipt_no=f"R-{d}"),
        )
        form_id = v.materials.form_id or (await view(client, d)).materials.form_id
        assert form_id
        await call(
            "record_materials_received",
            MaterialsReceivedCommand(actor=f.COMMITTEE, form_id=form_id),
        )
        await call(
            "record_defense",
            DefenseCommand(actor=f.COMMITTEE, passed=True, mode="video", opinion="答辩合格"),
        )
        v = await call(
            "record_vote",
            VoteCommand(actor=f.COMMITTEE, attending=20, in_favor=16, against=2, abstain=2),
        )
        assert v.state == "result_publicity" and v.deadlines.publicity_ends and v.updated_at
        await self.end_publicity(d, v.deadlines.publicity_ends, v.updated_at, "certified", into)
        return d


# --------------------------------------------------------------------------- HTTP pass


class HttpChain(Driver):
    def __init__(self, stack: Stack, campaign: Campaign, http: httpx.AsyncClient) -> None:
        super().__init__(stack, campaign)
        self.http = http
        self.headers = {
            a.id: stack.headers(a)
            for a in (f.APPLICANT, f.UNIT, f.COUNTY, f.PREFECTURE, f.COMMITTEE, f.FINANCE)
        }

    async def post(self, into: Latencies, path: str, actor: Actor, body: Any = None) -> Any:
        began = time.perf_counter()
        response = await self.http.post(path, json=body, headers=self.headers[actor.id])
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
        into.add(time.perf_counter() - began)
        return response.json()

    async def run(self, into: Pass) -> str:
        person = f.applicant(id_number=unique_id_number())
        body = f.declaration_body(self.campaign, applicant=person)  # the chain is derived
        created = await self.post(into.creates, "/declarations", f.APPLICANT, body)
        d = str(created["id"])
        base = f"/declarations/{d}"

        async def decide(actor: Actor, stage: str, **kw: Any) -> Any:
            decision = {"stage": stage, "outcome": "approve", **kw}
            return await self.post(into.decisions, f"{base}/decisions", actor, decision)

        await self.post(into.decisions, f"{base}/submit", f.APPLICANT)
        v = await decide(f.UNIT, "unit_review", opinion="材料真实完整")
        await self.end_publicity(d, _instant(v["deadlines"]["publicity_ends"]),
                                 _instant(v["updated_at"]), "unit_recommendation", into)  # fmt: skip
        await decide(
            f.UNIT, "unit_recommendation", opinion="同意推荐", publicity_result_ref="公示-1"
        )
        await decide(f.COUNTY, "authority_review")
        await decide(f.PREFECTURE, "authority_review")
        v = await decide(f.COMMITTEE, "committee_formal_review")
        v = await self.post(into.decisions, f"{base}/payments", f.FINANCE,
                            {"amount": v["fee"]["due"], "receipt_no": f"R-{d}"})  # fmt: skip
        form_id = v["materials"]["form_id"] or (await view(self.client, d)).materials.form_id
        await self.post(into.decisions, f"{base}/materials-received", f.COMMITTEE,
                        {"form_id": form_id})  # fmt: skip
        await self.post(into.decisions, f"{base}/defense", f.COMMITTEE,
                        {"passed": True, "mode": "video", "score": None, "opinion": "答辩合格"})  # fmt: skip
        v = await self.post(into.decisions, f"{base}/vote", f.COMMITTEE,
                            {"attending": 20, "in_favor": 16, "against": 2, "abstain": 2})  # fmt: skip
        await self.end_publicity(d, _instant(v["deadlines"]["publicity_ends"]),
                                 _instant(v["updated_at"]), "certified", into)  # fmt: skip
        return d


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --------------------------------------------------------------------------- skeleton pass


class SkeletonChain:
    """The skeleton driven like the client pass: the recorded updates in order, a fast-forward
    wherever the plan has a fired timer."""

    def __init__(self, stack: Stack, plan: Plan, sent: list[tuple[str, Command]]) -> None:
        assert stack.client is not None
        self.stack, self.client, self.plan, self.sent = stack, stack.client, plan, sent

    async def run(self, into: Pass) -> str:
        key = f"skeleton-chain-{uuid.uuid4().hex[:10]}"
        await timed(
            into.creates,
            self.client.start_workflow(
                SkeletonWorkflow.run, SkeletonStart(key=key, plan=self.plan), id=key,
                task_queue=self.stack.skeleton_queue,
            ),
        )  # fmt: skip
        handle = self.client.get_workflow_handle(key)
        updates = iter(self.sent)
        armed = 0.0
        for index, step in enumerate(self.plan.steps):
            if step.trigger.startswith("update:"):
                name, cmd = next(updates)
                await timed(into.decisions, handle.execute_update(name, cmd))
            elif step.trigger == "timer":
                began = time.perf_counter()
                await self.stack.fast_forward(handle, timedelta(seconds=armed) + MARGIN)
                await wait_position(handle, index + 1)
                into.timers.add(time.perf_counter() - began)
            for action in step.actions:
                if action.kind == "timer_start":
                    armed = action.seconds
        return key


async def wait_position(
    handle: WorkflowHandle[Any, Any], position: int, within: float = 120
) -> None:
    deadline = time.monotonic() + within
    while await handle.query("position", result_type=int) < position:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{handle.id}: the skeleton did not reach step {position}")
        await asyncio.sleep(0.02)


# --------------------------------------------------------------------------- histories


async def histories(client: Client, ids: list[str]) -> tuple[list[int], list[int], list[int]]:
    """Per workflow: events (every run), bytes, and how many events were fast-forward ones."""
    events, sizes, skipped = [], [], []

    async def one(i: int) -> tuple[int, int, int]:
        run_id: str | None = None
        n = size = skip = 0
        while True:
            handle = client.get_workflow_handle(ids[i], run_id=run_id)
            history = await handle.fetch_history()
            names = event_names(history.events)
            n += len(history.events)
            size += sum(e.ByteSize() for e in history.events)
            skip += sum(1 for name in names if name in SKIP_EVENTS)
            last = history.events[-1]
            if names[-1] != "WORKFLOW_EXECUTION_CONTINUED_AS_NEW":
                return n, size, skip
            attributes = last.workflow_execution_continued_as_new_event_attributes
            run_id = attributes.new_execution_run_id

    for n, size, skip in await gather_limited(len(ids), one, limit=16):
        events.append(n)
        sizes.append(size)
        skipped.append(skip)
    return events, sizes, skipped


def trimmed(names: list[str]) -> list[str]:
    """Events from the second update on (whether the first update shares the first workflow
    task with the start is a matter of timing, not of shape)."""
    updates = [i for i, n in enumerate(names) if n == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED"]
    return names[updates[1] - 3 :] if len(updates) > 1 else names


# --------------------------------------------------------------------------- main


async def run_pass(
    n: int, concurrency: int, chain: Callable[[int], Awaitable[str]], into: Pass
) -> None:
    async def one(i: int) -> str:
        try:
            d = await chain(i)
        except Exception as err:
            into.failures.append(f"{type(err).__name__}: {str(err)[:200]}")
            return ""
        into.chains += 1
        into.ids.append(d)
        return d

    began = time.perf_counter()
    await gather_limited(n, one, limit=concurrency)
    wall = time.perf_counter() - began
    for row in (into.decisions, into.creates, into.timers):
        row.wall += wall


async def run(args: argparse.Namespace) -> int:
    options = StackOptions(
        database_url=args.database_url, temporal_db=args.temporal_db, time_skipping=True,
        skeleton=True, workers=args.workers, keep=args.keep,
    )  # fmt: skip
    began = time.monotonic()
    async with Stack(options) as stack:
        assert stack.client is not None and stack.api and stack.skeleton_worker
        await search.ensure_registered(stack.client)
        now = datetime.now(UTC)
        campaign = f.campaign(now, declaration_closes_at=now + timedelta(days=120))
        limits = httpx.Limits(
            max_connections=max(64, args.concurrency * 2), keepalive_expiry=KEEPALIVE_S
        )
        async with httpx.AsyncClient(base_url=stack.base_url, limits=limits, timeout=60) as http:
            await create_campaign(stack, http, campaign)
            print(f"store: {stack.db.describe() if stack.db else '?'}; dev server "
                  f"({args.temporal_db}); {args.workers} worker process(es); {args.n} "
                  f"declarations per pass, {args.concurrency} in flight, {args.rounds} rounds")  # fmt: skip
            client_chain = ClientChain(stack, campaign)
            http_chain = HttpChain(stack, campaign, http)
            # The probe: one certified declaration whose history gives the skeleton its plan.
            sent: list[tuple[str, Command]] = []
            probe = await client_chain.run(Pass.named("probe"), sent)
            history = await stack.client.get_workflow_handle(workflow_id(probe)).fetch_history()
            plan = plan_from_history(history.events)
            skeleton_chain = SkeletonChain(stack, plan, sent)
            shape_probe = await skeleton_chain.run(Pass.named("probe"))
            skeleton_history = await stack.client.get_workflow_handle(shape_probe).fetch_history()
            real_names = [n for n in event_names(history.events) if n not in SKIP_EVENTS]
            skeleton_names = [
                n for n in event_names(skeleton_history.events) if n not in SKIP_EVENTS
            ]
            diff = shape_difference(trimmed(real_names), trimmed(skeleton_names))
            print(f"event types, real chain vs skeleton ({len(real_names)} events without the "
                  f"fast-forwards'): {'identical' if not diff else 'DIFFERENT: ' + diff}")  # fmt: skip

            passes = {
                "client": Pass.named("client (workflows.client)"),
                "http": Pass.named("HTTP API"),
                "skeleton": Pass.named("skeleton (same events)"),
            }
            chains: dict[str, Callable[[int], Awaitable[str]]] = {
                "client": lambda _: client_chain.run(passes["client"]),
                "http": lambda _: http_chain.run(passes["http"]),
                "skeleton": lambda _: skeleton_chain.run(passes["skeleton"]),
            }
            if args.compare_audit_write:
                local_chain = ClientChain(stack, campaign, audit_write="local_activity")
                passes[LOCAL] = Pass.named("client, audit as local act.")
                chains[LOCAL] = lambda _: local_chain.run(passes[LOCAL])
            temporal = next(p for p in stack.procs if p.name == "temporal")
            groups: dict[str, Pids] = {
                **{w.name: [w.pid] for w in stack.workers},
                "api": [stack.api.pid],
                "skeleton worker": [stack.skeleton_worker.pid],
                "temporal": [temporal.pid],
                "bench driver": [os.getpid()],
            }
            if stack.db is not None and stack.db.kind == "postgresql":
                groups["postgres"] = (
                    postgres_pids  # a process per connection: listed at each reading
                )
            meters = {key: CpuMeter(groups) for key in passes}
            share = [args.n // args.rounds + (1 if r < args.n % args.rounds else 0)
                     for r in range(args.rounds)]  # fmt: skip
            for count in share:
                for key, chain in chains.items():
                    with meters[key]:
                        await run_pass(count, args.concurrency, chain, passes[key])
            figures = {
                key: await histories(
                    stack.client,
                    [i if key == "skeleton" else workflow_id(i) for i in p.ids][
                        : args.history_sample
                    ],
                )
                for key, p in passes.items()
            }
            memory = {w.name: proc_status(w.pid) for w in stack.workers}
            worker_names = [w.name for w in stack.workers]

    print()
    print(f"{'pass':28} {'chains':>7} {'failed':>6} {'wall s':>7} {'decl/s':>7} {'decisions/s':>11}"
          f" {'events/decl':>11} {'bytes/decl':>10}")  # fmt: skip
    rates = {}
    for key, p in passes.items():
        wall = p.decisions.wall
        rates[key] = p.chains / wall if wall else float("nan")
        events, sizes, skipped = figures[key]
        own = [e - s for e, s in zip(events, skipped, strict=True)]
        print(f"{p.name:28} {p.chains:7d} {len(p.failures):6d} {wall:7.1f} {rates[key]:7.2f} "
              f"{len(p.decisions.values) / wall if wall else 0:11.1f} "
              f"{sum(own) / max(1, len(own)):11.1f} {sum(sizes) / max(1, len(sizes)):10.0f}")  # fmt: skip
    print("  (events/decl excludes the 2 events each fast-forward adds; bytes/decl includes them)")
    print()
    print_table([row for p in passes.values() for row in (p.decisions, p.creates, p.timers)])
    print()
    names = list(groups)
    print("CPU per declaration, ms (background: the rest of the machine's busy time):")
    print(f"  {'pass':28} " + " ".join(f"{n[:10]:>10}" for n in [*names, "background"]))
    per_declaration = {key: meters[key].per_unit(p.chains) for key, p in passes.items()}
    for key, p in passes.items():
        per = [*per_declaration[key].values(), meters[key].background / max(1, p.chains) * 1000]
        print(f"  {p.name:28} " + " ".join(f"{v:10.1f}" for v in per))
    print()
    met_all = True
    for key in ("client", "http"):
        value = rates[key] / rates["skeleton"]
        met = value >= GOAL
        met_all = met_all and met
        print(f"  declarations/s {passes[key].name} / skeleton: {value:.2f}  "
              f"goal >= {GOAL}: {'met' if met else 'NOT met'}")  # fmt: skip
        bound = ideal_worker_bound(
            per_declaration[key],
            per_declaration["skeleton"],
            worker_names,
            "skeleton worker",
        )
        print(f"    bound: with workers as cheap as the skeleton's, at most {bound:.2f} "
              f"(machine busy {meters[key].busy_share():.0%} / "
              f"{meters['skeleton'].busy_share():.0%} of {os.cpu_count()} cores)")  # fmt: skip
    if LOCAL in passes:
        # The chain's own events per declaration (without the fast-forwards'), worker CPU.
        per_chain = {
            key: (sum(figures[key][0]) - sum(figures[key][2])) / max(1, len(figures[key][0]))
            for key in ("client", LOCAL)
        }
        worker_ms = {
            key: sum(per_declaration[key][n] for n in worker_names) for key in ("client", LOCAL)
        }
        print(
            f"  audit write in history (client) / as a local activity: declarations/s "
            f"{rates['client'] / rates[LOCAL]:.2f}, events per declaration "
            f"{per_chain['client']:.1f} / {per_chain[LOCAL]:.1f}, worker CPU per declaration "
            f"{worker_ms['client']:.0f} / {worker_ms[LOCAL]:.0f} ms"
        )
    for name, status in memory.items():
        print(f"  {name}: peak RSS (VmHWM) {status.get('VmHWM', 0) / 1024:.0f} MB, "
              f"now {status.get('VmRSS', 0) / 1024:.0f} MB")  # fmt: skip
    for p in passes.values():
        for failure in p.failures[:3]:
            print(f"  failure in {p.name}: {failure}")
    print(f"run took {time.monotonic() - began:.0f} s")
    return 0 if met_all and not any(p.failures for p in passes.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=200, help="declarations per pass")
    parser.add_argument("--concurrency", type=int, default=64, help="declarations in flight")
    parser.add_argument("--rounds", type=int, default=2, help="rounds in which passes alternate")
    parser.add_argument("--workers", type=int, default=1, help="production worker processes")
    parser.add_argument("--history-sample", type=int, default=1000,
                        help="histories fetched per pass for the event and byte counts")  # fmt: skip
    parser.add_argument("--database-url", default=None, help="postgresql://… (default SQLite)")
    parser.add_argument("--temporal-db", choices=["file", "memory"], default="memory")
    parser.add_argument(
        "--compare-audit-write",
        action="store_true",
        help="add a client pass whose declarations write their audit trail as a local activity "
        "(the way before the audit-write-in-history patch)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs and databases")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
