"""Engine, sessions and migrations (api.md §1: plain database URLs, the service picks drivers)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from settings import Settings
from store.db import Store, alembic_config, normalize_url, register_tables

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
