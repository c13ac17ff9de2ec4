"""Long fuzzing run of the HTTP API with schemathesis (docs/reliability.md, "Fuzzing").

The same engine as tests/reliability/test_fuzz.py (testing/reliability/fuzzing.py) with many more
examples: the app in this process around a time-skipping Temporal test server and a worker, a
fresh store (a SQLite file, or a new PostgreSQL database with ``--database-url``, where NUL bytes
and 64-bit limits bite differently), a seeded campaign and declarations, every operation valid
and invalid, every role's token or none. Prints the figures and every finding (a check of
testing/reliability/conformance.py failed: a server error or unhandled exception, an undocumented
status, a schema-valid request refused as malformed, ...) with a curl command; exits 1 when
there is one.

    python bench/reliability_fuzz.py                       # 200 examples per operation and mode
    python bench/reliability_fuzz.py --examples 1000 --database-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from settings import Settings
from store.db import normalize_url
from testing.api import Api, register
from testing.reliability.fuzzing import fuzz, seed, sender
from testing.reliability.processes import BIN
from worker import build_worker


@contextlib.contextmanager
def database(url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh SQLite file, or a new database on the PostgreSQL server ``url`` names."""
    if not url or url.startswith("sqlite"):
        yield f"sqlite:///{(workdir / 'store.sqlite3').as_posix()}"
        return
    name = f"reviewchain_fuzz_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation and mode")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=None, help="derandomize with this seed")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="reviewchain-fuzz-"))
    try:
        with database(args.database_url, workdir) as url:
            settings = Settings(database_url=url, task_queue=f"fuzz-{uuid.uuid4().hex[:8]}",
                                log_format="json", log_level="ERROR")  # fmt: skip
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=pydantic_data_converter,
                test_server_existing_path=str(BIN / "temporal-test-server"),
            )
            async with env, build_worker(env.client, settings):
                app = create_app(settings, temporal_client=env.client)
                register(app.state.services.store)  # the bodies the seeded campaign names

                async def clock() -> datetime:
                    return await env.get_current_time()

                app.state.services.clock = clock
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as h:
                    api = Api(h, settings, env)
                    seeds = await seed(api)
                    report = await asyncio.to_thread(
                        fuzz, app.openapi(), sender(h, asyncio.get_running_loop()), settings,
                        seeds, max_examples=args.examples, seed=args.seed,
                    )  # fmt: skip
            print(f"store: {'PostgreSQL' if url.startswith('postgres') else 'SQLite'}")
            print("\n".join(report.lines()))
            return 1 if report.findings else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
