"""``cli.py orgs`` (tools/organisations.py): a registry file checked, imported into the store all
or nothing with every bad row named by its line, listed (docs/rules.md §11)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app as cli_app
from settings import Settings, get_settings
from store.audit import events_of
from store.db import Store
from store.organisations import REGISTRY_CHAIN, get_organisation

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "organisations"
AKSU = EXAMPLES / "001_aksu_2024.yaml"


@pytest.fixture
def cli_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    settings = Settings(database_url=f"sqlite:///{(tmp_path / 'orgs.sqlite3').as_posix()}")
    monkeypatch.setenv("REVIEWCHAIN_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def registered(settings: Settings, org_id: str) -> object:
    store = Store(settings.database_url)
    try:
        with store.session(readonly=True) as session:
            return get_organisation(session, org_id)
    finally:
        store.dispose()


def test_orgs_check_summarises_a_good_file_and_names_a_bad_row_by_its_line(
    cli_settings: Settings, tmp_path: Path
) -> None:
    ok = runner.invoke(cli_app, ["orgs", "check", str(AKSU)])
    assert ok.exit_code == 0, ok.output
    assert "10 organisations" in ok.output and "1 committee" in ok.output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,kind,name,parent_id\nA,authority,甲,\nU-1,unit,单位,B\nU-2,unit,单位二,A\n",
        encoding="utf-8",
    )
    refused = runner.invoke(cli_app, ["orgs", "check", str(bad)])
    assert refused.exit_code == 1
    assert "第 3 行 / line 3 U-1 (parent_id)" in refused.output and "U-2" not in refused.output


def test_orgs_import_is_all_or_nothing_then_lists_what_it_registered(
    cli_settings: Settings, tmp_path: Path
) -> None:
    """A bad row refuses the file (exit 1, nothing written); the example file imports whole, a
    repeat changes nothing, and ``orgs list`` reads it back by kind and parent."""
    bad = tmp_path / "bad.yaml"
    text = AKSU.read_text(encoding="utf-8").replace("parent_id: aks-akesu-hr", "parent_id: nowhere")
    bad.write_text(text, encoding="utf-8")
    refused = runner.invoke(cli_app, ["orgs", "import", str(bad)])
    assert refused.exit_code == 1 and "nothing imported" in refused.output
    assert "aks-akesu-highway-station (parent_id)" in refused.output
    assert registered(cli_settings, "aks-transport-bureau") is None

    dry = runner.invoke(cli_app, ["orgs", "import", str(AKSU), "--dry-run"])
    assert dry.exit_code == 0 and "would create 10" in dry.output
    assert registered(cli_settings, "aks-transport-bureau") is None
    first = runner.invoke(cli_app, ["orgs", "import", str(AKSU)])
    assert first.exit_code == 0 and "created 10, replaced 0, unchanged 0" in first.output
    again = runner.invoke(cli_app, ["orgs", "import", str(AKSU)])
    assert "created 0, replaced 0, unchanged 10" in again.output

    listed = runner.invoke(cli_app, ["orgs", "list", "--parent", "aks-transport-bureau"])
    assert listed.exit_code == 0
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == [
        "aks-akesu-hr",
        "aks-kuqa-hr",
    ]
    committee = runner.invoke(cli_app, ["orgs", "list", "--kind", "committee"])
    assert "aks-transport-committee" in committee.output and "members 25" in committee.output
    assert runner.invoke(cli_app, ["orgs", "list", "--kind", "shop"]).exit_code == 2
    store = Store(cli_settings.database_url)
    try:
        with store.session(readonly=True) as session:
            (event,) = events_of(session, REGISTRY_CHAIN)
            assert (event.actor_id, event.action) == ("cli", "import_organisations")
    finally:
        store.dispose()
