"""``db``: the store's schema migrations, for operators, on the database of the service's settings
(``REVIEWCHAIN_DATABASE_URL``).

    python cli.py db current              # where the database stands; what upgrade would apply
    python cli.py db upgrade [REVISION]   # to the newest migration (head) or to REVISION
    python cli.py db downgrade [REVISION] # one migration back (-1), or back to REVISION
    python cli.py db check                # exit 1 unless at head with tables matching the models

The worker and the API upgrade the schema themselves when they start; these commands are for
doing it beforehand, checking it in a deployment pipeline, and rolling a release back. They
take the same lock as the services' own migration, so they never run two at once. ``alembic``
itself works too, from the project's root (``alembic.ini``).

Exit status: 0 done (or in order), 1 not in order (``check``) or refused, 2 wrong usage.
"""

from __future__ import annotations

from typing import Annotated

import typer
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from settings import get_settings
from store.db import Store
from store.roles import grant_service_role
from store.schema import SchemaStatus, migrations, schema_status

__all__ = ["db_app"]

db_app = typer.Typer(
    help="The store's schema migrations: current, upgrade, downgrade, check.",
    no_args_is_help=True,
)


def _open() -> Store:
    return Store.from_settings(get_settings())


def _where(store: Store) -> str:
    return make_url(store.url).render_as_string(hide_password=True)


def _revisions(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) if revisions else "(none)"


def _report(store: Store, status: SchemaStatus) -> None:
    typer.echo(f"database: {_where(store)}")
    head = " (head)" if status.at_head else ""
    empty = "" if status.current else ": no migration applied yet"
    typer.echo(f"current:  {_revisions(status.current)}{head}{empty}")
    if status.unknown:
        typer.echo(
            f"unknown:  {', '.join(status.unknown)}: not among this version's migrations "
            "(a newer version of the service migrated this database)"
        )
    elif not status.at_head:
        typer.echo(f"head:     {', '.join(status.heads)}")
        typer.echo(f"pending:  {len(status.pending)} (python cli.py db upgrade applies them)")
        for step in status.pending:
            typer.echo(f"  {step.revision}  {step.title}")


@db_app.command("current")
def current() -> None:
    """Show the revision the database is at, and the migrations it lacks."""
    store = _open()
    try:
        _report(store, schema_status(store))
    finally:
        store.dispose()


@db_app.command("upgrade")
def upgrade(
    revision: Annotated[
        str, typer.Argument(help="Where to go: head (the newest) or a revision id.")
    ] = "head",
) -> None:
    """Apply the migrations up to REVISION (head: all of them)."""
    store = _open()
    try:
        before = schema_status(store).current
        try:
            store.upgrade(revision)
        except CommandError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        after = schema_status(store)
    finally:
        store.dispose()
    if before == after.current:
        typer.echo(f"nothing to do: {_where(store)} is at {_revisions(after.current)}")
    else:
        typer.echo(
            f"upgraded {_where(store)}: {_revisions(before)} → {_revisions(after.current)}"
            f"{' (head)' if after.at_head else ''}"
        )


@db_app.command(
    "downgrade",
    context_settings={"ignore_unknown_options": True},  # -1 is a revision here
)
def downgrade(
    revision: Annotated[
        str,
        typer.Argument(help="Where to go back to: -1 (one step), -N, a revision id, or base."),
    ] = "-1",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Undo migrations back to REVISION (by default the newest one). What a migration created
    is dropped with its data: going back to base drops every table, the audit trail too."""
    store = _open()
    try:
        before = schema_status(store)
        undone = _to_undo(store, before, revision)
        if not undone:
            typer.echo(f"nothing to undo: {_where(store)} is at {_revisions(before.current)}")
            return
        typer.echo(f"database: {_where(store)}")
        typer.echo(f"undoing {len(undone)} migration(s):")
        for step in undone:
            typer.echo(f"  {step}")
        if not yes:
            typer.confirm("Go ahead?", abort=True)
        try:
            store.downgrade(revision)
        except CommandError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        after = schema_status(store)
    finally:
        store.dispose()
    typer.echo(f"downgraded: {_revisions(before.current)} → {_revisions(after.current)}")


def _to_undo(store: Store, status: SchemaStatus, target: str) -> list[str]:
    """The migrations a downgrade to ``target`` undoes, newest first (for the confirmation)."""
    applied = migrations(store)
    if not status.current:
        return []
    position = {m.revision: i for i, m in enumerate(applied)}
    top = max((position[r] for r in status.current if r in position), default=-1)
    if target == "base":
        keep = -1
    elif target.startswith("-") and target[1:].isdigit():
        keep = top - int(target[1:])
    elif target in position:
        keep = position[target]
    else:
        typer.echo(f"error: no migration {target!r}", err=True)
        raise typer.Exit(1)
    if keep < -1:
        typer.echo(f"error: {target} goes back past the first migration", err=True)
        raise typer.Exit(1)
    return [f"{m.revision}  {m.title}" for m in reversed(applied[keep + 1 : top + 1])]


@db_app.command("check")
def check() -> None:
    """Exit 0 when the database is at the newest migration and its tables match the models;
    1, saying why, when it is behind, ahead, or differs (a migration is missing or the tables
    were changed by hand)."""
    store = _open()
    try:
        status = schema_status(store)
    finally:
        store.dispose()
    if status.ok:
        typer.echo(
            f"ok: {_where(store)} is at head ({', '.join(status.heads)}) and its tables match "
            "the models"
        )
        return
    _report(store, status)
    if status.differences:
        typer.echo(f"the tables differ from the models ({len(status.differences)}):")
        for line in status.differences:
            typer.echo(f"  {line}")
    raise typer.Exit(1)


@db_app.command("migrate")
def migrate(
    service_role: Annotated[
        str,
        typer.Option(
            "--service-role",
            help="PostgreSQL: then give this role the service's rights (store/roles.py).",
        ),
    ] = "",
) -> None:
    """Bring the schema to the newest migration, as the role REVIEWCHAIN_DATABASE_URL names
    (the owner), and grant the service's role what it may do."""
    store = Store.from_settings(get_settings())
    try:
        store.migrate()
        if service_role:
            with store.engine.begin() as connection:
                grant_service_role(connection, service_role)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    finally:
        store.dispose()
    typer.echo("migrated" + (f"; {service_role} has the service's rights" if service_role else ""))
