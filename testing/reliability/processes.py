"""Real processes for the reliability runs, each stopped by the id this module started it with.

* :class:`DevServer`: ``temporal server start-dev`` on free loopback ports with its state in a
  file, so it can be stopped (or killed) and started again on the same ports and state;
* :class:`WorkerProcess`: ``python worker.py``, configured only through ``REVIEWCHAIN_*``, that
  can be killed with SIGKILL and started again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TEMPORAL = (
    str(BIN / "temporal") if (BIN / "temporal").exists() else (shutil.which("temporal") or "")
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --------------------------------------------------------------------------- processes


class DevServer:
    """The Temporal dev server on fixed free ports with its state in ``db_file``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.db_file = workdir / "temporal.db"
        self.port = free_port()
        self.http_port = free_port()
        self.metrics_port = free_port()
        self.log = workdir / "temporal.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        argv = [
            TEMPORAL, "server", "start-dev", "--headless", "--ip", "127.0.0.1",
            "--port", str(self.port), "--http-port", str(self.http_port),
            "--metrics-port", str(self.metrics_port), "--db-filename", str(self.db_file),
            "--log-level", "error",
        ]  # fmt: skip
        deadline = time.monotonic() + timeout
        while port_open(self.port):  # the previous server's port is not free yet
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {self.port} still taken")
            time.sleep(0.1)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        self.starts += 1
        while not port_open(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"temporal exited {self.proc.returncode}: see {self.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"temporal not listening after {timeout:.0f} s")
            time.sleep(0.1)

    def stop(self, *, kill: bool = False, grace: float = 20.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class WorkerProcess:
    """``python worker.py`` with the given ``REVIEWCHAIN_*`` settings; its log in ``log``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 60.0) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "worker.py"], cwd=ROOT, env=self.env, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            with self.log.open("rb") as handle:
                handle.seek(offset)
                if b"worker.started" in handle.read():
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}: see {self.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker not started after {timeout:.0f} s")
            time.sleep(0.05)

    def kill9(self) -> None:
        """SIGKILL: no graceful shutdown, in-flight tasks are simply gone."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop(self, grace: float = 20.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def worker_env(address: str, database_url: str, task_queue: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWCHAIN_")}
    env.update(
        REVIEWCHAIN_TEMPORAL_ADDRESS=address,
        REVIEWCHAIN_DATABASE_URL=database_url,
        REVIEWCHAIN_TASK_QUEUE=task_queue,
        REVIEWCHAIN_LOG_FORMAT="json",
        REVIEWCHAIN_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


async def connect(address: str, within: float = 60.0) -> Client:
    deadline = time.monotonic() + within
    while True:
        try:
            return await Client.connect(address, data_converter=pydantic_data_converter)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
