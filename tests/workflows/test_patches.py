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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker
from temporalio.workflow import NondeterminismError

from domain.models import SubmitCommand
from gateway import send, workflow_id
from testing import factories as f
from testing.declarations import now
from tests.workflows.helpers import HISTORIES, RECORDED, history_name
from workflows import search
from workflows.client import start_declaration
from workflows.declaration import (
    AUDIT_WRITE_IN_HISTORY,
    PENDING_ROLE_ON_OBJECTION,
    DeclarationWorkflow,
)
from workflows.effects import CLOSE_INTERRUPTED_PUBLICITY


@dataclass(frozen=True)
class Patch:
    #: Histories recorded before the patch (names relative to tests/histories).
    before: list[str]
    #: Histories recorded with it.
    after: list[str]
    #: The command the patch issues where the old code did not, as :func:`commands` names it:
    #: an activity it schedules, or a search attribute it upserts while the state stays.
    new_command: str
    #: A history the patch leaves alone: it replays even with the guard forced open (None when
    #: the patch touches every history).
    untouched: str | None


PATCHES: dict[str, Patch] = {
    CLOSE_INTERRUPTED_PUBLICITY: Patch(
        before=[
            "withdrawn_during_unit_publicity",
            "misconduct_disqualified",
            "declaration_deadline_during_unit_publicity",
        ],
        after=[
            "withdrawn_during_unit_publicity_patched",
            "misconduct_disqualified_patched",
            "declaration_deadline_during_unit_publicity_patched",
        ],
        new_command="close_publicity",
        untouched="withdrawn",
    ),
    # Every step of every path writes its audit trail differently: every history recorded before
    # the patch is a "before" one, every path was recorded again after it.
    AUDIT_WRITE_IN_HISTORY: Patch(
        before=[history_name(p) for p in sorted(HISTORIES.glob("*.json"))],
        after=[history_name(p) for p in sorted(RECORDED.glob("*.json"))],
        new_command="record_audit_event",
        untouched=None,  # every step of every path writes its audit trail
    ),
    # The pending role a publicity indexes follows its open objections (recorded on a dev server:
    # the time-skipping one keeps no search attributes).
    PENDING_ROLE_ON_OBJECTION: Patch(
        before=["audit_write_in_history/objection_with_search_attributes"],
        after=["audit_write_in_history/objection_with_search_attributes_patched"],
        new_command=f"upsert {search.PENDING_ROLE.name} in place",
        untouched="withdrawn",
    ),
}

CASES = [
    (patch, name, kind)
    for patch, p in PATCHES.items()
    for kind, names in (("before", p.before), ("after", p.after))
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


def commands(history: WorkflowHistory) -> list[str]:
    """The activities a history schedules, and ``upsert <key> in place`` for each search
    attribute upserted while the declaration's state stayed as it was."""
    found = scheduled_activities(history)
    state = None
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            continue
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        indexed = fields.indexed_fields
        if search.STATE.name not in indexed:
            continue
        now = json.loads(indexed[search.STATE.name].data)
        if now == state:
            found.extend(f"upsert {key} in place" for key in indexed if key != search.STATE.name)
        state = now
    return found


def local_activities(history: WorkflowHistory) -> list[str]:
    """The local activities a history's markers record, in order."""
    found = []
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
            continue
        attrs = event.marker_recorded_event_attributes
        if attrs.marker_name == "core_local_activity":
            data = json.loads(attrs.details["data"].payloads[0].data)
            found.append(data["activity_type"])
    return found


def replayer() -> Replayer:
    return Replayer(workflows=[DeclarationWorkflow], data_converter=pydantic_data_converter)


@pytest.mark.parametrize(("patch", "name", "kind"), CASES, ids=lambda v: str(v))
async def test_histories_before_and_after_a_patch_replay(patch: str, name: str, kind: str) -> None:
    """Both generations replay with the current code; only the later one holds the marker and
    the new command."""
    history = await load(name)
    new_command = PATCHES[patch].new_command
    if kind == "before":
        assert patch not in patch_markers(history), f"{name} must stay a pre-patch history"
        assert new_command not in commands(history)
    else:
        assert patch in patch_markers(history)
        assert new_command in commands(history)
    await replayer().replay_workflow(history)


@pytest.mark.parametrize("patch", sorted(PATCHES))
async def test_without_the_guard_pre_patch_histories_would_not_replay(
    patch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: with ``workflow.patched`` answering True for this patch (its new code
    unguarded; the other patches asked as usual), every pre-patch history fails replay with a
    non-determinism error, while a history the patch does not touch (if there is one) still
    replays."""
    asked = workflow.patched
    monkeypatch.setattr(workflow, "patched", lambda patch_id: patch_id == patch or asked(patch_id))
    for name in PATCHES[patch].before:
        with pytest.raises(NondeterminismError):
            await replayer().replay_workflow(await load(name))
    untouched = PATCHES[patch].untouched
    if untouched is not None:
        await replayer().replay_workflow(await load(untouched))


def test_every_path_was_recorded_after_the_audit_write_patch() -> None:
    """A patch that changes every step leaves no path without a history of its new shape: each
    frozen history has its counterpart recorded after the patch (the close-interrupted-publicity
    paths under their ``…_patched`` names)."""
    frozen = PATCHES[AUDIT_WRITE_IN_HISTORY].before
    close = PATCHES[CLOSE_INTERRUPTED_PUBLICITY]
    renamed = dict(zip(close.before, close.after, strict=True))
    wanted = {f"audit_write_in_history/{renamed.get(name, name)}" for name in frozen}
    assert sorted(wanted - set(PATCHES[AUDIT_WRITE_IN_HISTORY].after)) == []


@pytest.mark.parametrize("audit_write", [None, "local_activity"])
async def test_a_declaration_started_for_the_old_audit_write_never_asks_for_the_patch(
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    audit_write: Literal["local_activity"] | None,
) -> None:
    """The benchmark's switch (bench/RESULTS.md §8): ``audit_write="local_activity"`` keeps a
    new declaration on the pre-patch write (local activities, no marker, so it replays on the old
    path with or without the switch); without it, a new declaration records the marker and
    schedules ``record_audit_event`` as a regular activity, before its first answer."""
    at = await now(env)
    c = f.campaign(at)
    start = f.start(c, f.declaration(c), at).model_copy(update={"audit_write": audit_write})
    await start_declaration(client, worker.task_queue, start)
    await send(client, start.declaration_id, "submit", SubmitCommand(actor=f.APPLICANT))
    handle = client.get_workflow_handle(workflow_id(start.declaration_id))
    history = await handle.fetch_history()
    markers = patch_markers(history)
    scheduled = scheduled_activities(history)
    if audit_write is None:
        assert AUDIT_WRITE_IN_HISTORY in markers
        # Created, then submitted: one batch each, or one for both when the submission reached
        # the run's first workflow task before the creation was written.
        assert scheduled.count("record_audit_event") in (1, 2)
    else:
        assert AUDIT_WRITE_IN_HISTORY not in markers
        assert "record_audit_event" not in scheduled
        assert local_activities(history).count("record_audit_event") in (1, 2)
    await replayer().replay_workflow(history)
