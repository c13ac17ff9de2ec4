"""Profile the hot path of a decision over HTTP: the API process and the worker process, sampled
with py-spy (only the thread holding the GIL: Python CPU time, not waits) while a closed loop of
decisions runs (the load of ``bench/http_vs_skeleton.py``: unit return ↔ resubmission over HTTP,
``--concurrency`` callers, ``--n`` declarations).

Prints the throughput and latency of the loop, the CPU milliseconds per decision of the worker
and the API (from /proc), and for each process the functions of this project holding the most
samples (inclusive) and the functions holding the most samples themselves (own). ``--out`` keeps
the raw stacks (py-spy's collapsed format, for speedscope or flamegraph.pl). py-spy samples from
outside (``--nonblocking``); ``--no-spy`` measures without sampling (for before/after figures).

``--versus-skeleton`` answers a different question: where the production worker spends more
than the skeleton worker of ``bench/http_vs_skeleton.py`` (same event shape, no logic, no store).
The same closed loop runs through the Temporal client against the real chain, then against the
matched skeleton, each worker sampled in turn; it prints both workers' CPU per decision and the
functions by their difference in CPU milliseconds per decision (real − skeleton).

py-spy is not a project dependency: install it anywhere (``pip install py-spy``) and put it on
``PATH`` or pass ``--py-spy``.

    python bench/profile_hot_path.py --seconds 20 --out /tmp/profile
    python bench/profile_hot_path.py --no-spy --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/profile_hot_path.py --versus-skeleton --database-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.http_vs_skeleton import (
    ClientTarget,
    HttpTarget,
    SkeletonTarget,
    Target,
    closed_loop,
    prepare_http,
    probe_plan,
    start_skeletons,
)
from bench.stack import KEEPALIVE_S, Stack, StackOptions, cpu_seconds, print_table
from workflows import search

ROOT = Path(__file__).resolve().parent.parent


def read_stacks(raw: Path) -> tuple[Counter[str], Counter[str], int]:
    """Samples per function in a collapsed-stack file: inclusive, own, and the total."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_label(frame) for frame in stack.split(";")]
        for label in set(frames):
            inclusive[label] += count
        own[frames[-1]] += count
    return inclusive, own, total


def summarise(raw: Path, top: int, title: str) -> None:
    """The functions with the most samples in a collapsed-stack file: inclusive and own."""
    inclusive, own, total = read_stacks(raw)
    print(f"\n{title}: {total} samples")
    if not total:
        return
    print(f"  {'inclusive':>9}  {'own':>6}  function (this project's code)")
    ours = Counter({k: v for k, v in inclusive.items() if _ours(k)})
    for label, count in ours.most_common(top):
        print(f"  {count / total:8.1%}  {own[label] / total:6.1%}  {label}")
    print("  top own time:")
    for label, count in own.most_common(top):
        print(f"  {'':8}  {count / total:6.1%}  {label}")


_PROJECT = (
    "api/",
    "activities/",
    "domain/",
    "gateway/",
    "store/",
    "workflows/",
    "settings/",
    "worker.py",
)


def _ours(label: str) -> bool:
    return any(f"({p}" in label for p in _PROJECT)


def compare(real: Path, real_ms: float, skeleton: Path, skeleton_ms: float, top: int) -> None:
    """Functions by the CPU they cost per decision in the real worker minus the skeleton worker
    (each profile's share of samples times its worker's CPU per decision)."""
    a, _, a_total = read_stacks(real)
    b, _, b_total = read_stacks(skeleton)
    if not a_total or not b_total:
        print("no samples to compare")
        return
    rows = sorted(
        ((a[k] / a_total * real_ms - b[k] / b_total * skeleton_ms, k) for k in set(a) | set(b)),
        reverse=True,
    )
    print(f"\nCPU ms per decision, real worker {real_ms:.1f} vs skeleton worker "
          f"{skeleton_ms:.1f}: functions by the difference (inclusive)")  # fmt: skip
    print(f"  {'real−skel':>9}  {'real':>6}  {'skel':>6}  function")
    for diff, label in rows[:top]:
        print(f"  {diff:9.2f}  {a[label] / a_total * real_ms:6.2f}  "
              f"{b[label] / b_total * skeleton_ms:6.2f}  {label}")  # fmt: skip


def _label(frame: str) -> str:
    """``function (path:line)`` → ``function (short path)``."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def py_spy(explicit: str | None) -> str:
    found = explicit or shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy not found: pip install py-spy, or pass --py-spy PATH")
    return found


async def record(spy: str, pid: int, seconds: float, rate: int, output: Path) -> asyncio.Task[int]:
    """py-spy sampling ``pid`` (the thread holding the GIL) into ``output``, in the background."""
    argv = [
        spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(rate),
        "--format", "raw", "--nonblocking", "--gil", "--output", str(output),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return asyncio.create_task(asyncio.wait_for(proc.wait(), timeout=seconds + 60))


def http_client(stack: Stack) -> httpx.AsyncClient:
    """The loop's HTTP client against the stack's API."""
    limits = httpx.Limits(max_connections=64, keepalive_expiry=KEEPALIVE_S)
    return httpx.AsyncClient(base_url=stack.base_url, limits=limits, timeout=60.0)


async def versus_skeleton(args: argparse.Namespace, spy: str) -> None:
    """The real worker and the skeleton worker under the same closed loop, sampled in turn."""
    options = StackOptions(
        database_url=args.database_url, temporal_db=args.temporal_db, skeleton=True
    )
    async with Stack(options) as stack:
        assert stack.client and stack.worker and stack.skeleton_worker
        await search.ensure_registered(stack.client)
        async with http_client(stack) as http:
            ids = await prepare_http(stack, http, args.n + 1)
            plan, _ = await probe_plan(stack, http, ids[0])
        keys = await start_skeletons(stack, plan, args.n, "profile")
        workdir = Path(args.out) if args.out else stack.workdir
        workdir.mkdir(parents=True, exist_ok=True)
        runs: list[tuple[str, int, Target]] = [
            ("real", stack.worker.pid, ClientTarget(stack.client, ids[1:])),
            ("skeleton", stack.skeleton_worker.pid,
             SkeletonTarget("skeleton (matched events)", stack.client, keys)),
        ]  # fmt: skip
        rows, per_decision, files = [], {}, {}
        for name, pid, target in runs:
            await closed_loop(target, args.concurrency, 3.0, 0.0, 10_000)  # warm up
            files[name] = workdir / f"{name}-worker.collapsed.txt"
            sampling = await record(spy, pid, args.seconds, args.rate, files[name])
            before = cpu_seconds(pid)
            row = await closed_loop(target, args.concurrency, args.seconds, 0.0, 100_000)
            per_decision[name] = (cpu_seconds(pid) - before) / max(1, len(row.values)) * 1000
            await sampling
            rows.append(row)
        print(f"store: {args.database_url or 'SQLite'}; dev server {args.temporal_db}; "
              f"{args.n} declarations; C={args.concurrency}; {args.seconds:g} s sampled each")  # fmt: skip
        print_table(rows)
        compare(files["real"], per_decision["real"], files["skeleton"], per_decision["skeleton"],
                args.top)  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    spy = None if args.no_spy else py_spy(args.py_spy)
    if args.versus_skeleton:
        if spy is None:
            raise SystemExit("--versus-skeleton samples both workers: drop --no-spy")
        await versus_skeleton(args, spy)
        return
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    options = StackOptions(database_url=args.database_url, temporal_db=args.temporal_db)
    async with Stack(options) as stack:
        assert stack.worker is not None and stack.api is not None
        async with http_client(stack) as http:
            ids = await prepare_http(stack, http, args.n)
            target = HttpTarget(http, stack, ids)
            await closed_loop(target, args.concurrency, 3.0, 0.0, 10_000)  # warm up
            workdir = out or stack.workdir
            files = {
                "worker": workdir / "worker.collapsed.txt",
                "api": workdir / "api.collapsed.txt",
            }
            spies = []
            for name, proc in (("worker", stack.worker), ("api", stack.api)):
                if spy is not None:
                    spies.append(await record(spy, proc.pid, args.seconds, args.rate, files[name]))
            pids = [stack.worker.pid, stack.api.pid]
            before = [cpu_seconds(p) for p in pids]
            row = await closed_loop(target, args.concurrency, args.seconds, 0.0, 100_000)
            used = [cpu_seconds(p) - b for p, b in zip(pids, before, strict=True)]
            for sampling in spies:
                await sampling
    print(f"store: {args.database_url or 'SQLite'}; dev server {args.temporal_db}; "
          f"{args.n} declarations; C={args.concurrency}; {args.seconds:g} s sampled")  # fmt: skip
    print_table([row])
    calls = max(1, len(row.values))
    print(f"  CPU per decision: worker {used[0] / calls * 1000:.1f} ms, "
          f"api {used[1] / calls * 1000:.1f} ms")  # fmt: skip
    for name, path in files.items():
        if path.exists():
            summarise(path, args.top, f"{name} (pid sampled with py-spy)")
    if out:
        print(f"\nraw stacks in {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100, help="declarations")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--py-spy", default=None)
    parser.add_argument("--no-spy", action="store_true", help="measure only, sample nothing")
    parser.add_argument("--out", default=None, help="a directory for the raw stacks")
    parser.add_argument("--versus-skeleton", action="store_true",
                        help="profile the real worker and the skeleton worker, and compare")  # fmt: skip
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--temporal-db", choices=["file", "memory"], default="memory")
    args = parser.parse_args()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
