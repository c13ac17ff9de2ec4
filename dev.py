#!/usr/bin/env python3
"""Two commands for a fresh machine with only Python 3.11+.

    python3 dev.py run     # Temporal dev server + mail sink + worker + API on http://127.0.0.1:8000
    python3 dev.py test    # the test suite (extra arguments go to pytest)

Both create ``.venv`` and install the project into it the first time (and again whenever
``pyproject.toml`` changes): ``run`` only what running needs, ``test`` the development extras
too (pytest, the linters, the browser driver). ``test`` exits with pytest's real status even if
the Temporal SDK crashes while the interpreter shuts down.

``run`` also starts a local mail sink (SMTP on 1025): every reminder and notice the worker sends
lands in ``var/mail`` and is listed at ``/console/dev/mail``; nothing leaves the machine. Where
``REVIEWCHAIN_SMTP_URL`` is set already, that server is used and no sink is started.

``run`` takes ``--var DIR`` (where the data lives, ``var/`` by default) and ``--port-offset N``
(added to every port it binds: 7233, 8233, 8000, 9464, 9465, 1025), so that a second copy can run
beside the first. It checks those ports before it starts anything, and names the process that
holds a busy one. SIGINT (Ctrl-C), SIGTERM and SIGHUP all stop it the same way: the API, then
the worker, then the Temporal dev server, then the mail sink, then whatever is left of their
process group.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".installed"
POSIX = os.name == "posix"

#: The optional dependencies (pyproject's ``[project.optional-dependencies]``) each command needs.
EXTRAS: dict[str, frozenset[str]] = {"run": frozenset(), "test": frozenset({"dev"})}


# --------------------------------------------------------------------------- the environment


@dataclass(frozen=True)
class Installed:
    """What ``.venv/.installed`` says was installed: for which ``pyproject.toml``, with which
    extras."""

    pyproject_sha256: str
    extras: frozenset[str]


def read_stamp(text: str | None) -> Installed | None:
    """The stamp's content, or None when there is none (or it cannot be read). A stamp that is
    a bare digest comes from the versions of this script that always installed ``[dev]``."""
    if not text:
        return None
    text = text.strip()
    if re.fullmatch(r"[0-9a-f]{64}", text):
        return Installed(text, frozenset({"dev"}))
    try:
        data = json.loads(text)
        return Installed(str(data["pyproject_sha256"]), frozenset(map(str, data["extras"])))
    except (ValueError, KeyError, TypeError):
        return None


def write_stamp(installed: Installed) -> str:
    return json.dumps(
        {"pyproject_sha256": installed.pyproject_sha256, "extras": sorted(installed.extras)}
    )


def install_plan(stamp: Installed | None, digest: str, wanted: frozenset[str]) -> Installed | None:
    """What to install so that ``.venv`` has ``wanted`` for this ``pyproject.toml``, or None when
    it already has. The extras installed before are kept (and refreshed when ``pyproject.toml``
    changed), so ``run`` after ``test`` reinstalls nothing and leaves the test tools in place."""
    if stamp is not None and stamp.pyproject_sha256 == digest and wanted <= stamp.extras:
        return None
    kept = stamp.extras if stamp is not None else frozenset()
    return Installed(digest, kept | wanted)


def pip_target(extras: frozenset[str]) -> str:
    """The editable requirement: ``ROOT`` alone, or ``ROOT[dev]`` with extras."""
    return f"{ROOT}[{','.join(sorted(extras))}]" if extras else str(ROOT)


def ensure_env(command: str) -> None:
    """Create the virtual environment and install the project when needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before the venv exists
        sys.exit("Python 3.11 or newer is needed")
    if not PY.exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = read_stamp(STAMP.read_text() if STAMP.exists() else None)
    plan = install_plan(stamp, digest, EXTRAS[command])
    if plan is None:
        return
    what = f" with the extras {', '.join(sorted(plan.extras))}" if plan.extras else ""
    print(f"installing the project{what} and its dependencies into .venv …", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", pip_target(plan.extras)], check=True)
    STAMP.write_text(write_stamp(plan))


# --------------------------------------------------------------------------- test


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


# --------------------------------------------------------------------------- ports

HOST = "127.0.0.1"
#: The role of the local mail sink's port (not bound when ``REVIEWCHAIN_SMTP_URL`` is set).
MAIL_SINK = "local mail sink"


@dataclass(frozen=True)
class Ports:
    """Every port ``run`` binds itself (the Temporal dev server picks free ones for its HTTP API,
    metrics and internal services)."""

    temporal: int = 7233
    ui: int = 8233
    api: int = 8000
    api_metrics: int = 9464
    worker_metrics: int = 9465
    mail: int = 1025

    @classmethod
    def shifted(cls, offset: int) -> Ports:
        base = cls()
        return cls(*(port + offset for _, port in base.named()))

    def named(self) -> list[tuple[str, int]]:
        return [
            ("Temporal frontend", self.temporal),
            ("Temporal UI", self.ui),
            ("API", self.api),
            ("API's SDK metrics", self.api_metrics),
            ("worker's SDK metrics", self.worker_metrics),
            (MAIL_SINK, self.mail),
        ]


def port_free(port: int, host: str = HOST) -> bool:
    """True when a server could listen on ``host:port`` now. Sockets left in TIME_WAIT by a
    server that stopped do not count (the services set SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if POSIX:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def listening_inodes(proc: Path = Path("/proc")) -> dict[str, int]:
    """Linux: the socket inode of every listening TCP socket (IPv4 and IPv6), with its port."""
    found: dict[str, int] = {}
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A":  # TCP_LISTEN
                found[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
    return found


def socket_owners(inodes: Iterable[str], proc: Path = Path("/proc")) -> dict[str, set[int]]:
    """Linux: which processes hold each socket inode open (those whose /proc/PID/fd can be read:
    all of them for root, one's own otherwise)."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    owners: dict[str, set[int]] = {inode: set() for inode in wanted.values()}
    if not wanted:
        return owners
    try:
        pids = [int(entry) for entry in os.listdir(proc) if entry.isdigit()]
    except OSError:
        return owners
    for pid in pids:
        fd_dir = proc / str(pid) / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd_dir / fd)
            except OSError:
                continue
            if target in wanted:
                owners[wanted[target]].add(pid)
    return owners


def command_line(pid: int, proc: Path = Path("/proc")) -> str:
    """The process's command line, or "" when it cannot be read."""
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        raw = b""
    if raw:
        return " ".join(part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0"))
    ps = shutil.which("ps")
    if ps is None:
        return ""
    done = subprocess.run([ps, "-o", "command=", "-p", str(pid)], capture_output=True, text=True)
    return done.stdout.strip()


def _pids_from_tools(port: int) -> set[int]:
    """Where /proc says nothing (another system, or another user's process): ``ss`` or
    ``lsof``, when installed."""
    ss = shutil.which("ss")
    if ss is not None:
        done = subprocess.run(
            [ss, "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, timeout=10
        )
        pids = {int(pid) for pid in re.findall(r"pid=(\d+)", done.stdout)}
        if pids:
            return pids
    lsof = shutil.which("lsof")
    if lsof is not None:
        done = subprocess.run(
            [lsof, "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fp"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return {int(line[1:]) for line in done.stdout.split() if line[1:].isdigit()}
    return set()


def port_holders(port: int, proc: Path = Path("/proc")) -> dict[int, str]:
    """The processes listening on ``port``, with their command lines; empty when this system
    does not tell (no /proc, ``ss`` or ``lsof``, or a process of another user)."""
    inodes = [inode for inode, bound in listening_inodes(proc).items() if bound == port]
    pids: set[int] = set()
    for owners in socket_owners(inodes, proc).values():
        pids |= owners
    if not pids:
        try:
            pids = _pids_from_tools(port)
        except (OSError, subprocess.SubprocessError):
            pids = set()
    return {pid: command_line(pid, proc) for pid in sorted(pids)}


def busy_ports(
    ports: Ports, proc: Path = Path("/proc"), *, unused: Iterable[str] = ()
) -> list[str]:
    """One line per port that is taken, naming what holds it where this system can tell
    (``unused``: roles whose port this run does not bind)."""
    lines = []
    skip = set(unused)
    for role, port in ports.named():
        if role in skip or port_free(port):
            continue
        holders = port_holders(port, proc)
        if holders:
            held = "; ".join(
                f"pid {pid}: {cmd or '(command line unreadable)'}" for pid, cmd in holders.items()
            )
            lines.append(f"port {port} ({role}) is in use, held by {held}")
        else:
            lines.append(
                f"port {port} ({role}) is in use, by a process this system does not name "
                "(no /proc, ss or lsof that shows it; it may belong to another user)"
            )
    return lines


# --------------------------------------------------------------------------- run


class Stopping:
    """SIGINT, SIGTERM and SIGHUP ask ``run`` to stop; a second one, while it is stopping,
    kills what is left at once."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.hurry: Callable[[], None] = lambda: None

    def install(self) -> None:
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = signum
            return
        self.hurry()

    @property
    def requested(self) -> bool:
        return self.signal is not None


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    #: Seconds it may take to stop after SIGTERM before it is killed.
    grace: float


class Services:
    """The children of ``run``, all in one process group of their own (so that Ctrl-C in the
    terminal reaches ``run`` alone, which stops them in order)."""

    def __init__(self, stopping: Stopping) -> None:
        self.started: list[Service] = []
        self.group: int | None = None
        stopping.hurry = self.kill_all

    def start(self, name: str, args: list[str], env: dict[str, str], grace: float) -> Service:
        group = (0 if self.group is None else self.group) if POSIX else None
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, process_group=group
        )
        if POSIX and self.group is None:
            self.group = proc.pid
        service = Service(name, proc, grace)
        self.started.append(service)
        return service

    @staticmethod
    def exited(service: Service) -> bool:
        """Whether it has ended, without reaping it: an unreaped child keeps its pid, and so the
        process group's id, from being reused until the group has been swept."""
        if not hasattr(os, "waitid"):
            return service.proc.poll() is not None
        if service.proc.returncode is not None:
            return True
        try:
            found = os.waitid(os.P_PID, service.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return found is not None

    def first_exited(self) -> Service | None:
        return next((s for s in self.started if self.exited(s)), None)

    def _wait(self, service: Service, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited(service):
                return True
            time.sleep(0.1)
        return self.exited(service)

    def stop(self) -> None:
        """The API, then the worker, then the Temporal server (the reverse of starting): each
        gets SIGTERM and its grace period, then SIGKILL. Then the rest of the group goes."""
        for service in reversed(self.started):
            if self.exited(service):
                continue
            print(f"dev.py: stopping the {service.name} …", flush=True)
            service.proc.terminate()
            if not self._wait(service, service.grace):
                print(
                    f"dev.py: the {service.name} did not stop in {service.grace:.0f}s; killing it"
                )
                service.proc.kill()
                self._wait(service, 10)
        self._sweep_group()
        for service in reversed(self.started):
            code = service.proc.wait()
            print(f"dev.py: the {service.name} stopped ({_status(code)})", flush=True)

    def _sweep_group(self) -> None:
        """Anything the services started themselves (every one of them has ended, unreaped)."""
        if self.group is not None and hasattr(os, "killpg"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.group, signal.SIGKILL)

    def kill_all(self) -> None:
        print("dev.py: stopping at once (second signal)", flush=True)
        for service in self.started:
            if not self.exited(service):
                service.proc.kill()
        self._sweep_group()


def _status(code: int) -> str:
    if code < 0:
        try:
            return f"on {signal.Signals(-code).name}"
        except ValueError:
            return f"on signal {-code}"
    return f"exit status {code}"


def _wait_listening(port: int, service: Service, services: Services, stopping: Stopping) -> bool:
    """Until ``port`` answers: False when a stop was asked or the service ended first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if stopping.requested or services.exited(service):
            return False
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((HOST, port)) == 0:
                return True
        time.sleep(0.2)
    print(f"dev.py: nothing listens on {HOST}:{port} after 120s", file=sys.stderr)
    return False


def run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dev.py run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--var",
        type=Path,
        default=ROOT / "var",
        help="where the SQLite store and the Temporal server keep their data (default var/)",
    )
    parser.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="added to every port: 7233, 8233, 8000, 9464, 9465, 1025 (default 0)",
    )
    return parser


def run_local(argv: list[str]) -> int:
    """The embedded Temporal dev server (SQLite), a local mail sink, the worker and the API,
    until stopped."""
    options = run_parser().parse_args(argv)
    ports = Ports.shifted(options.port_offset)
    if not all(0 < port < 65536 for _, port in ports.named()):
        print(f"dev.py: --port-offset {options.port_offset} leaves the port range", file=sys.stderr)
        return 2
    own_sink = "REVIEWCHAIN_SMTP_URL" not in os.environ
    busy = busy_ports(ports, unused=() if own_sink else (MAIL_SINK,))
    if busy:
        for line in busy:
            print(f"dev.py: {line}", file=sys.stderr)
        print(
            "dev.py: nothing was started. Stop that process (an earlier `dev.py run`, perhaps), "
            "or run this one beside it with --port-offset N.",
            file=sys.stderr,
        )
        return 1
    ensure_env("run")
    var = options.var.resolve()
    var.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("REVIEWCHAIN_DATABASE_URL", f"sqlite:///{(var / 'reviewchain.sqlite3')}")
    env["REVIEWCHAIN_TEMPORAL_ADDRESS"] = f"{HOST}:{ports.temporal}"
    base = f"http://{HOST}:{ports.api}"
    if own_sink:
        env["REVIEWCHAIN_SMTP_URL"] = f"smtp://{HOST}:{ports.mail}"
        env.setdefault("REVIEWCHAIN_DEV_MAILBOX", str(var / "mail"))
        env.setdefault("REVIEWCHAIN_CONSOLE_URL", base)
    stopping = Stopping()
    stopping.install()
    services = Services(stopping)
    try:
        if own_sink:
            sink = services.start(
                "mail sink",
                [
                    str(PY),
                    "-m",
                    "tools.mailsink",
                    "--port",
                    str(ports.mail),
                    "--maildir",
                    env["REVIEWCHAIN_DEV_MAILBOX"],
                ],
                env,
                grace=10,
            )
            if not _wait_listening(ports.mail, sink, services, stopping):
                return _ended(services, stopping)
        temporal = services.start(
            "Temporal dev server",
            [
                str(BIN / "temporal"),
                "server",
                "start-dev",
                "--ip",
                HOST,
                "--port",
                str(ports.temporal),
                "--ui-port",
                str(ports.ui),
                "--db-filename",
                str(var / "temporal.sqlite3"),
                "--log-level",
                "warn",
            ],
            env,
            grace=15,
        )
        if not _wait_listening(ports.temporal, temporal, services, stopping):
            return _ended(services, stopping)
        services.start(
            "worker",
            [str(PY), "worker.py"],
            {**env, "REVIEWCHAIN_SDK_METRICS_BIND_ADDRESS": f"{HOST}:{ports.worker_metrics}"},
            grace=45,  # the worker lets in-flight activities finish (30 s by default)
        )
        api = services.start(
            "API",
            [
                str(PY),
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--host",
                HOST,
                "--port",
                str(ports.api),
                "--no-access-log",
            ],
            {**env, "REVIEWCHAIN_SDK_METRICS_BIND_ADDRESS": f"{HOST}:{ports.api_metrics}"},
            grace=15,
        )
        if not _wait_listening(ports.api, api, services, stopping):
            return _ended(services, stopping)
        print(f"API:         {base}  (docs: {base}/docs)")
        print(f"Console:     {base}/console  (sign in with a token: cli.py tokens)")
        if own_sink:
            print(
                f"Mail:        {base}/console/dev/mail  (local SMTP sink {HOST}:{ports.mail}, "
                f"kept in {_shown(Path(env['REVIEWCHAIN_DEV_MAILBOX']))}; nothing leaves this "
                "machine)"
            )
        print(f"Temporal UI: http://{HOST}:{ports.ui}")
        print(f"Temporal:    {HOST}:{ports.temporal} (namespace default, task queue review-chain)")
        print("Ctrl-C (or SIGTERM, SIGHUP) stops everything.", flush=True)
        while not stopping.requested and services.first_exited() is None:
            time.sleep(0.2)
        return _ended(services, stopping)
    finally:
        services.stop()


def _shown(path: Path) -> str:
    """A path as the operator would type it: relative to the project where it lies inside."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _ended(services: Services, stopping: Stopping) -> int:
    """0 when a signal asked to stop, 1 when a service ended by itself."""
    if stopping.requested:
        assert stopping.signal is not None
        print(f"dev.py: {signal.Signals(stopping.signal).name} received, stopping", flush=True)
        return 0
    ended = services.first_exited()
    if ended is not None:
        print(f"dev.py: the {ended.name} ended by itself; stopping the others", file=sys.stderr)
    return 1


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    if sys.argv[1] == "test":
        ensure_env("test")
        return run_tests(sys.argv[2:])
    return run_local(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
