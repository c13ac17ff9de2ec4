"""Search attributes (campaign, state, unit, level, pending role) let Temporal's UI and
``temporal workflow list --query`` find declarations; they follow every transition."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from testing import factories as f
from testing.declarations import create, now
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
