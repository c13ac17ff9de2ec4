"""The API under schemathesis (testing/reliability/fuzzing.py): every operation, valid and invalid
inputs, every role's token or none, generated and seeded ids. Property: not a server error (no
5xx, no unhandled exception). CI size: a bounded number of examples per operation and mode,
deadline-free; bench/reliability_fuzz.py runs many more."""

from __future__ import annotations

import asyncio
import os

import pytest
from fastapi import FastAPI

from testing.api import Api
from testing.reliability.fuzzing import fuzz, seed, sender

MAX_EXAMPLES = int(os.environ.get("REVIEWCHAIN_FUZZ_EXAMPLES", "12"))

pytestmark = pytest.mark.timeout(900)


async def test_no_operation_answers_with_a_server_error(api: Api, app: FastAPI) -> None:
    seeds = await seed(api)
    send = sender(api.http, asyncio.get_running_loop())
    report = await asyncio.to_thread(
        fuzz, app.openapi(), send, api.settings, seeds, max_examples=MAX_EXAMPLES
    )
    print("\n" + "\n".join(report.lines()))
    assert report.examples >= report.operations * MAX_EXAMPLES
    assert report.findings == []
