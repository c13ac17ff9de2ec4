"""§8 "an auditor can verify that nothing was altered or removed": every change a database
superuser can make behind the append-only triggers shows up in ``verify``, at the right ``seq``.

The triggers are bypassed the way a superuser could: on PostgreSQL with
``SET session_replication_role = replica`` (or ``ALTER TABLE … DISABLE TRIGGER USER``), on SQLite
by dropping the triggers, tampering, and creating them again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from store.audit import (
    ChainCheck,
    append_events,
    canonical_bytes,
    check_chains,
    count_chains,
    events_of,
    row_dict,
    verify,
)
from store.db import Store
from store.readmodel import upsert_view
from store.tables import AuditEvent
from testing.builders import CAMPAIGN_ID, MONDAY, declaration_id, trail, view

AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
LENGTH = 5


@contextmanager
def superuser(store: Store, db_kind: str, *, how: str = "replica") -> Iterator[Connection]:
    """A transaction in which the append-only triggers do not fire; they are back afterwards."""
    with store.engine.begin() as connection:
        if db_kind == "postgresql":
            if how == "replica":
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            else:
                connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
            yield connection
            if how != "replica":
                connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER USER")
            return
        triggers = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name IN ('audit_event', 'audit_head')"
        ).all()
        names = {name for name, _ in triggers}
        assert {"audit_event_no_update", "audit_event_no_delete", "audit_head_no_delete"} <= names
        for name, _ in triggers:
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        yield connection
        for _, sql in triggers:
            connection.exec_driver_sql(sql)


def _where(d: str, seq: int) -> sa.ColumnElement[bool]:
    return sa.and_(AUDIT.c.declaration_id == d, AUDIT.c.seq == seq)


@pytest.fixture
def chains(store: Store) -> tuple[str, str]:
    """Two declarations of one campaign, five events each, and their views (version 5): the
    first sorts before the second, which the tests tamper with."""
    base = declaration_id()
    clean, target = f"{base}-a", f"{base}-b"
    with store.session() as session:
        for d in (clean, target):
            append_events(session, trail(d, LENGTH))
            upsert_view(session, view(d, version=LENGTH))
    return clean, target


def _checks(store: Store, target: str) -> tuple[ChainCheck, ChainCheck]:
    with store.session(readonly=True) as session:
        return (
            verify(session, declaration_id=target),
            verify(session, campaign_id=CAMPAIGN_ID),
        )


def _assert_first_bad(store: Store, target: str, seq: int) -> None:
    """Bad at ``seq`` alone and in its campaign, after all 5 events of the clean chain."""
    one, campaign = _checks(store, target)
    assert one.model_dump() == {
        "ok": False,
        "checked": seq - 1,
        "first_bad_seq": seq,
        "first_bad_declaration_id": target,
    }
    assert campaign.model_dump() == {
        "ok": False,
        "checked": LENGTH + seq - 1,
        "first_bad_seq": seq,
        "first_bad_declaration_id": target,
    }


def test_untouched_chains_verify(store: Store, chains: tuple[str, str]) -> None:
    _, target = chains
    one, campaign = _checks(store, target)
    assert (one.ok, one.checked, one.first_bad_seq) == (True, LENGTH, None)
    assert (campaign.ok, campaign.checked, campaign.first_bad_seq) == (True, 2 * LENGTH, None)


EDITS: dict[str, Any] = {
    "opinion": "同意推荐",
    "actor_id": "someone-else",
    "actor_role": "committee",
    "outcome": "refused",
    "stage_after": "unit_publicity",
    "at": MONDAY + timedelta(hours=2, microseconds=1),
    "reasons": '["unclear_scan"]',
    "detail": '{"n":3}',
}


@pytest.mark.parametrize("column", sorted(EDITS))
def test_an_edited_field_is_found_at_its_seq(
    store: Store, db_kind: str, chains: tuple[str, str], column: str
) -> None:
    _, target = chains
    with superuser(store, db_kind) as connection:
        done = connection.execute(
            sa.update(AUDIT).where(_where(target, 3)).values({column: EDITS[column]})
        )
        assert done.rowcount == 1
    _assert_first_bad(store, target, 3)
    with store.session(readonly=True) as session:
        report = check_chains(session, declaration_id=target)
    assert report.problem == "event 3 altered: its hash does not match its content"


def test_a_field_overwritten_with_garbage_is_reported_not_raised(
    store: Store, db_kind: str, chains: tuple[str, str]
) -> None:
    _, target = chains
    with superuser(store, db_kind) as connection:
        connection.execute(sa.update(AUDIT).where(_where(target, 3)).values(detail="{not json"))
    _assert_first_bad(store, target, 3)
    with store.session(readonly=True) as session:
        problem = check_chains(session, declaration_id=target).problem
    assert problem is not None and problem.startswith("event 3 altered: unreadable")


def test_the_triggers_are_back_after_tampering(
    store: Store, db_kind: str, chains: tuple[str, str]
) -> None:
    """The helper really bypassed the triggers and restored them (else the other tests prove
    nothing about a superuser)."""
    _, target = chains
    with superuser(store, db_kind, how="disable") as connection:
        connection.execute(sa.update(AUDIT).where(_where(target, 2)).values(opinion="改"))
    with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
        session.connection().execute(sa.update(AUDIT).values(opinion="again"))
    _assert_first_bad(store, target, 2)


def test_a_deleted_middle_event_is_the_first_bad_seq(
    store: Store, db_kind: str, chains: tuple[str, str]
) -> None:
    _, target = chains
    with superuser(store, db_kind) as connection:
        connection.execute(sa.delete(AUDIT).where(_where(target, 3)))
    _assert_first_bad(store, target, 3)
    with store.session(readonly=True) as session:
        problem = check_chains(session, declaration_id=target).problem
    assert problem == "event 3 missing (the next stored event is 4)"


def test_a_deleted_last_event_is_found_from_the_signed_checkpoint(
    store: Store, db_kind: str, chains: tuple[str, str]
) -> None:
    """The chain that remains is consistent; only its length betrays the loss: its signed
    checkpoint, moved in the same transaction as the events, names event 5 (and so does the read
    model's version). First bad seq: the first missing."""
    _, target = chains
    with superuser(store, db_kind) as connection:
        connection.execute(sa.delete(AUDIT).where(_where(target, LENGTH)))
    _assert_first_bad(store, target, LENGTH)
    with store.session(readonly=True) as session:
        problem = check_chains(session, declaration_id=target).problem
    assert problem == "event 5 missing: the signed checkpoint names event 5, the trail holds 4"


def test_a_deleted_tail_of_several_events_names_them_all(
    store: Store, db_kind: str, chains: tuple[str, str]
) -> None:
    _, target = chains
    with superuser(store, db_kind) as connection:
        connection.execute(
            sa.delete(AUDIT).where(AUDIT.c.declaration_id == target, AUDIT.c.seq > 2)
        )
    _assert_first_bad(store, target, 3)
    with store.session(readonly=True) as session:
        problem = check_chains(session, declaration_id=target).problem
    assert problem == "events 3..5 missing: the signed checkpoint names event 5, the trail holds 2"


def test_a_declaration_whose_every_event_was_deleted_is_bad_at_seq_1(
    store: Store, db_kind: str, chains: tuple[str, str]
) -> None:
    """It no longer appears in the trail at all, but the read model still knows it."""
    _, target = chains
    with superuser(store, db_kind) as connection:
        connection.execute(sa.delete(AUDIT).where(AUDIT.c.declaration_id == target))
    _assert_first_bad(store, target, 1)
    with store.session(readonly=True) as session:
        assert count_chains(session, campaign_id=CAMPAIGN_ID) == 2


def test_swapped_sequence_numbers_are_found_at_the_lower_one(
    store: Store, db_kind: str, chains: tuple[str, str]
) -> None:
    """Reordering history: events 2 and 4 trade places (through a spare number, as the unique
    constraint requires)."""
    _, target = chains
    with superuser(store, db_kind) as connection:
        connection.execute(sa.update(AUDIT).where(_where(target, 2)).values(seq=-2))
        connection.execute(sa.update(AUDIT).where(_where(target, 4)).values(seq=2))
        connection.execute(sa.update(AUDIT).where(_where(target, -2)).values(seq=4))
    _assert_first_bad(store, target, 2)


def test_an_event_rewritten_with_a_recomputed_hash_breaks_the_next_link(
    store: Store, db_kind: str, chains: tuple[str, str]
) -> None:
    """A forger who recomputes the altered row's own hash still leaves event 4's prev_hash
    pointing at the original: the first bad event is 4, and it names the broken link."""
    _, target = chains
    with store.session(readonly=True) as session:
        forged = row_dict(events_of(session, target)[2])
    forged["opinion"] = "伪造的同意意见"
    digest = hashlib.sha256(canonical_bytes(forged)).hexdigest()
    with superuser(store, db_kind) as connection:
        connection.execute(
            sa.update(AUDIT).where(_where(target, 3)).values(opinion=forged["opinion"], hash=digest)
        )
    _assert_first_bad(store, target, 4)
    with store.session(readonly=True) as session:
        problem = check_chains(session, declaration_id=target).problem
    assert (
        problem == "event 4: prev_hash is not the hash of event 3; the event before it was replaced"
    )


def test_an_event_moved_to_another_campaign_is_missing_from_its_campaign(
    store: Store, db_kind: str, chains: tuple[str, str]
) -> None:
    """campaign_id is hashed too; the campaign's verify no longer sees the row at all."""
    _, target = chains
    with superuser(store, db_kind) as connection:
        connection.execute(sa.update(AUDIT).where(_where(target, 3)).values(campaign_id="other"))
    _assert_first_bad(store, target, 3)


def test_a_longer_chain_than_the_view_is_fine(store: Store, chains: tuple[str, str]) -> None:
    """Refused attempts are appended after the view's last write (docs/rules.md §16): more events
    than the read model's version is normal; only fewer is a loss."""
    _, target = chains
    extra = trail(target, LENGTH + 2)[LENGTH:]
    with store.session() as session:
        append_events(session, extra)
    one, _ = _checks(store, target)
    assert (one.ok, one.checked) == (True, LENGTH + 2)


def test_progress_reports_every_chain_once(store: Store, chains: tuple[str, str]) -> None:
    seen: list[tuple[str, int]] = []
    with store.session(readonly=True) as session:
        report = check_chains(
            session, campaign_id=CAMPAIGN_ID, progress=lambda d, n: seen.append((d, n))
        )
    assert report.ok and report.chains == 2
    assert sorted(seen) == sorted((d, LENGTH) for d in chains)


def test_verify_needs_exactly_one_scope(store: Store) -> None:
    with store.session(readonly=True) as session, pytest.raises(ValueError, match="one"):
        verify(session)
