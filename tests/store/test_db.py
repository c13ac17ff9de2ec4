"""Engine, sessions and migrations (docs/rules.md §13: plain URLs, the service picks drivers)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from settings import Settings
from store.db import Store, alembic_config, normalize_url, register_tables
from tests.fixtures_db import PostgresServer

TABLES = {
    "audit_event",
    "declaration_read",
    "declaration_registry",
    "payment",
    "notification",
    "blacklist_entry",
    "calendar_year",
    "review_form",
    "certificate",
    "publicity",
}


@pytest.mark.parametrize(
    ("plain", "expected"),
    [
        ("sqlite:///var/reviewchain.sqlite3", "sqlite:///var/reviewchain.sqlite3"),
        ("sqlite:////srv/rc/db.sqlite3", "sqlite:////srv/rc/db.sqlite3"),
        ("sqlite://", "sqlite://"),
        ("postgresql://rc@db:5432/rc", "postgresql+psycopg://rc@db:5432/rc"),
        ("postgres://rc:secret@db/rc", "postgresql+psycopg://rc:secret@db/rc"),
        ("postgresql+psycopg://rc@db/rc", "postgresql+psycopg://rc@db/rc"),
        ("postgresql+psycopg2://rc@db/rc", "postgresql+psycopg://rc@db/rc"),
    ],
)
def test_plain_database_urls_get_the_services_drivers(plain: str, expected: str) -> None:
    assert normalize_url(plain) == expected


@pytest.mark.parametrize("url", ["mysql://rc@db/rc", "reviewchain.sqlite3", ""])
def test_unsupported_database_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        normalize_url(url)


def test_store_from_settings_uses_the_database_url(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'nested' / 'dir' / 'rc.sqlite3').as_posix()}"
    db = Store.from_settings(Settings(database_url=url))
    try:
        assert db.url == url
        assert (tmp_path / "nested" / "dir").is_dir(), "the SQLite parent directory is created"
    finally:
        db.dispose()


def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    db = Store(f"sqlite:///{(tmp_path / 'rc.sqlite3').as_posix()}")
    try:
        with db.session() as session:
            connection = session.connection()
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_migrating_twice_is_safe_and_creates_every_table(blank_store: Store) -> None:
    blank_store.migrate()
    blank_store.migrate()
    names = set(inspect(blank_store.engine).get_table_names())
    assert names >= TABLES
    with blank_store.session() as session:
        versions = session.connection().execute(text("SELECT version_num FROM alembic_version"))
        head = ScriptDirectory.from_config(alembic_config(blank_store.url)).get_current_head()
        assert list(versions.scalars()) == [head]


def test_the_migrations_create_exactly_the_table_classes(store: Store) -> None:
    register_tables()
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_worker_and_api_migrating_at_the_same_time_both_succeed(blank_store: Store) -> None:
    """Two processes start together and both call migrate(): the lock makes one wait."""
    other = Store(blank_store.url)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(db: Store) -> None:
        try:
            barrier.wait()
            db.migrate()
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(db,)) for db in (blank_store, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    other.dispose()
    assert errors == []
    assert set(inspect(blank_store.engine).get_table_names()) >= TABLES


def _backend_pid(db: Store) -> int:
    with db.session(readonly=True) as session:
        return int(session.connection().execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(db: Store, pid: int) -> None:
    admin = Store(db.url)
    try:
        with admin.session() as session:
            session.connection().execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


@pytest.mark.parametrize("pre_ping", [True, False], ids=["api (pre-ping)", "worker (no pre-ping)"])
def test_a_connection_the_server_closed_is_replaced(
    pg_server: PostgresServer, pre_ping: bool
) -> None:
    """PostgreSQL restarted under a running process. With ``pre_ping`` (the API) the pool tests
    a connection before lending it, so no caller meets the closed one; without it (the worker,
    whose activities retry) exactly one unit of work fails and the pool is refreshed for the
    next, as an activity's retry would be."""
    name = pg_server.create()
    db = Store(pg_server.url(name), pre_ping=pre_ping)
    try:
        closed = _backend_pid(db)
        _terminate(db, closed)
        if not pre_ping:
            with pytest.raises(DBAPIError) as raised:
                _backend_pid(db)
            assert raised.value.connection_invalidated
        assert _backend_pid(db) != closed
    finally:
        db.dispose()
        pg_server.drop(name)
