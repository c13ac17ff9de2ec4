"""Alembic environment: ``target_metadata = SQLModel.metadata`` with every table module of
``store.db.TABLE_MODULES`` imported.

``Store.migrate()`` (and ``upgrade``, ``downgrade``) pass their own connection, inside a locked
transaction, through ``config.attributes["connection"]``. Run by hand from the project's root
(``alembic upgrade head``, ``alembic current``, ``alembic downgrade -1``, ``alembic check``, with
``alembic.ini``), alembic connects to the database of the service's settings
(``REVIEWCHAIN_DATABASE_URL``), unless the configuration names one (``sqlalchemy.url``), through
``store.db.Store``, so the same driver choice and SQLite settings apply.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

from store.db import normalize_url, register_tables

register_tables()
config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    configured = config.get_main_option("sqlalchemy.url")
    if configured:
        return configured
    from settings import Settings

    return normalize_url(Settings().database_url)


if config.config_file_name is not None and "connection" not in config.attributes:
    # alembic's own command line: its progress lines as the service's log events.
    from settings import Settings
    from settings.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from store.db import Store

    db = Store(_url())
    try:
        with db.engine.begin() as connection:
            _run(connection)
    finally:
        db.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
