"""Writers racing on one declaration, receipt or campaign (retries delivered twice at once, the
worker and the API side by side): every write still happens exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text

from domain.calendar import BEIJING
from store.audit import append_events, events_of, verify
from store.certificates import issue_certificate
from store.db import Store
from testing.builders import CAMPAIGN_ID, declaration_id, trail

T = TypeVar("T")


def race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` in ``count`` threads released at the same instant."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results.append(work(i))
        except BaseException as err:  # collected and re-raised below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def test_the_same_step_delivered_twice_at_once_is_written_once(store: Store) -> None:
    d = declaration_id()
    events = trail(d, 5)

    def append(_: int) -> tuple[int, int]:
        with store.session() as session:
            return append_events(session, events)

    assert sorted(race(4, append)) == [(0, 5), (0, 5), (0, 5), (5, 0)]
    with store.session(readonly=True) as session:
        assert len(events_of(session, d)) == 5
        assert verify(session, declaration_id=d).ok


def test_certificates_announced_at_once_get_distinct_serial_numbers(store: Store) -> None:
    ids = [declaration_id() for _ in range(6)]

    def announce(i: int) -> str:
        with store.session() as session:
            return issue_certificate(
                session,
                declaration_id=ids[i],
                campaign_id=CAMPAIGN_ID,
                series="engineering",
                level="intermediate",
                announced_at=datetime(2024, 10, 11, 9, tzinfo=BEIJING),
            ).certificate_no

    numbers = race(len(ids), announce)
    assert sorted(numbers) == [f"RC-{CAMPAIGN_ID}-{n:06d}" for n in range(1, 7)]


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    db = Store(f"sqlite:///{(tmp_path / 'rc.sqlite3').as_posix()}")
    db.migrate()
    try:
        with db.session() as writer:
            writer.connection().execute(text("DELETE FROM calendar_year"))  # holds the lock
            with db.session(readonly=True) as reader:
                count = reader.connection().execute(text("SELECT count(*) FROM payment"))
                assert count.scalar() == 0
    finally:
        db.dispose()
