"""The API under schemathesis (testing/reliability/fuzzing.py): every operation, valid and invalid
inputs, every role's token or none, generated and seeded ids. Every answer is held to the
document (testing/reliability/conformance.py): no server error or unhandled exception, no status
the operation does not document, no schema-valid request refused as malformed (but the rules no
schema can state, each listed with why), no invalid one accepted, bodies and media types as
documented. CI size: a bounded number of examples per operation and mode
(``REVIEWCHAIN_FUZZ_EXAMPLES``, 12), deadline-free; bench/reliability_fuzz.py runs many more."""

from __future__ import annotations

import asyncio
import os

import pytest
from fastapi import FastAPI

from testing.api import Api
from testing.reliability.fuzzing import fuzz, seed, sender

MAX_EXAMPLES = int(os.environ.get("REVIEWCHAIN_FUZZ_EXAMPLES", "12"))

pytestmark = pytest.mark.timeout(900)


async def test_every_answer_is_one_the_document_promises(api: Api, app: FastAPI) -> None:
    seeds = await seed(api)
    send = sender(api.http, asyncio.get_running_loop())
    report = await asyncio.to_thread(
        fuzz, app.openapi(), send, api.settings, seeds, max_examples=MAX_EXAMPLES
    )
    print("\n" + "\n".join(report.lines()))
    assert report.examples >= report.operations * MAX_EXAMPLES
    assert report.findings == []
