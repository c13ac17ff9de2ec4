"""The console is tested around the same app the API tests build (tests/api/conftest.py):
``create_app(settings, temporal_client=env.client)`` on the time-skipping server, whose clock the
app reads. Pages are fetched over ASGI with httpx, one cookie jar per signed-in person."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from settings import Settings
from tests.api.conftest import api, app, http  # noqa: F401 - the API tests' own fixtures
from tests.console.helpers import Console


@pytest.fixture
async def console(app: FastAPI, settings: Settings) -> AsyncIterator[Console]:  # noqa: F811
    pages = Console(app, settings)
    try:
        yield pages
    finally:
        await pages.close()
