"""Changing workflow code under ``workflow.patched`` (docs/reliability.md), proved on stored
histories:

* a history recorded **before** a patch has no marker for it, still replays with the current
  code, and would **not** replay if the new code ran unguarded (so the guard is what keeps
  running declarations alive, not luck);
* a history recorded **after** it holds the patch marker and the new commands, and replays.

Each patch lists its frozen pre-patch histories here; they are never re-recorded.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.workflows.helpers import HISTORIES
from workflows.declaration import DeclarationWorkflow
from workflows.effects import CLOSE_INTERRUPTED_PUBLICITY

#: patch id -> (histories recorded before it, histories recorded with it, the new activity).
PATCHES: dict[str, tuple[list[str], list[str], str]] = {
    CLOSE_INTERRUPTED_PUBLICITY: (
        [
            "withdrawn_during_unit_publicity",
            "misconduct_disqualified",
            "declaration_deadline_during_unit_publicity",
        ],
        [
            "withdrawn_during_unit_publicity_patched",
            "misconduct_disqualified_patched",
            "declaration_deadline_during_unit_publicity_patched",
        ],
        "close_publicity",
    ),
}

CASES = [
    (patch, name, kind)
    for patch, (before, after, _) in PATCHES.items()
    for kind, names in (("before", before), ("after", after))
    for name in names
]


async def load(name: str) -> WorkflowHistory:
    path: Path = HISTORIES / f"{name}.json"
    return WorkflowHistory.from_json(name, await asyncio.to_thread(path.read_text))


def patch_markers(history: WorkflowHistory) -> list[str]:
    """Ids of the patch markers the history records."""
    found = []
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
            continue
        attrs = event.marker_recorded_event_attributes
        if attrs.marker_name != "core_patch":
            continue
        payload = attrs.details["patch-data"].payloads[0]
        found.append(json.loads(payload.data)["id"])
    return found


def scheduled_activities(history: WorkflowHistory) -> list[str]:
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


def replayer() -> Replayer:
    return Replayer(workflows=[DeclarationWorkflow], data_converter=pydantic_data_converter)


@pytest.mark.parametrize(("patch", "name", "kind"), CASES, ids=lambda v: str(v))
async def test_histories_before_and_after_a_patch_replay(patch: str, name: str, kind: str) -> None:
    """Both generations replay with the current code; only the later one holds the marker and
    the new activity."""
    history = await load(name)
    new_activity = PATCHES[patch][2]
    if kind == "before":
        assert patch not in patch_markers(history), f"{name} must stay a pre-patch history"
        assert new_activity not in scheduled_activities(history)
    else:
        assert patch in patch_markers(history)
        assert new_activity in scheduled_activities(history)
    await replayer().replay_workflow(history)


@pytest.mark.parametrize("patch", sorted(PATCHES))
async def test_without_the_guard_pre_patch_histories_would_not_replay(
    patch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: with ``workflow.patched`` answering True everywhere (the new code
    unguarded), every pre-patch history fails replay with a non-determinism error, while a
    history the patch does not touch (a withdrawal from the draft) still replays."""
    monkeypatch.setattr(workflow, "patched", lambda patch_id: True)
    for name in PATCHES[patch][0]:
        with pytest.raises(NondeterminismError):
            await replayer().replay_workflow(await load(name))
    await replayer().replay_workflow(await load("withdrawn"))
