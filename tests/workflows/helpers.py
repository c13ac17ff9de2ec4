"""The stored declaration histories the replay tests read and the path tests record."""

from __future__ import annotations

import os
import re
from pathlib import Path

from temporalio.client import WorkflowHistory

from testing.declarations import Declaration

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
#: Where declaration histories are recorded now. The ``audit-write-in-history`` patch changed the
#: shape of every step of every path, so each path has two histories: the one recorded before
#: it, frozen in ``HISTORIES`` itself (running declarations from before the patch), and the one
#: recorded after it, here. A later patch that changes every path starts a directory of its own.
RECORDED = HISTORIES / "audit_write_in_history"


def stored_histories() -> list[Path]:
    """Every stored declaration history, the frozen ones first."""
    return sorted(HISTORIES.glob("*.json")) + sorted(RECORDED.glob("*.json"))


def history_name(path: Path) -> str:
    """A stored history's name relative to ``HISTORIES`` (``audit_write_in_history/withdrawn``)."""
    return path.relative_to(HISTORIES).with_suffix("").as_posix()


#: A failure's stack trace in a history's JSON.
STACK_TRACE = re.compile(r'"stackTrace": "(?:[^"\\]|\\.)*"')


def write_history(name: str, history: WorkflowHistory) -> None:
    """With REVIEWCHAIN_RECORD_HISTORIES=1, store ``history`` as ``RECORDED/<name>.json`` for the
    replay test (tests/workflows/test_history_and_replay.py); otherwise do nothing."""
    if os.environ.get("REVIEWCHAIN_RECORD_HISTORIES") != "1":
        return
    RECORDED.mkdir(parents=True, exist_ok=True)
    (RECORDED / f"{name}.json").write_text(without_stack_traces(history.to_json()))


def without_stack_traces(history_json: str) -> str:
    """The history with each failure's stack trace emptied: it names files on the machine that
    recorded it, and replay never reads it."""
    return STACK_TRACE.sub('"stackTrace": ""', history_json)


async def record_history(d: Declaration, name: str) -> None:
    """With REVIEWCHAIN_RECORD_HISTORIES=1, store this declaration's history (:func:`write_history`);
    otherwise do nothing."""
    if os.environ.get("REVIEWCHAIN_RECORD_HISTORIES") == "1":
        write_history(name, await d.handle.fetch_history())
