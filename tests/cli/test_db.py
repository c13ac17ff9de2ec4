"""The operator's schema commands (``cli.py db current|upgrade|downgrade|check``) and alembic by
hand (``alembic.ini`` at the root), on the database ``REVIEWCHAIN_DATABASE_URL`` names, on SQLite
and PostgreSQL: an empty database goes to head, back one step, back to nothing and up again;
``check`` fails whenever the database is not at head or its tables differ from the models."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from cli import app
from settings import get_settings
from store.db import Store
from store.schema import migrations, schema_status

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


Use = Callable[[Store], None]


@pytest.fixture
def use(monkeypatch: pytest.MonkeyPatch) -> Iterator[Use]:
    """Point the CLI's settings at a store."""

    def point(store: Store) -> None:
        monkeypatch.setenv("REVIEWCHAIN_DATABASE_URL", store.url)
        get_settings.cache_clear()

    yield point
    get_settings.cache_clear()


def db(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["db", *args], input=input)
    return result.exit_code, result.output


def revisions(store: Store) -> list[str]:
    return [m.revision for m in migrations(store)]


def test_an_empty_database_goes_to_head_back_and_up_again(blank_store: Store, use: Use) -> None:
    use(blank_store)
    steps = revisions(blank_store)
    head, previous = steps[-1], steps[-2]

    code, out = db("current")
    assert code == 0 and "current:  (none)" in out and f"pending:  {len(steps)}" in out
    assert all(step in out for step in steps)
    code, out = db("check")
    assert code == 1 and f"head:     {head}" in out

    code, out = db("upgrade")
    assert code == 0 and f"→ {head} (head)" in out
    assert schema_status(blank_store).current == (head,)
    code, out = db("check")
    assert code == 0 and out.startswith("ok: ") and "tables match the models" in out
    code, out = db("upgrade")
    assert code == 0 and out.startswith("nothing to do:") and head in out

    code, out = db("downgrade", input="n\n")
    assert code == 1 and "Aborted" in out and schema_status(blank_store).current == (head,)
    code, out = db("downgrade", input="y\n")
    assert code == 0 and f"downgraded: {head} → {previous}" in out
    assert schema_status(blank_store).current == (previous,)
    code, out = db("check")
    assert code == 1 and "pending:  1" in out and head in out

    code, out = db("downgrade", "base", "--yes")
    assert code == 0 and f"undoing {len(steps) - 1} migration(s)" in out
    assert set(inspect(blank_store.engine).get_table_names()) <= {"alembic_version"}
    assert schema_status(blank_store).current == ()
    code, out = db("upgrade")
    assert code == 0 and db("check")[0] == 0


def test_upgrade_and_downgrade_to_a_named_revision(blank_store: Store, use: Use) -> None:
    use(blank_store)
    steps = revisions(blank_store)
    code, out = db("upgrade", steps[1])
    assert code == 0 and schema_status(blank_store).current == (steps[1],)
    assert db("upgrade")[0] == 0
    code, out = db("downgrade", steps[0], "--yes")
    assert code == 0 and schema_status(blank_store).current == (steps[0],)
    assert f"undoing {len(steps) - 1} migration(s)" in out
    code, out = db("downgrade", "no_such_revision", "--yes")
    assert code == 1 and "no migration 'no_such_revision'" in out
    code, out = db("upgrade", "no_such_revision")
    assert code == 1 and "no_such_revision" in out
    assert schema_status(blank_store).current == (steps[0],)


def test_check_names_tables_changed_by_hand(store: Store, use: Use) -> None:
    """At head, yet the tables differ from the models: a column added by hand, an index
    dropped. ``check`` fails and names both."""
    use(store)
    assert db("check")[0] == 0
    with store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE calendar_year ADD COLUMN note VARCHAR(20)"))
        connection.execute(text("DROP INDEX ix_declaration_read_updated_at"))
    code, out = db("check")
    assert code == 1, out
    assert "the tables differ from the models (2):" in out
    assert "column calendar_year.note: in the database, not in the models" in out
    assert (
        "index ix_declaration_read_updated_at on declaration_read (updated_at): "
        "in the models, missing from the database"
    ) in out


def test_check_refuses_a_database_a_newer_version_migrated(store: Store, use: Use) -> None:
    use(store)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999_future'"))
    code, out = db("check")
    assert code == 1 and "unknown:  0999_future" in out and "newer version" in out
    assert db("current")[0] == 0


@pytest.mark.slow
def test_alembic_by_hand_from_the_root(blank_store: Store) -> None:
    """``alembic upgrade head``, ``current``, ``downgrade -1`` work from the project's root with
    ``alembic.ini``, on the database of ``REVIEWCHAIN_DATABASE_URL``; ``check`` fails until the
    database is back at head."""
    steps = revisions(blank_store)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REVIEWCHAIN_")},
        "REVIEWCHAIN_DATABASE_URL": blank_store.url,
        "REVIEWCHAIN_LOG_FORMAT": "json",
    }

    def alembic(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "alembic", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = alembic("upgrade", "head")
    assert done.returncode == 0, done.stderr
    assert f"Running upgrade {steps[-2]} -> {steps[-1]}" in done.stderr
    assert schema_status(blank_store).current == (steps[-1],)
    done = alembic("current")
    assert done.returncode == 0 and f"{steps[-1]} (head)" in done.stdout, done.stderr
    done = alembic("downgrade", "-1")
    assert done.returncode == 0, done.stderr
    assert schema_status(blank_store).current == (steps[-2],)
    done = alembic("check")
    assert done.returncode != 0 and "not up to date" in done.stderr
