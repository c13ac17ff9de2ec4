"""Security findings (issue: trust boundaries), one test module per finding.

``bare_app`` is the HTTP app without Temporal: enough for what is decided before a workflow is
reached (identity, limits, headers, the audit routes), and quick to build per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from settings import Settings
from tests.api.conftest import api, app, http  # noqa: F401 - the API tests' own fixtures
from tests.console.conftest import console  # noqa: F401 - the console tests' own fixture
from tests.fixtures_db import blank_store, db_kind, pg_server, pg_template, store  # noqa: F401

#: A secret production accepts (48 random-looking bytes), for tests that need one.
STRONG_SECRET = "q9Vt3xK0bF7mW2sL8pR5nZ1cH6jD4gY0aE3uI9oT7kQ2vB5x"


@pytest.fixture
def make_bare_app(tmp_path: Path) -> Callable[..., FastAPI]:
    def build(**overrides: object) -> FastAPI:
        values: dict[str, object] = {
            "database_url": f"sqlite:///{(tmp_path / 'bare.sqlite3').as_posix()}",
            "log_format": "console",
            "log_level": "WARNING",
            **overrides,
        }
        built = create_app(Settings.model_validate(values))
        built.state.services.store.migrate()
        return built

    return build


@pytest.fixture
async def bare_http(make_bare_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(make_bare_app()) as client:
        yield client


def client_of(application: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application)
    return httpx.AsyncClient(transport=transport, base_url="http://api.test")
