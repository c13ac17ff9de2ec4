"""M declarations driven through their paths (:mod:`testing.reliability.plans`) concurrently
from this process with :func:`gateway.send` against real processes
(:mod:`testing.reliability.processes`), with a disruption (worker kill, server restart) in the
middle; then :func:`check` counts what completed, what was lost and what was duplicated. Used by
tests/reliability and bench/reliability_*.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from domain.models import (
    DeclarationView,
    MaterialsReceivedCommand,
    ObjectionLodged,
    ObjectionResolutionCommand,
)
from gateway import DecisionRefused, send, view
from store.audit import verify
from store.audit_tail import SUPERSEDED
from store.db import Store
from store.readmodel import get_view
from testing import factories as f
from testing.reliability.plans import Plan, Step, plan
from testing.reliability.processes import DevServer, WorkerProcess, connect, worker_env
from workflows.client import start_declaration

#: Errors of a call that may or may not have reached the workflow: retry it, same update id.
TRANSIENT: tuple[type[BaseException], ...] = (
    RPCError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    asyncio.TimeoutError,
    ConnectionError,
)


@dataclass
class Outcome:
    accepted: list[Step] = field(default_factory=list)
    refused: list[Step] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    retries: int = 0


@dataclass
class Drive:
    client: Client
    task_queue: str
    plans: list[Plan]
    deadline: float
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    done: int = 0
    total: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.total = sum(len(p.steps) for p in self.plans)

    async def _call(self, plan: Plan, n: int, step: Step, view_now: DeclarationView | None,
                    out: Outcome) -> DeclarationView | None:  # fmt: skip
        cmd = step.cmd
        if isinstance(cmd, ObjectionResolutionCommand):
            cmd = cmd.model_copy(update={"objection_id": plan.objection_id})
        if isinstance(cmd, MaterialsReceivedCommand) and view_now is not None:
            cmd = cmd.model_copy(update={"form_id": view_now.materials.form_id})
        update_id = f"{plan.start.declaration_id}-step-{n}"
        while True:
            try:
                result = await send(self.client, plan.start.declaration_id, step.update, cmd,
                                    result_type=step.result_type, update_id=update_id)  # fmt: skip
            except DecisionRefused as err:
                if step.refused:
                    out.refused.append(step)
                else:
                    out.unexpected.append(f"step {n} {step.action} refused: {err.reason}")
                return view_now
            except TRANSIENT:
                out.retries += 1
                if time.monotonic() > self.deadline:
                    out.unexpected.append(f"step {n} {step.action}: no answer before the end")
                    return view_now
                await asyncio.sleep(0.5)
                continue
            except Exception as err:  # a failed update: the workflow could not take it
                out.unexpected.append(f"step {n} {step.action} failed: {err!r} ({err.__cause__!r})")
                return view_now
            if step.refused:
                out.unexpected.append(f"step {n} {step.action} accepted, expected a refusal")
            out.accepted.append(step)
            if isinstance(result, ObjectionLodged):
                plan.objection_id = result.objection_id
            return result

    async def run_plan(self, plan: Plan) -> None:
        out = self.outcomes.setdefault(plan.start.declaration_id, Outcome())
        current: DeclarationView | None = None
        for n, step in enumerate(plan.steps):
            current = await self._call(plan, n, step, current, out)
            self.done += 1
            self.progress.set()

    async def start_all(self) -> None:
        gate = asyncio.Semaphore(32)

        async def one(p: Plan) -> None:
            async with gate:
                await start_declaration(self.client, self.task_queue, p.start)

        await asyncio.gather(*(one(p) for p in self.plans))

    async def wait_for(self, fraction: float) -> None:
        while self.done < fraction * self.total:
            self.progress.clear()
            await self.progress.wait()


#: What strikes in the middle of a drive: gets the server and the worker, answers its timings.
Disruption = Callable[["DevServer", "WorkerProcess"], Awaitable[dict[str, float]]]


@dataclass
class Report:
    declarations: int
    paths: dict[str, int]
    #: Decisions the plans expect to be accepted (the others are planned refusals).
    planned: int
    decisions_accepted: int
    decisions_refused: int
    completed: int
    lost_decisions: int
    double_applied: int
    duplicated_events: int
    seq_gaps: int
    chains_verified: bool
    events: int
    refusal_records: int
    superseded: int
    retries: int
    unexpected: list[str]
    incomplete: list[str]
    timings: dict[str, float]

    @property
    def completed_pct(self) -> float:
        return 100.0 * self.completed / self.declarations if self.declarations else 0.0

    def lines(self) -> list[str]:
        t = self.timings
        return [
            f"declarations            {self.declarations}  ({', '.join(f'{k} {v}' for k, v in self.paths.items())})",
            f"completed the path      {self.completed}/{self.declarations} ({self.completed_pct:.1f} %)",
            f"decisions accepted      {self.decisions_accepted} (+ {self.decisions_refused} refused as planned)",
            f"lost decisions          {self.lost_decisions}",
            f"applied twice           {self.double_applied}",
            f"duplicated audit events {self.duplicated_events}  (seq gaps {self.seq_gaps}, "
            f"hash chains {'verified' if self.chains_verified else 'BROKEN'}, {self.events} events)",
            f"refusals audited        {self.refusal_records}",
            f"rows of dead tasks      {self.superseded} (kept, named by audit.superseded)",
            f"calls retried           {self.retries}",
            "timings (s)             " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()),
        ] + [f"unexpected: {u}" for u in self.unexpected[:20]] + [
            f"incomplete: {u}" for u in self.incomplete[:20]
        ]  # fmt: skip


def _audit(store: Store, campaign_id: str) -> list[dict[str, Any]]:
    with store.session(readonly=True) as session:
        rows = session.execute(
            text("SELECT declaration_id, seq, action, actor_id, outcome, detail FROM audit_event "
                 "WHERE campaign_id = :c ORDER BY declaration_id, seq"),
            {"c": campaign_id},
        ).mappings().all()  # fmt: skip
    return [dict(r) for r in rows]


async def final_views(
    client: Client, plans: list[Plan], within: float
) -> dict[str, DeclarationView | None]:
    """Each declaration's view once it reached its path's final state (or the last one seen)."""
    deadline = time.monotonic() + within
    out: dict[str, DeclarationView | None] = {p.start.declaration_id: None for p in plans}
    pending = list(plans)
    while pending:
        still = []
        for p in pending:
            try:
                current = await view(client, p.start.declaration_id)
            except TRANSIENT:
                still.append(p)
                continue
            out[p.start.declaration_id] = current
            if current.state != p.final:
                still.append(p)
        pending = still
        if not pending or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    return out


async def check(drive: Drive, store: Store, campaign_id: str, within: float = 120.0) -> Report:
    views = await final_views(drive.client, drive.plans, within)
    rows = await asyncio.to_thread(_audit, store, campaign_id)
    by_decl: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_decl.setdefault(row["declaration_id"], []).append(row)
    keys = Counter((r["declaration_id"], r["seq"]) for r in rows)
    duplicated = sum(n - 1 for n in keys.values() if n > 1)
    gaps = superseded = completed = 0
    lost = twice = refusals = 0
    incomplete: list[str] = []
    unexpected: list[str] = []
    for p in drive.plans:
        d = p.start.declaration_id
        trail = by_decl.get(d, [])
        seqs = [r["seq"] for r in trail]
        if seqs != list(range(1, len(seqs) + 1)):
            gaps += 1
        current = views[d]
        if current is None or current.state != p.final:
            incomplete.append(f"{d} ({p.path}): {current.state if current else 'no view'}")
        else:
            completed += 1
        if current is not None and current.version != len(seqs):
            incomplete.append(f"{d}: view version {current.version}, {len(seqs)} audit events")
        stored = await asyncio.to_thread(_stored_view, store, d)
        if current is not None and stored is not None and stored.version < current.version:
            incomplete.append(f"{d}: read model at version {stored.version} < {current.version}")
        out = drive.outcomes.get(d, Outcome())
        unexpected += [f"{d} ({p.path}) {u}" for u in out.unexpected]
        # Rows a dead workflow task wrote, named by an audit.superseded event, do not count.
        dead: set[int] = set()
        for r in trail:
            if r["action"] == SUPERSEDED:
                first, last = json.loads(r["detail"])["superseded_seqs"]
                dead.update(range(first, last + 1))
        superseded += len(dead)
        trail = [r for r in trail if r["seq"] not in dead and r["action"] != SUPERSEDED]
        want = Counter((s.action, s.cmd.actor.id) for s in out.accepted)
        have = Counter((r["action"], r["actor_id"]) for r in trail if r["outcome"] == "accepted")
        for key, n in want.items():
            lost += max(0, n - have[key])
            twice += max(0, have[key] - n)
            if have[key] != n:
                unexpected.append(f"{d} ({p.path}) {key}: accepted {n}, audited {have[key]}")
        want_refused = Counter((s.action, s.cmd.actor.id) for s in out.refused)
        have_refused = Counter((r["action"], r["actor_id"]) for r in trail
                               if r["outcome"] == "refused")  # fmt: skip
        refusals += sum(have_refused.values())
        for key, n in want_refused.items():
            lost += max(0, n - have_refused[key])
            twice += max(0, have_refused[key] - n)
            if have_refused[key] != n:
                unexpected.append(f"{d} ({p.path}) {key}: refused {n}, audited {have_refused[key]}")
    checked = await asyncio.to_thread(_verify, store, campaign_id)
    paths = Counter(p.path for p in drive.plans)
    return Report(
        declarations=len(drive.plans),
        paths=dict(paths),
        decisions_accepted=sum(len(o.accepted) for o in drive.outcomes.values()),
        decisions_refused=sum(len(o.refused) for o in drive.outcomes.values()),
        completed=completed,
        planned=sum(1 for p in drive.plans for step in p.steps if not step.refused),
        lost_decisions=lost,
        double_applied=twice,
        duplicated_events=duplicated,
        seq_gaps=gaps,
        chains_verified=checked,
        events=len(rows),
        refusal_records=refusals,
        superseded=superseded,
        retries=sum(o.retries for o in drive.outcomes.values()),
        unexpected=unexpected,
        incomplete=incomplete,
        timings={},
    )


def _stored_view(store: Store, declaration_id: str) -> DeclarationView | None:
    with store.session(readonly=True) as session:
        return get_view(session, declaration_id)


def _verify(store: Store, campaign_id: str) -> bool:
    with store.session(readonly=True) as session:
        return verify(session, campaign_id=campaign_id).ok


# --------------------------------------------------------------------------- one run


@dataclass
class RunOptions:
    declarations: int = 60
    #: Fraction of all planned decisions answered when the disruption strikes.
    at: float = 0.4
    database_url: str | None = None
    timeout: float = 300.0


async def run_drive(
    workdir: Path,
    options: RunOptions,
    disrupt: Disruption,
) -> Report:
    """Start the dev server and a worker process, drive ``options.declarations`` declarations,
    call ``disrupt`` once ``options.at`` of the decisions are answered, then check."""
    server = DevServer(workdir)
    database_url = options.database_url or f"sqlite:///{(workdir / 'store.sqlite3').as_posix()}"
    task_queue = f"review-chain-reliability-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(worker_env(server.address, database_url, task_queue),
                           workdir / "worker.log")  # fmt: skip
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    await asyncio.to_thread(server.start)
    try:
        client = await connect(server.address)
        await asyncio.to_thread(worker.start)
        timings["startup"] = time.monotonic() - t0
        now = datetime.now(f.BJ)
        campaign = f.campaign(now, id=f"rel-{uuid.uuid4().hex[:8]}")
        plans = [plan(campaign, i, now) for i in range(options.declarations)]
        drive = Drive(client, task_queue, plans, deadline=time.monotonic() + options.timeout)
        t1 = time.monotonic()
        await drive.start_all()
        runs = [asyncio.create_task(drive.run_plan(p)) for p in plans]
        await drive.wait_for(options.at)
        timings["until_disruption"] = time.monotonic() - t1
        timings.update(await disrupt(server, worker))
        if server.starts > 1:
            client = await connect(server.address)
            drive.client = client
        await asyncio.gather(*runs)
        timings["drive"] = time.monotonic() - t1
        store = Store(database_url)
        try:
            report = await check(drive, store, campaign.id)
        finally:
            store.dispose()
        timings["total"] = time.monotonic() - t0
        report.timings = timings
        return report
    finally:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(worker.stop)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(server.stop)


def kill_worker(down: float = 1.0) -> Disruption:
    """SIGKILL the worker, leave it dead ``down`` seconds (decisions keep coming), start it."""

    async def disrupt(server: DevServer, worker: WorkerProcess) -> dict[str, float]:
        del server
        worker.kill9()
        await asyncio.sleep(down)
        t = time.monotonic()
        await asyncio.to_thread(worker.start)
        return {"worker_restart": time.monotonic() - t}

    return disrupt


def restart_server(down: float = 1.0, *, kill: bool = False) -> Disruption:
    """Stop the dev server (SIGTERM, or SIGKILL with ``kill``) and start it again on the same
    ports and state file; the worker keeps running and reconnects by itself."""

    async def disrupt(server: DevServer, worker: WorkerProcess) -> dict[str, float]:
        del worker
        await asyncio.to_thread(server.stop, kill=kill)
        await asyncio.sleep(down)
        t = time.monotonic()
        await asyncio.to_thread(server.start)
        return {"server_restart": time.monotonic() - t}

    return disrupt
