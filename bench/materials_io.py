"""Materials throughput and the API's memory under concurrent uploads (docs/rules.md §19).

    .venv/bin/python bench/materials_io.py [--size-mb 20] [--rounds 5] [--concurrent 8]

One run, one machine, one disk: a whole local stack (``bench.stack``: dev server, worker, the API
under uvicorn) with the directory store in the stack's temporary directory, and

1. **plain copy**: a 20 MB PDF copied on that disk (read, write, fsync), the floor;
2. **upload**: the same size of PDF posted to ``POST /declarations/{id}/materials`` over loopback
   (multipart, streamed from the file), ``rounds`` times, each a new file;
3. **download**: the original (the uploader reads it) and the watermarked copy (the unit's
   reviewer), ``GET …/materials/{id}``, streamed to a file;
4. **memory**: the API process's resident memory while ``concurrent`` uploads run at once, for
   files of 2 MB and of ``size-mb`` MB: the peak over the idle baseline must not grow with the
   file size (uploads are spooled to disk a megabyte at a time). Goal: the large files' run grows
   the API by less than 32 MB more than the 2 MB run (holding the files would take
   ``concurrent`` × ``size-mb`` MB); the script exits 1 when it is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.stack import Stack, StackOptions, proc_status  # noqa: E402
from testing.samples import pdf  # noqa: E402
from tools.demo.data import (  # noqa: E402
    ADMIN,
    PLANS,
    UNIT_REVIEWER,
    applicant_actor,
    declaration_body,
    demo_campaign,
)

MB = 1024 * 1024


def _fsync_copy(source: Path, target: Path) -> None:
    with source.open("rb") as src, target.open("wb") as out:
        shutil.copyfileobj(src, out, MB)
        out.flush()
        os.fsync(out.fileno())


def _rate(size: int, seconds: float) -> float:
    return size / MB / seconds


class RssSampler:
    """The API's resident memory, sampled every 20 ms while running."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, proc_status(self.pid).get("VmRSS", 0))
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _file(http: httpx.AsyncClient, stack: Stack, campaign: Any, number: int) -> str:
    plan = next(p for p in PLANS if p.level == "deputy_senior")
    body = declaration_body(campaign, number, plan)
    actor = applicant_actor(number)
    answer = await http.post("/declarations", json=body, headers=stack.headers(actor))
    if answer.status_code != 201:
        raise RuntimeError(f"filing failed: {answer.status_code} {answer.text[:300]}")
    return str(answer.json()["id"])


async def _upload(
    http: httpx.AsyncClient, stack: Stack, declaration_id: str, number: int, path: Path
) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    with path.open("rb") as handle:
        answer = await http.post(
            f"/declarations/{declaration_id}/materials",
            data={"kind": "achievements", "masked": "true"},
            files={"file": (path.name, handle, "application/pdf")},
            headers=stack.headers(applicant_actor(number)),
        )
    elapsed = time.perf_counter() - started
    if answer.status_code != 201:
        raise RuntimeError(f"upload failed: {answer.status_code} {answer.text[:300]}")
    return elapsed, answer.json()


async def _download(
    http: httpx.AsyncClient,
    stack: Stack,
    declaration_id: str,
    material_id: str,
    actor: Any,
    target: Path,
) -> float:
    started = time.perf_counter()
    async with http.stream(
        "GET",
        f"/declarations/{declaration_id}/materials/{material_id}",
        headers=stack.headers(actor),
    ) as answer:
        if answer.status_code != 200:
            raise RuntimeError(f"download failed: {answer.status_code}")
        with target.open("wb") as out:
            async for block in answer.aiter_bytes(MB):
                out.write(block)
    return time.perf_counter() - started


async def run(size_mb: int, rounds: int, concurrent: int) -> bool:
    options = StackOptions(api_env={})
    stack = Stack(options)
    options.api_env = {
        "REVIEWCHAIN_STORAGE_URL": f"file:{stack.workdir / 'materials'}",
        "REVIEWCHAIN_LOG_LEVEL": "WARNING",
    }
    async with stack:
        assert stack.api is not None
        files = stack.workdir / "files"
        files.mkdir()
        size = size_mb * MB
        samples = [files / f"scan-{n}.pdf" for n in range(max(rounds, concurrent))]
        for n, path in enumerate(samples):
            path.write_bytes(pdf(f"scan {n}", size=size))
        actual = samples[0].stat().st_size
        small = [files / f"small-{n}.pdf" for n in range(concurrent)]
        for n, path in enumerate(small):
            path.write_bytes(pdf(f"small {n}", size=2 * MB))

        copies = []
        for n in range(rounds):
            started = time.perf_counter()
            await asyncio.to_thread(_fsync_copy, samples[n], files / f"copy-{n}.pdf")
            copies.append(time.perf_counter() - started)

        campaign = demo_campaign(datetime.now(UTC)).campaign
        campaign = campaign.model_copy(update={"id": f"bench-{uuid.uuid4().hex[:8]}"})
        limits = httpx.Timeout(120.0)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=limits) as http:
            created = await http.post(
                "/campaigns", json=campaign.model_dump(mode="json"), headers=stack.headers(ADMIN)
            )
            assert created.status_code == 201, created.text
            main = await _file(http, stack, campaign, 1)
            ups: list[float] = []
            material: dict[str, Any] = {}
            for n in range(rounds):
                elapsed, material = await _upload(http, stack, main, 1, samples[n])
                ups.append(elapsed)
            originals, stamped = [], []
            for _ in range(rounds):
                originals.append(
                    await _download(
                        http,
                        stack,
                        main,
                        material["material_id"],
                        applicant_actor(1),
                        files / "orig.pdf",
                    )
                )
                stamped.append(
                    await _download(
                        http,
                        stack,
                        main,
                        material["material_id"],
                        UNIT_REVIEWER,
                        files / "stamped.pdf",
                    )
                )

            memory: dict[str, tuple[int, int, float]] = {}
            for label, paths in (("2 MB", small), (f"{size_mb} MB", samples[:concurrent])):
                ids = [
                    await _file(http, stack, campaign, 100 + len(memory) * 50 + n)
                    for n in range(concurrent)
                ]
                await asyncio.sleep(1.0)
                baseline = proc_status(stack.api.pid).get("VmRSS", 0)
                with RssSampler(stack.api.pid) as sampler:
                    started = time.perf_counter()
                    await asyncio.gather(
                        *(
                            _upload(http, stack, ids[n], 100 + len(memory) * 50 + n, paths[n])
                            for n in range(concurrent)
                        )
                    )
                    wall = time.perf_counter() - started
                memory[label] = (baseline, sampler.peak, wall)

    def line(name: str, times: list[float], nbytes: int) -> str:
        best, median = min(times), statistics.median(times)
        return (
            f"| {name} | {_rate(nbytes, median):.0f} MB/s | {_rate(nbytes, best):.0f} MB/s | "
            f"{median * 1000:.0f} ms |"
        )

    print(f"\nfile: {actual / MB:.1f} MB PDF, {rounds} rounds each, one disk ({stack.workdir})\n")
    print("| operation | median throughput | best | median time |")
    print("|---|---|---|---|")
    print(line("plain copy (read, write, fsync)", copies, actual))
    print(line("upload (POST multipart, stored, recorded)", ups, actual))
    print(line("download, original (uploader)", originals, actual))
    print(line("download, watermarked (reviewer)", stamped, actual))
    print(f"\nAPI memory (VmRSS) while {concurrent} uploads run at once:\n")
    print("| files | idle | peak | growth | wall time |")
    print("|---|---|---|---|---|")
    for label, (baseline, peak, wall) in memory.items():
        print(
            f"| {concurrent} × {label} | {baseline / 1024:.0f} MB | {peak / 1024:.0f} MB | "
            f"{(peak - baseline) / 1024:.0f} MB | {wall:.1f} s |"
        )
    small_run, large_run = memory["2 MB"], memory[f"{size_mb} MB"]
    extra = (large_run[1] - large_run[0]) - (small_run[1] - small_run[0])
    met = extra < GOAL_EXTRA_KB
    print(
        f"\ngoal {'met' if met else 'MISSED'}: the {size_mb} MB run grew the API "
        f"{extra / 1024:.0f} MB more than the 2 MB run (limit {GOAL_EXTRA_KB // 1024} MB)"
    )
    return met


#: How much more the large files' run may grow the API than the 2 MB run.
GOAL_EXTRA_KB = 32 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=8)
    args = parser.parse_args()
    if not asyncio.run(run(args.size_mb, args.rounds, args.concurrent)):
        sys.exit(1)


if __name__ == "__main__":
    main()
