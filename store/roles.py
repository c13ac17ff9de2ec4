"""Database roles on PostgreSQL: an **owner** that runs the migrations and owns every table and
trigger, and the **service** role the API and the workers connect as, which does not.

A table's owner (and a superuser) can drop its triggers, disable them or alter the table; nobody
else can. So the append-only triggers of ``audit_event`` and ``audit_head`` only bind the
service if the service does not own those tables and is no superuser. Its grants
(:func:`grant_service_role`, which ``python cli.py db migrate --service-role NAME`` runs after
the migrations, as the owner):

* every table: SELECT, INSERT, UPDATE, DELETE (the read model, ledgers, outbox …);
* ``audit_event``: SELECT and INSERT only (no UPDATE, DELETE, TRUNCATE);
* ``audit_head``: SELECT, INSERT and UPDATE (a checkpoint moves forward; the trigger refuses
  anything else), no DELETE or TRUNCATE;
* ``alembic_version``: SELECT only (the service checks the schema is current at start);
* sequences: USAGE, SELECT. Never TRIGGER, REFERENCES or any right on the schema beyond USAGE.

``deploy/postgres-init.sh`` creates both roles and the database (owned by the owner) when the
PostgreSQL container is first initialised.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

__all__ = ["grant_service_role", "service_grants"]

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def service_grants(role: str) -> list[str]:
    """The statements that give ``role`` exactly the service's rights (idempotent)."""
    if not _NAME.match(role):
        raise ValueError(f"not a plain role name: {role!r} (lower case letters, digits, _)")
    r = f'"{role}"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"REVOKE UPDATE, DELETE ON audit_event FROM {r}",
        f"REVOKE DELETE ON audit_head FROM {r}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
    ]


def grant_service_role(connection: Connection, role: str) -> None:
    """Give ``role`` the service's rights on the current schema (run as the owner, after the
    migrations; PostgreSQL only)."""
    if connection.dialect.name != "postgresql":
        raise ValueError("database roles are a PostgreSQL matter; SQLite has none")
    for statement in service_grants(role):
        connection.execute(text(statement))
