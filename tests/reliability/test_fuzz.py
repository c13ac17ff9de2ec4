"""The API under schemathesis (tests/reliability/fuzzing.py): every operation, valid and invalid
inputs, every role's token or none, generated and seeded ids. Property: not a server error (no
5xx, no unhandled exception). CI size: a bounded number of examples per operation and mode,
deadline-free; bench/reliability_fuzz.py runs many more."""

from __future__ import annotations

import asyncio
import os

import pytest
from fastapi import FastAPI

from tests import factories as f
from tests.api.helpers import Api
from tests.reliability.fuzzing import Seeds, fuzz, sender

MAX_EXAMPLES = int(os.environ.get("REVIEWCHAIN_FUZZ_EXAMPLES", "12"))

pytestmark = pytest.mark.timeout(900)


async def seed(api: Api) -> Seeds:
    """A campaign, a draft, a declaration at unit review and one in its unit publicity."""
    c = await api.campaign()
    ids = []
    for state in ("draft", "unit_review", "unit_publicity"):
        applicant = f.APPLICANT
        d = await api.file(c, applicant)
        if state != "draft":
            await api.post(f"/declarations/{d}/submit", applicant)
        if state == "unit_publicity":
            await api.decide(d, f.UNIT, "unit_review")
        ids.append(d)
    return Seeds(campaign_id=c.id, declaration_ids=[*ids, "D-000000000000"])


async def test_no_operation_answers_with_a_server_error(api: Api, app: FastAPI) -> None:
    seeds = await seed(api)
    send = sender(api.http, asyncio.get_running_loop())
    report = await asyncio.to_thread(
        fuzz, app.openapi(), send, api.settings, seeds, max_examples=MAX_EXAMPLES
    )
    print("\n" + "\n".join(report.lines()))
    assert report.examples >= report.operations * MAX_EXAMPLES
    assert report.findings == []
