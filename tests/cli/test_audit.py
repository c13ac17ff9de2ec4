"""The auditor's command line (``cli.py audit …``): verify, export and dossier against the store
that ``REVIEWCHAIN_DATABASE_URL`` names, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from settings import get_settings
from store.audit import append_events
from store.db import Store
from store.dossier_verify import main as verify_dossier_file
from store.export import EXPORT_COLUMNS
from store.readmodel import upsert_view
from store.tables import AuditEvent
from testing.builders import CAMPAIGN_ID, declaration_id, trail, view

runner = CliRunner()


@pytest.fixture
def declarations(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Two declarations of 3 events each in the store the CLI's settings point at."""
    monkeypatch.setenv("REVIEWCHAIN_DATABASE_URL", store.url)
    get_settings.cache_clear()
    ids = sorted([declaration_id(), declaration_id()])
    with store.session() as session:
        for d in ids:
            append_events(session, trail(d, 3))
            upsert_view(session, view(d, version=3))
    yield ids
    get_settings.cache_clear()


def _break(store: Store, db_kind: str, d: str, seq: int) -> None:
    """Alter one event as a superuser could (triggers bypassed)."""
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    with store.engine.begin() as connection:
        if db_kind == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        connection.execute(
            sa.update(table)
            .where(table.c.declaration_id == d, table.c.seq == seq)
            .values(opinion="篡改")
        )


def test_verify_a_declaration(declarations: list[str]) -> None:
    result = runner.invoke(app, ["audit", "verify", "--declaration", declarations[0]])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"ok: 3 events of declaration {declarations[0]}; every hash and link holds\n"
    )


@pytest.mark.parametrize("progress", ["--progress", "--no-progress"])
def test_verify_a_campaign_with_or_without_a_progress_bar(
    declarations: list[str], progress: str
) -> None:
    result = runner.invoke(app, ["audit", "verify", "--campaign", CAMPAIGN_ID, progress])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"ok: 6 events in 2 chains of campaign {CAMPAIGN_ID}; every hash and link holds\n"
    )


def test_a_broken_chain_names_the_declaration_and_seq_and_exits_1(
    store: Store, db_kind: str, declarations: list[str]
) -> None:
    _break(store, db_kind, declarations[1], 2)
    result = runner.invoke(app, ["audit", "verify", "-c", CAMPAIGN_ID, "--no-progress"])
    assert result.exit_code == 1
    assert result.stdout == (
        f"BROKEN: declaration {declarations[1]}, first bad seq 2: event 2 altered: its hash "
        "does not match its content (4 events verified before it)\n"
    )
    as_json = runner.invoke(app, ["audit", "verify", "-d", declarations[1], "--json"])
    assert as_json.exit_code == 1
    reported = json.loads(as_json.stdout)
    assert {name: reported[name] for name in ("ok", "checked", "first_bad_seq")} == {
        "ok": False,
        "checked": 1,
        "first_bad_seq": 2,
    }
    assert reported["first_bad_declaration_id"] == declarations[1]
    assert reported["problem"] == "event 2 altered: its hash does not match its content"


def test_verifying_nothing_is_not_a_success(declarations: list[str]) -> None:
    result = runner.invoke(app, ["audit", "verify", "--declaration", "D-typo"])
    assert result.exit_code == 1
    assert result.stdout == "nothing to verify: no audit event of declaration D-typo\n"


@pytest.mark.parametrize("scope", [[], ["-d", "D-1", "-c", "C-1"]])
def test_verify_wants_exactly_one_scope(declarations: list[str], scope: list[str]) -> None:
    result = runner.invoke(app, ["audit", "verify", *scope])
    assert result.exit_code == 2
    assert "exactly one of --declaration and --campaign" in result.output


def test_export_a_campaign_as_csv_to_a_file(declarations: list[str], tmp_path: Path) -> None:
    out = tmp_path / "trail.csv"
    result = runner.invoke(
        app, ["audit", "export", "--campaign", CAMPAIGN_ID, "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert [(r[0], r[1]) for r in rows[1:]] == [
        (d, str(s)) for d in declarations for s in (1, 2, 3)
    ]


def test_export_a_declaration_as_jsonl_to_stdout(declarations: list[str]) -> None:
    result = runner.invoke(app, ["audit", "export", "-d", declarations[0], "-f", "jsonl"])
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in io.StringIO(result.stdout)]
    assert [(o["declaration_id"], o["seq"]) for o in objects] == [
        (declarations[0], s) for s in (1, 2, 3)
    ]
    assert objects[1]["opinion"] == "意见 2"


def test_the_dossier_written_by_the_cli_verifies_offline(
    declarations: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dossier.json"
    result = runner.invoke(
        app, ["audit", "dossier", "--declaration", declarations[0], "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["declaration_id"] == declarations[0]
    key = document["signature"]["public_key"]
    assert verify_dossier_file([str(out), "--public-key", key]) == 0
    head, key_id = document["proof"]["head_hash"], document["signature"]["key_id"]
    assert capsys.readouterr().out == f"ok: 3 events, head {head}, signed by key {key_id}\n"


def test_a_dossier_of_an_unknown_declaration_exits_1(declarations: list[str]) -> None:
    result = runner.invoke(app, ["audit", "dossier", "--declaration", "D-typo"])
    assert result.exit_code == 1
    assert "no audit event and no view of declaration D-typo" in result.stderr
