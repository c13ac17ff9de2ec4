"""Where a database's schema stands against the migrations and the models, for operators
(``python cli.py db current|check``; ``alembic current|check`` says the same from
``alembic.ini``).

- ``current``: the revisions recorded in the database (``alembic_version``), none for an empty one;
- ``heads``: the newest revisions of ``store/migrations``;
- ``pending``: the migrations ``upgrade head`` would apply, oldest first;
- ``unknown``: revisions in the database that these migrations do not have (the database was
  migrated by a newer version of the service);
- ``differences``: once at head, every way the tables differ from the models (alembic's
  autogenerate comparison): a migration is missing, or someone changed the tables by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlmodel import SQLModel

from store.db import Store, alembic_config, register_tables

__all__ = ["Migration", "SchemaStatus", "describe_difference", "migrations", "schema_status"]


@dataclass(frozen=True)
class Migration:
    revision: str
    title: str


@dataclass(frozen=True)
class SchemaStatus:
    current: tuple[str, ...]
    heads: tuple[str, ...]
    pending: tuple[Migration, ...]
    unknown: tuple[str, ...]
    differences: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.heads)

    @property
    def ok(self) -> bool:
        """At the newest migration, and the tables are exactly what the models describe."""
        return self.at_head and not self.differences


def _scripts(url: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(url))


def _title(doc: str | None) -> str:
    """The migration's first paragraph, on one line."""
    paragraph = (doc or "").strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def migrations(store: Store) -> list[Migration]:
    """Every migration, oldest first."""
    scripts = _scripts(store.url)
    found = [Migration(s.revision, _title(s.doc)) for s in scripts.walk_revisions()]
    return list(reversed(found))


def schema_status(store: Store) -> SchemaStatus:
    """Compare the database with the migrations and, when it is at head, with the models."""
    register_tables()
    scripts = _scripts(store.url)
    heads = tuple(scripts.get_heads())
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": SQLModel.metadata}
        )
        current = tuple(context.get_current_heads())
        known, unknown = [], []
        for revision in current:
            try:
                scripts.get_revision(revision)
            except CommandError:
                unknown.append(revision)
            else:
                known.append(revision)
        pending: list[Migration] = []
        if not unknown:
            steps = scripts.iterate_revisions("heads", tuple(known) or "base")
            pending = [Migration(s.revision, _title(s.doc)) for s in steps]
            pending.reverse()
        differences: list[str] = []
        if set(current) == set(heads):
            differences = [
                describe_difference(d) for d in compare_metadata(context, SQLModel.metadata)
            ]
    return SchemaStatus(current, heads, tuple(pending), tuple(unknown), tuple(differences))


def describe_difference(diff: Any) -> str:
    """One line for an entry of alembic's comparison (a tuple, or a list of column changes)."""
    if isinstance(diff, list):
        return "; ".join(describe_difference(d) for d in diff)
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        return f"table {diff[1].name}: {_side(kind)}"
    if kind in ("add_column", "remove_column"):
        return f"column {diff[2]}.{diff[3].name}: {_side(kind)}"
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        item = diff[1]
        what = "index" if kind.endswith("index") else "constraint"
        columns = ", ".join(c.name for c in getattr(item, "columns", []))
        return f"{what} {item.name or '(unnamed)'} on {item.table.name} ({columns}): {_side(kind)}"
    if kind in ("add_fk", "remove_fk"):
        fk = diff[1]
        columns = ", ".join(c.name for c in fk.columns)
        return (
            f"foreign key on {fk.table.name} ({columns}) → {fk.referred_table.name}: {_side(kind)}"
        )
    if kind.startswith("modify_"):
        _, _schema, table, column, _kw, before, after = diff
        what = kind.removeprefix("modify_")
        return f"column {table}.{column}: {what} is {before!r} in the database, {after!r} in the models"
    return repr(diff)


def _side(kind: str) -> str:
    if kind.startswith("add"):
        return "in the models, missing from the database"
    return "in the database, not in the models"
