"""Alembic environment: ``target_metadata = SQLModel.metadata`` with every table module of
``store.db.TABLE_MODULES`` imported.

``Store.migrate()`` passes its own connection (inside a locked transaction) through
``config.attributes["connection"]``; run from the command line, alembic connects with the URL in
the configuration (``sqlalchemy.url``) through ``store.db.Store``, so the same driver choice and
SQLite settings apply.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

from store.db import register_tables

register_tables()
config = context.config
target_metadata = SQLModel.metadata


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
        url=config.get_main_option("sqlalchemy.url"),
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

    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url (or use store.db.Store(url).migrate())")
    db = Store(url)
    try:
        with db.engine.begin() as connection:
            _run(connection)
    finally:
        db.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
