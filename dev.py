#!/usr/bin/env python3
"""Two commands for a fresh machine with only Python 3.11+.

    python3 dev.py run     # Temporal dev server + worker + API on http://127.0.0.1:8000
    python3 dev.py test    # the test suite (extra arguments go to pytest)

Both create ``.venv`` and install the project into it the first time (and again whenever
``pyproject.toml`` changes). ``test`` exits with pytest's real status even if the Temporal SDK
crashes while the interpreter shuts down.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def ensure_env() -> None:
    """Create the virtual environment and install the project when needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before the venv exists
        sys.exit("Python 3.11 or newer is needed")
    if not PY.exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("installing the project and its dependencies into .venv …", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    stamp.write_text(digest)


def run_tests(args: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        status_file = Path(tmp) / "status"
        env = dict(
            os.environ,
            REVIEWCHAIN_PYTEST_STATUS_FILE=str(status_file),
            REVIEWCHAIN_HARD_EXIT="1",
        )
        proc = subprocess.run([str(PY), "-m", "pytest", *args], cwd=ROOT, env=env)
        if status_file.exists():
            status = int(status_file.read_text() or "1")
            if status != proc.returncode:
                print(
                    f"(the test process ended with {proc.returncode} after pytest decided "
                    f"{status}; reporting pytest's status)",
                    file=sys.stderr,
                )
            return status
        return proc.returncode if proc.returncode >= 0 else 128 - proc.returncode


def _wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing is listening on 127.0.0.1:{port} after {timeout:.0f}s")


def run_local() -> int:
    """The embedded Temporal dev server (SQLite), the worker and the API, until Ctrl-C."""
    (ROOT / "var").mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault(
        "REVIEWCHAIN_DATABASE_URL", f"sqlite:///{(ROOT / 'var' / 'reviewchain.sqlite3')}"
    )
    env.setdefault("REVIEWCHAIN_TEMPORAL_ADDRESS", "127.0.0.1:7233")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "temporal"), "server", "start-dev",
                    "--ip", "127.0.0.1", "--port", "7233", "--ui-port", "8233",
                    "--db-filename", str(ROOT / "var" / "temporal.sqlite3"),
                    "--log-level", "warn",
                ],
                cwd=ROOT, env=env,
            )
        )  # fmt: skip
        _wait_port(7233)
        worker_env = {**env, "REVIEWCHAIN_SDK_METRICS_BIND_ADDRESS": "127.0.0.1:9465"}
        procs.append(subprocess.Popen([str(PY), "worker.py"], cwd=ROOT, env=worker_env))
        if (ROOT / "api" / "app.py").exists():
            procs.append(
                subprocess.Popen(
                    [str(PY), "-m", "uvicorn", "api.app:create_app", "--factory",
                     "--host", "127.0.0.1", "--port", "8000", "--no-access-log"],
                    cwd=ROOT, env={**env, "REVIEWCHAIN_SDK_METRICS_BIND_ADDRESS": "127.0.0.1:9464"},
                )
            )  # fmt: skip
            _wait_port(8000)
            print("API:         http://127.0.0.1:8000  (docs: http://127.0.0.1:8000/docs)")
            print(
                "Console:     http://127.0.0.1:8000/console  (sign in with a token: cli.py tokens)"
            )
        print("Temporal UI: http://127.0.0.1:8233")
        print("Temporal:    127.0.0.1:7233 (namespace default, task queue review-chain)")
        print("Ctrl-C stops everything.", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    ensure_env()
    if sys.argv[1] == "test":
        return run_tests(sys.argv[2:])
    return run_local()


if __name__ == "__main__":
    sys.exit(main())
