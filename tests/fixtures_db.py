"""Reusable store fixtures: every test that takes ``store`` runs on SQLite *and* PostgreSQL.

Import them into a ``conftest.py``::

    from tests.fixtures_db import blank_store, db_kind, pg_server, pg_template, store  # noqa: F401

- ``db_kind``: ``"sqlite"`` or ``"postgresql"`` (parametrises every test that uses a store);
- ``store``: a migrated :class:`store.db.Store` on a fresh database (a SQLite file under the
  test's ``tmp_path``, or a PostgreSQL database cloned from a migrated template);
- ``blank_store``: the same on an empty, unmigrated database (for migration tests).

PostgreSQL: the server named by ``REVIEWCHAIN_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``, a role allowed to create databases). The test
session creates ``reviewchain_test_<random>_*`` databases and drops them all at the end; when the
server cannot be reached, the PostgreSQL half of every store test is skipped with the reason.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from store.db import Store, normalize_url

__all__ = ["blank_store", "db_kind", "pg_server", "pg_template", "store"]

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class PostgresServer:
    """Creates and drops uniquely named databases on a local PostgreSQL server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"reviewchain_test_{uuid.uuid4().hex[:10]}"
        self._counter = itertools.count(1)
        self._admin: Engine = create_engine(
            normalize_url(admin_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )

    def ping(self) -> None:
        with self._admin.connect() as connection:
            connection.execute(text("SELECT 1"))

    def url(self, database: str) -> str:
        """The plain ``postgresql://`` URL of ``database`` (the form Settings accepts)."""
        return make_url(self.admin_url).set(database=database).render_as_string(False)

    def create(self, *, template: str | None = None, name: str | None = None) -> str:
        name = name or f"{self.prefix}_{next(self._counter)}"
        clause = f" TEMPLATE {template}" if template else ""
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return name

    def drop(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def drop_leftovers(self) -> None:
        with self._admin.connect() as connection:
            names = connection.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                {"prefix": f"{self.prefix}%"},
            ).scalars()
            for name in list(names):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    url = os.environ.get("REVIEWCHAIN_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    server = PostgresServer(url)
    try:
        server.ping()
    except Exception as err:  # any connection failure means: no server here
        pytest.skip(f"PostgreSQL not reachable at {url} ({type(err).__name__}: {err})")
    try:
        yield server
    finally:
        server.drop_leftovers()


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    """A migrated database that each test's database is cloned from (fast and isolated)."""
    name = pg_server.create(name=f"{pg_server.prefix}_template")
    template = Store(pg_server.url(name))
    try:
        template.migrate()
    finally:
        template.dispose()
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _open(
    request: pytest.FixtureRequest, db_kind: str, tmp_path: Path, *, migrated: bool
) -> Iterator[Store]:
    if db_kind == "sqlite":
        db = Store(f"sqlite:///{(tmp_path / 'db' / 'reviewchain.sqlite3').as_posix()}")
        if migrated:
            db.migrate()
        yield db
        db.dispose()
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template") if migrated else None
    name = server.create(template=template)
    db = Store(server.url(name))
    try:
        yield db
    finally:
        db.dispose()
        server.drop(name)


@pytest.fixture
def store(request: pytest.FixtureRequest, db_kind: str, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on a fresh database, once per engine."""
    yield from _open(request, db_kind, tmp_path, migrated=True)


@pytest.fixture
def blank_store(request: pytest.FixtureRequest, db_kind: str, tmp_path: Path) -> Iterator[Store]:
    """A store on a fresh, empty database (no migration run yet), once per engine."""
    yield from _open(request, db_kind, tmp_path, migrated=False)
