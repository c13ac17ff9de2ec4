"""``python3 dev.py run`` as an operator stops it: SIGTERM (systemd, tmux, an IDE's stop button)
or SIGHUP (a closed terminal) stops the API, the worker and the Temporal dev server in that
order, and leaves no process and no port behind; a port that is already taken is named, with
the process that holds it, before anything starts.

These tests read /proc, so they run on Linux. They use the project's ``.venv`` as it is (``dev.py
run`` would install into it when ``pyproject.toml`` changed since: run ``python3 dev.py test``).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import dev

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc (Linux)")


def _offset() -> int:
    """A port offset whose five ports are all free; the ports stay below Linux's ephemeral
    range, where the Temporal server and every client pick theirs."""
    for _ in range(100):
        offset = random.randrange(1000, 20000, 10)
        if all(dev.port_free(port) for _, port in dev.Ports.shifted(offset).named()):
            return offset
    pytest.fail("no free set of ports found for dev.py run")


def _environment() -> dict[str, str]:
    """The caller's environment without any REVIEWCHAIN_ setting (the run uses its own var/)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REVIEWCHAIN_")}


def _require_current_env() -> None:
    digest = dev.hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = dev.read_stamp(dev.STAMP.read_text() if dev.STAMP.exists() else None)
    if dev.install_plan(stamp, digest, dev.EXTRAS["run"]) is not None:
        pytest.fail(".venv is older than pyproject.toml: run `python3 dev.py test` once")


def _processes() -> dict[int, tuple[int, int]]:
    """Every live process: pid → (parent pid, process group)."""
    table: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # state, ppid, pgrp, …
        if fields[0] != "Z":
            table[int(entry)] = (int(fields[1]), int(fields[2]))
    return table


def _descendants(root: int, table: dict[int, tuple[int, int]]) -> set[int]:
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, (ppid, _) in table.items() if ppid in frontier} - found
        found |= frontier
    return found


def _listening_ports(pids: set[int]) -> set[int]:
    inodes = dev.listening_inodes()
    owners = dev.socket_owners(inodes)
    return {inodes[inode] for inode, holders in owners.items() if holders & pids}


def _kill_groups(groups: set[int]) -> list[int]:
    """Kill whatever is left in these process groups; the groups that were still there."""
    found = []
    for group in sorted(groups):
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            continue
        found.append(group)
    return found


class Output:
    """Collects a process's output lines as they come; notes when a line appears."""

    def __init__(self, proc: subprocess.Popen[bytes], marker: str) -> None:
        self.lines: list[str] = []
        self.seen = threading.Event()
        self._marker = marker
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            if self._marker in line:
                self.seen.set()

    def index(self, text: str) -> int:
        return next(i for i, line in enumerate(self.lines) if text in line)

    def tail(self) -> str:
        return "\n".join(self.lines[-60:])


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_stops_every_service_in_order_and_frees_every_port(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """dev.py run, once ready, stopped by SIGTERM or SIGHUP as Ctrl-C stops it: API, worker,
    Temporal dev server in that order; exit status 0; every process it started gone, every
    port they listened on (the five it binds and the ones the Temporal server picked) free."""
    _require_current_env()
    offset = _offset()
    ports = dev.Ports.shifted(offset)
    command = [sys.executable, "dev.py", "run", "--var", str(tmp_path / "var")]
    proc = subprocess.Popen(
        [*command, "--port-offset", str(offset)],
        cwd=ROOT,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = Output(proc, "stops everything")
    tree: set[int] = set()
    groups: set[int] = set()
    try:
        assert output.seen.wait(180), output.tail()
        table = _processes()
        tree = _descendants(proc.pid, table)
        groups = {table[pid][1] for pid in tree | {proc.pid}}
        held = _listening_ports(tree)
        assert {port for _, port in ports.named()} <= held, (sorted(held), ports)
        assert len(tree) >= 3 and groups - {proc.pid}, "the services run in a group of their own"

        proc.send_signal(signum)
        code = proc.wait(timeout=120)
        output.thread.join(timeout=30)  # the pipe closes once every process holding it ended
    finally:
        leftover = _kill_groups({proc.pid, *groups})
    assert code == 0, output.tail()
    assert not leftover, f"process groups still there after dev.py ended: {leftover}"
    assert not output.thread.is_alive(), "a process still holds dev.py's output open"
    left = _processes()
    assert not tree & set(left), f"still running: {sorted(tree & set(left))}"
    assert not {pid for pid, (_, group) in left.items() if group in groups}
    assert all(dev.port_free(port) for port in held), [p for p in held if not dev.port_free(p)]
    assert not _listening_ports(tree)
    name = signal.Signals(signum).name
    steps = [
        f"{name} received",
        "stopping the API",
        "stopping the worker",
        "stopping the Temporal dev server",
        "the API stopped",
        "the worker stopped",
        "the Temporal dev server stopped",
    ]
    at = [output.index(step) for step in steps]
    assert at == sorted(at), output.tail()


def test_a_busy_port_is_named_with_its_process_before_anything_starts(tmp_path: Path) -> None:
    """A port dev.py run needs is taken (here by this test's own process): it names the port, its
    role and the holder's pid and command line, starts nothing, and exits with status 1."""
    offset = _offset()
    ports = dev.Ports.shifted(offset)
    var = tmp_path / "var"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports.api))
        holder.listen()
        done = subprocess.run(
            [sys.executable, "dev.py", "run", "--var", str(var), "--port-offset", str(offset)],
            cwd=ROOT,
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    me = dev.command_line(os.getpid())
    assert me
    assert f"port {ports.api} (API) is in use, held by pid {os.getpid()}: {me}" in done.stderr
    assert "nothing was started" in done.stderr
    assert "stops everything" not in done.stdout and "installing" not in done.stdout
    assert not var.exists(), "nothing may be created before the ports are checked"
    assert all(dev.port_free(port) for _, port in ports.named())


def test_a_busy_port_whose_holder_cannot_be_found_is_still_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without /proc, ss or lsof (another system, another user's process), the busy port is
    still reported, saying that its holder cannot be named."""
    monkeypatch.setattr(dev.shutil, "which", lambda _name: None)
    offset = _offset()
    ports = dev.Ports.shifted(offset)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports.ui))
        holder.listen()
        assert dev.port_holders(ports.ui, proc=tmp_path) == {}
        lines = dev.busy_ports(ports, proc=tmp_path)
        assert dev.port_holders(ports.ui) == {os.getpid(): dev.command_line(os.getpid())}
    assert lines == [
        f"port {ports.ui} (Temporal UI) is in use, by a process this system does not name "
        "(no /proc, ss or lsof that shows it; it may belong to another user)"
    ]


def test_ss_names_the_holder_when_proc_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where /proc shows nothing, ``ss -ltnp`` names the holder (when installed)."""
    ss = dev.shutil.which("ss")
    if ss is None:
        pytest.skip("ss is not installed")
    monkeypatch.setattr(dev.shutil, "which", lambda name: ss if name == "ss" else None)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert list(dev.port_holders(port, proc=tmp_path)) == [os.getpid()]
