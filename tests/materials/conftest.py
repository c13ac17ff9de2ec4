"""Materials tests run on both object stores: a directory (``file:``) and a real S3-compatible
HTTP server started here (moto's server mode, on loopback), through the service's own boto3
client. The API around them is the one of tests/api (a Temporal test environment and a worker)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from settings import Settings
from tests.api.conftest import api, app, http  # noqa: F401 (fixtures)
from tests.console.conftest import console  # noqa: F401 (fixture)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["file", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The storage settings of one test: a fresh directory, or a fresh bucket."""
    spool = str(tmp_path / "spool")
    if request.param == "file":
        return {"storage_url": f"file:{tmp_path / 'materials'}", "upload_spool_dir": spool}
    endpoint = request.getfixturevalue("s3_endpoint")
    return {
        "storage_url": f"s3://materials-{uuid.uuid4().hex[:12]}",
        "s3_endpoint": endpoint,
        "s3_access_key": "testing",
        "s3_secret_key": "testing",
        "upload_spool_dir": spool,
    }


@pytest.fixture
def settings(tmp_path: Path, storage: dict[str, str]) -> Settings:
    return Settings.model_validate(
        {
            "database_url": f"sqlite:///{(tmp_path / 'store.sqlite3').as_posix()}",
            "task_queue": f"review-chain-test-{uuid.uuid4().hex[:8]}",
            "log_format": "console",
            "log_level": "WARNING",
            **storage,
        }
    )
