"""§8 audit trail: append-only, hash-chained, idempotent (docs/rules.md §18)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from store.audit import (
    GENESIS_HASH,
    append_events,
    canonical_bytes,
    event_hash,
    events_of,
    row_dict,
    verify,
)
from store.db import Store
from store.errors import AuditConflict, AuditGap
from testing.builders import MONDAY, declaration_id, trail


def test_canonical_form_is_sorted_compact_utf8_json_with_utc_microsecond_instants() -> None:
    data = {
        "declaration_id": "D-1",
        "campaign_id": "C-1",
        "seq": 1,
        "at": datetime(2024, 9, 25, 10, 0, tzinfo=MONDAY.tzinfo),
        "actor_id": "u1",
        "actor_role": "unit_reviewer",
        "actor_org": "U-001",
        "action": "decision.return",
        "stage_before": "unit_review",
        "stage_after": "returned",
        "outcome": "accepted",
        "opinion": "材料不全",
        "reasons": ["missing_material"],
        "detail": {"b": 1, "a": [True, None]},
        "prev_hash": GENESIS_HASH,
        "id": 99,
        "hash": "ignored",
    }
    expected = (
        '{"action":"decision.return","actor_id":"u1","actor_org":"U-001",'
        '"actor_role":"unit_reviewer","at":"2024-09-25T02:00:00.000000Z","campaign_id":"C-1",'
        '"declaration_id":"D-1","detail":{"a":[true,null],"b":1},"opinion":"材料不全",'
        '"outcome":"accepted","prev_hash":"' + GENESIS_HASH + '","reasons":["missing_material"],'
        '"seq":1,"stage_after":"returned","stage_before":"unit_review"}'
    ).encode()
    assert canonical_bytes(data) == expected
    assert event_hash(data) == hashlib.sha256(expected).hexdigest()


def test_each_event_carries_the_previous_hash_and_the_first_64_zeros(store: Store) -> None:
    d = declaration_id()
    with store.session() as session:
        assert append_events(session, trail(d, 3)) == (3, 0)
    with store.session() as session:
        rows = events_of(session, d)
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    assert rows[1].prev_hash == rows[0].hash
    assert rows[2].prev_hash == rows[1].hash
    for row in rows:  # an auditor recomputes every hash from the table alone
        assert hashlib.sha256(canonical_bytes(row_dict(row))).hexdigest() == row.hash
    assert rows[1].at == trail(d, 3)[1].at.astimezone(UTC)
    assert json.loads(rows[1].detail) == {"n": 2, "名称": "审核", "at": MONDAY.isoformat()}


def test_appending_in_later_batches_continues_the_chain(store: Store) -> None:
    d = declaration_id()
    events = trail(d, 4)
    with store.session() as session:
        append_events(session, events[:2])
    with store.session() as session:
        assert append_events(session, events[2:]) == (2, 0)
        assert verify(session, declaration_id=d).ok


def test_reappending_the_same_events_writes_nothing(store: Store) -> None:
    d = declaration_id()
    events = trail(d, 3)
    with store.session() as session:
        append_events(session, events[:2])
    with store.session() as session:  # a retry that overlaps what is stored, plus one new
        assert append_events(session, events) == (1, 2)
    with store.session() as session:
        assert append_events(session, events) == (0, 3)
        assert len(events_of(session, d)) == 3


def test_reappending_a_sequence_number_with_different_content_is_a_conflict(store: Store) -> None:
    d = declaration_id()
    events = trail(d, 2)
    with store.session() as session:
        append_events(session, events)
    altered = events[1].model_copy(update={"opinion": "改写的意见"})
    with pytest.raises(AuditConflict, match="append-only"), store.session() as session:
        append_events(session, [altered])
    with store.session() as session:
        assert events_of(session, d)[1].opinion == "意见 2"


def test_an_event_after_a_gap_is_refused_as_retryable(store: Store) -> None:
    d = declaration_id()
    events = trail(d, 3)
    with store.session() as session:
        append_events(session, events[:1])
    with pytest.raises(AuditGap), store.session() as session:
        append_events(session, events[2:])
    with store.session() as session:
        assert [r.seq for r in events_of(session, d)] == [1]


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET opinion = 'x'", "DELETE FROM audit_event"]
)
def test_the_database_refuses_to_update_or_delete_audit_rows(store: Store, statement: str) -> None:
    d = declaration_id()
    with store.session() as session:
        append_events(session, trail(d, 2))
    with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
        session.connection().execute(text(statement))
    with store.session() as session:
        assert [r.opinion for r in events_of(session, d)] == ["", "意见 2"]


@pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)
def test_postgresql_also_refuses_truncating_the_audit_trail(store: Store) -> None:
    with store.session() as session:
        append_events(session, trail(declaration_id(), 1))
    with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
        session.connection().execute(text("TRUNCATE audit_event"))


def test_verify_finds_the_first_altered_event(store: Store, db_kind: str) -> None:
    """Only someone who drops the trigger can alter a row, and the chain then shows where."""
    d = declaration_id()
    with store.session() as session:
        append_events(session, trail(d, 4))
        assert verify(session, declaration_id=d).model_dump() == {
            "ok": True,
            "checked": 4,
            "first_bad_seq": None,
            "first_bad_declaration_id": None,
        }
    drop = (
        "DROP TRIGGER audit_event_no_update_delete ON audit_event"
        if db_kind == "postgresql"
        else "DROP TRIGGER audit_event_no_update"
    )
    with store.session() as session:
        session.connection().execute(text(drop))
        session.connection().execute(
            text("UPDATE audit_event SET opinion = '篡改' WHERE declaration_id = :d AND seq = 3"),
            {"d": d},
        )
    with store.session() as session:
        check = verify(session, declaration_id=d)
        assert (check.ok, check.first_bad_seq, check.checked) == (False, 3, 2)
        campaign = verify(session, campaign_id="aks-2024-transport")
        assert (campaign.ok, campaign.first_bad_declaration_id) == (False, d)
