"""The store's engine, sessions and migrations.

``Store(url)`` accepts the plain URL forms of the contract (docs/rules.md §13): ``sqlite:///path``
and ``postgresql://user@host:port/db`` (also ``postgres://``), and picks the drivers itself
(pysqlite, psycopg 3).

SQLite runs in WAL mode with a busy timeout and foreign keys on, and every write transaction
starts with ``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of failing half-way
(a deferred transaction that reads first and writes later cannot wait for the lock). Sessions
opened with ``session(readonly=True)`` begin a plain deferred transaction and read concurrently.

On PostgreSQL, writers that must not interleave take a transaction-level advisory lock
(:func:`advisory_xact_lock`); on SQLite the immediate transaction already serialises them.
"""

from __future__ import annotations

import hashlib
import importlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from settings import DEV_SIGNING_KEY_FILE
from store.signing import Signer

if TYPE_CHECKING:
    from settings import Settings

#: Where a session carries the store's signer (``store.audit.heads`` reads it).
SIGNER_KEY = "audit_signer"

__all__ = [
    "MIGRATIONS_DIR",
    "TABLE_MODULES",
    "Store",
    "advisory_xact_lock",
    "alembic_config",
    "normalize_url",
    "register_tables",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: How long a SQLite writer waits for the lock before giving up (the activity then retries).
SQLITE_BUSY_TIMEOUT_MS = 10_000

_READONLY = "reviewchain_readonly"


def normalize_url(url: str) -> str:
    """The SQLAlchemy URL for a plain database URL: ``sqlite:///path`` stays on the standard
    library's pysqlite driver, ``postgresql://`` and ``postgres://`` use psycopg 3. A URL that
    already names one of those drivers is returned unchanged; anything else is refused."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    scheme = scheme.lower()
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return f"{scheme}://{rest}"
    if scheme in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        return f"postgresql+psycopg://{rest}"
    raise ValueError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///path or "
        "postgresql://user@host:port/db"
    )


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name`` (stable across processes and versions)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


_XACT_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def advisory_xact_lock(session: Session, *names: str) -> None:
    """Serialise writers on ``names`` until the transaction ends (PostgreSQL
    ``pg_advisory_xact_lock``; keys taken in sorted order so two writers never deadlock). A no-op
    on SQLite, whose write transactions start ``IMMEDIATE`` and so are serialised already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    connection = session.connection()
    for name in sorted(set(names)):
        connection.execute(_XACT_LOCK, {"key": _lock_key(name)})


#: Every module that defines table classes; alembic's env.py and the schema test import them.
TABLE_MODULES: tuple[str, ...] = (
    "store.tables",
    "store.campaigns",
    "store.meetings",
    "store.revocations",
    "store.audit.heads",
    "store.materials.tables",
    "store.organisations",
    "store.delivery.tables",
)


def register_tables() -> None:
    """Import every table module, so that ``SQLModel.metadata`` holds the whole schema."""
    for name in TABLE_MODULES:
        importlib.import_module(name)


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """An alembic configuration built in code (no alembic.ini needed): migrations in
    ``store/migrations``; ``connection``, when given, is the one env.py migrates on."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (see _sqlite_on_begin); pysqlite must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL once (it persists). SQLite answers "database is locked" at once,
    without its busy handler, when two connections switch at the same moment, so wait here."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(conn: Connection) -> None:
    readonly = conn.get_execution_options().get(_READONLY, False)
    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


class Store:
    """The database: one engine per process, sessions per unit of work, migrations on start."""

    def __init__(self, url: str, *, pre_ping: bool = True, signer: Signer | None = None) -> None:
        """``pre_ping`` tests every pooled PostgreSQL connection with a round trip before it is
        lent, so that a caller never meets one the server closed (the API: a request fails at
        most for its own reasons). Without it a closed connection fails the statement that
        meets it and the pool is refreshed; the worker passes ``False`` because its activities
        retry, and it saves a round trip in every activity.

        ``signer`` signs the audit chains' checkpoints written in this store's sessions (the
        service's key, :meth:`from_settings`); without one, the development key under ``var/``
        (:meth:`store.signing.Signer.development`)."""
        self.url = normalize_url(url)
        self.signer = signer or Signer.development(DEV_SIGNING_KEY_FILE)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {}
        if self.dialect == "postgresql":
            # Activities run in worker threads; leave room for them without starving the API.
            kwargs.update(pool_pre_ping=pre_ping, pool_size=10, max_overflow=20)
        if self.dialect == "sqlite":
            database = parsed.database or ""
            in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
            if not in_memory:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            }
            if in_memory:
                kwargs["poolclass"] = StaticPool
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
        self._readonly_engine = self.engine.execution_options(**{_READONLY: True})

    @classmethod
    def from_settings(cls, settings: Settings, *, pre_ping: bool = True) -> Store:
        return cls(settings.database_url, pre_ping=pre_ping, signer=Signer.from_settings(settings))

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        bind = self._readonly_engine if readonly else self.engine
        with Session(bind, expire_on_commit=False) as session, session.begin():
            session.info[SIGNER_KEY] = self.signer  # audit checkpoints are signed with it
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest migration (alembic ``upgrade head``).

        Safe when the worker and the API start together: the upgrade runs in one transaction
        that first takes an advisory lock on PostgreSQL (``BEGIN IMMEDIATE`` on SQLite), so the
        second process waits, then finds the schema current and does nothing.
        """
        self.upgrade("head")

    def upgrade(self, revision: str = "head") -> None:
        """alembic ``upgrade`` to ``revision``, under the lock :meth:`migrate` takes."""
        with self._migration_connection() as connection:
            command.upgrade(self._alembic(connection), revision)

    def downgrade(self, revision: str) -> None:
        """alembic ``downgrade`` to ``revision`` (``-1``: one step back), under the same lock."""
        with self._migration_connection() as connection:
            command.downgrade(self._alembic(connection), revision)

    def _alembic(self, connection: Connection) -> Any:
        config = alembic_config(self.url, connection)
        config.attributes[SIGNER_KEY] = self.signer  # migration 0006 signs existing chains
        return config

    @contextmanager
    def _migration_connection(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"),
                    {"key": _lock_key("reviewchain:migrate")},
                )
            yield connection

    def dispose(self) -> None:
        """Close every pooled connection (tests drop their database afterwards)."""
        self.engine.dispose()
