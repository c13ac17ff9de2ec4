"""§8 "export a declaration's or a campaign's full trail": CSV and JSON lines, streamed, with
the columns of docs/rules.md §18 in that order, from which every hash can be recomputed."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from store import export as export_module
from store.audit import append_events, canonical_bytes, events_of
from store.db import Store
from store.export import EXPORT_COLUMNS, export_csv, export_jsonl, export_trail
from testing.builders import CAMPAIGN_ID, declaration_id, event, trail


def test_the_columns_are_api_md_audit_store_columns_in_order() -> None:
    assert EXPORT_COLUMNS == (
        "declaration_id", "seq", "at", "actor_id", "actor_role", "actor_org", "action",
        "stage_before", "stage_after", "outcome", "opinion", "reasons", "detail", "prev_hash",
        "hash",
    )  # fmt: skip


@pytest.fixture
def two_chains(store: Store) -> list[str]:
    """Two declarations of the campaign (3 and 2 events) and one of another campaign."""
    first, second = sorted([declaration_id(), declaration_id()])
    other = event(declaration_id(), 1, trail(first, 1)[0].at).model_copy(
        update={"campaign_id": "another-campaign"}
    )
    with store.session() as session:
        append_events(session, [*trail(second, 2), *trail(first, 3), other])
    return [first, second]


def _recomputed(row: dict[str, object]) -> str:
    """An auditor's recomputation from one exported row (plus the campaign exported)."""
    return hashlib.sha256(canonical_bytes({**row, "campaign_id": CAMPAIGN_ID})).hexdigest()


def test_csv_holds_the_campaign_in_declaration_then_seq_order(
    store: Store, two_chains: list[str]
) -> None:
    first, second = two_chains
    text = "".join(export_csv(store, campaign_id=CAMPAIGN_ID))
    assert text.startswith(",".join(EXPORT_COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(r["declaration_id"], r["seq"]) for r in rows] == [
        (first, "1"), (first, "2"), (first, "3"), (second, "1"), (second, "2"),
    ]  # fmt: skip
    with store.session(readonly=True) as session:
        stored = events_of(session, first)
    one = rows[1]
    assert one["at"] == "2024-09-01T17:00:00.000000Z"  # Monday 01:00 Beijing time
    assert (one["stage_before"], one["stage_after"], one["opinion"]) == ("draft", "draft", "意见 2")
    assert one["reasons"] == stored[1].reasons == '["missing_material"]'
    assert one["detail"] == stored[1].detail
    assert rows[0]["stage_before"] == ""  # null
    assert one["prev_hash"] == stored[0].hash and one["hash"] == stored[1].hash
    for row in rows:
        assert (
            _recomputed(
                {**row, "seq": int(row["seq"]), "stage_before": row["stage_before"] or None}
            )
            == row["hash"]
        )


def test_jsonl_holds_one_object_per_event_with_json_values(
    store: Store, two_chains: list[str]
) -> None:
    first, _ = two_chains
    lines = "".join(export_jsonl(store, declaration_id=first)).splitlines()
    assert len(lines) == 3
    objects = [json.loads(line) for line in lines]
    assert [list(o) for o in objects] == [list(EXPORT_COLUMNS)] * 3
    assert objects[2]["reasons"] == ["missing_material"]
    assert objects[2]["detail"]["名称"] == "审核"
    assert "审核" in lines[2]  # non-ASCII as is, not \\u escapes
    assert objects[0]["stage_before"] is None
    assert all(_recomputed(o) == o["hash"] for o in objects)


def test_the_export_streams_in_chunks(
    store: Store, two_chains: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "BATCH", 2)
    chunks = list(export_trail(store, format="csv", campaign_id=CAMPAIGN_ID))
    assert len(chunks) == 3 and all(isinstance(c, str) for c in chunks)
    assert "".join(chunks).count("\r\n") == 6  # header + 5 events
    lines = list(export_trail(store, format="jsonl", campaign_id=CAMPAIGN_ID))
    assert [c.count("\n") for c in lines] == [2, 2, 1]


def test_an_unknown_campaign_exports_only_the_header(store: Store) -> None:
    assert "".join(export_csv(store, campaign_id="nobody")) == ",".join(EXPORT_COLUMNS) + "\r\n"
    assert "".join(export_jsonl(store, campaign_id="nobody")) == ""


def test_an_export_names_exactly_one_scope_and_a_known_format(store: Store) -> None:
    with pytest.raises(ValueError, match="one"):
        export_trail(store, format="csv")
    with pytest.raises(ValueError, match="format"):
        export_trail(store, format="xml", campaign_id=CAMPAIGN_ID)  # type: ignore[arg-type]
