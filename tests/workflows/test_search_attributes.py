"""Search attributes (campaign, state, unit, level, pending role) let Temporal's UI and
``temporal workflow list --query`` find declarations; they follow every transition."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import (
    ObjectionCommand,
    ObjectionLodged,
    ObjectionResolutionCommand,
    WithdrawCommand,
)
from testing import factories as f
from testing.declarations import Declaration, create, now
from tests.workflows.helpers import record_history
from workflows import search

pytestmark = pytest.mark.usefixtures("worker")


async def test_search_attributes_follow_the_state_and_who_must_act(
    env: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    if env.supports_time_skipping:
        pytest.skip("the time-skipping server keeps no search attributes; run with local")
    d = await create(client, worker.task_queue, await now(env))
    attrs = (await d.handle.describe()).typed_search_attributes
    assert attrs.get(search.STATE) == "draft" and attrs.get(search.PENDING_ROLE) == "applicant"
    assert attrs.get(search.UNIT) == f.UNIT.org and attrs.get(search.LEVEL) == "deputy_senior"
    await d.submit()
    attrs = (await d.handle.describe()).typed_search_attributes
    assert attrs.get(search.STATE) == "unit_review"
    assert attrs.get(search.PENDING_ROLE) == "unit_reviewer"
    campaign = attrs.get(search.CAMPAIGN)
    query = f"ReviewCampaign = '{campaign}' AND ReviewState = 'unit_review'"
    for _ in range(100):  # visibility is eventually consistent
        found = [w.id async for w in client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [d.handle.id]


async def attributes_settle(d: Declaration, state: str, role: str) -> None:
    """The upsert lands with the workflow task that answered; describe until it shows."""
    for _ in range(100):
        attrs = (await d.handle.describe()).typed_search_attributes
        if (attrs.get(search.STATE), attrs.get(search.PENDING_ROLE)) == (state, role):
            return
        await asyncio.sleep(0.05)
    shown = f"{attrs.get(search.STATE)}/{attrs.get(search.PENDING_ROLE)}"
    raise AssertionError(f"search attributes stayed {shown}, not {state}/{role}")


async def test_a_publicity_waits_on_its_resolver_only_while_an_objection_is_open(
    env: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """The unit publicity runs out by itself: no pending role, until an objection is lodged
    (the unit must resolve it) and again once it is resolved. Recorded as the history that holds
    the ``pending-role-on-open-objection`` marker (tests/workflows/test_patches.py)."""
    if env.supports_time_skipping:
        pytest.skip("the time-skipping server keeps no search attributes; run with local")
    d = await create(client, worker.task_queue, await now(env))
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "approve", opinion="材料真实完整")
    assert view.state == "unit_publicity" and view.pending is None
    await attributes_settle(d, "unit_publicity", "")
    objection = ObjectionCommand(actor=f.ANYONE, text="学历存疑")
    lodged = await d.send("lodge_objection", objection, result_type=ObjectionLodged)
    assert lodged.pending is not None and lodged.pending.action == "resolve_objections"
    await attributes_settle(d, "unit_publicity", "unit_reviewer")
    resolution = ObjectionResolutionCommand(
        actor=f.UNIT, objection_id=lodged.objection_id, upheld=False, opinion="经核实不成立"
    )
    assert (await d.send("resolve_objection", resolution)).pending is None
    await attributes_settle(d, "unit_publicity", "")
    await d.send("withdraw", WithdrawCommand(actor=f.APPLICANT))
    assert (await d.handle.result()).state == "withdrawn"
    await record_history(d, "objection_with_search_attributes_patched")
