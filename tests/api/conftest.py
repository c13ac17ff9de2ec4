"""The API around the shared Temporal environment and worker (tests/conftest.py): the app is
built exactly as docs/rules.md §13 says, ``create_app(settings, temporal_client=env.client)``, and
driven over ASGI. Its clock is the Temporal server's, so instants the API stamps agree with the
workflows' time when the test server skips ahead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from settings import Settings
from testing.api import Api, register


@pytest.fixture
def app(env: WorkflowEnvironment, worker: Worker, settings: Settings) -> FastAPI:
    """The app, with the test registry (``f.REGISTRY``) imported: the organisations every
    campaign and declaration of the API tests names (docs/rules.md §11)."""
    application = create_app(settings, temporal_client=env.client)
    register(application.state.services.store)

    async def server_clock() -> datetime:
        return await env.get_current_time()

    application.state.services.clock = server_clock
    return application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient, settings: Settings, env: WorkflowEnvironment) -> Api:
    return Api(http, settings, env)
