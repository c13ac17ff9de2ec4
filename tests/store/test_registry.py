"""The blacklist as screening reads it (docs/rules.md §2 end; 000-004: bars run from the finding for
five years, three for a unit): which bars are in force at an instant, on both dialects."""

from __future__ import annotations

from datetime import UTC, timedelta

from domain.blacklist import BarEntry
from store.db import Store
from store.registry import add_bar, bars_at
from testing.builders import MONDAY, declaration_id

PERSON = ("applicant", "110101199001011234")
UNIT = ("unit", "U-hospital")
OTHER = ("applicant", "110101199202022345")


def _bar(subject: tuple[str, str], days: int = 5 * 365) -> BarEntry:
    kind, subject_id = subject
    return BarEntry(
        subject_kind=kind,
        subject_id=subject_id,
        series="health",
        level="deputy_senior",
        from_at=MONDAY,
        until=MONDAY + timedelta(days=days),
        reason="伪造业绩证明",
        declaration_id=declaration_id(),
    )


def _load(store: Store, *entries: BarEntry) -> None:
    with store.session() as session:
        for entry in entries:
            assert add_bar(session, entry, "C-2024")


def test_a_bar_is_in_force_from_its_first_instant_until_just_before_its_end(store: Store) -> None:
    """§2 end: a bar holds from the finding (inclusive) to its end (exclusive)."""
    person = _bar(PERSON)
    _load(store, person)
    with store.session(readonly=True) as session:
        before = bars_at(session, [PERSON], MONDAY - timedelta(microseconds=1))
        first = bars_at(session, [PERSON], MONDAY)
        last = bars_at(session, [PERSON], person.until - timedelta(microseconds=1))
        ended = bars_at(session, [PERSON], person.until)
    assert before == {PERSON: []}
    assert first == {PERSON: [person]}
    assert last == {PERSON: [person]}
    assert ended == {PERSON: []}


def test_each_subject_gets_its_own_bars_whatever_their_number(store: Store) -> None:
    """Screening asks for the applicant and the unit together; each gets only its own bars."""
    person, unit, other = _bar(PERSON), _bar(UNIT, days=3 * 365), _bar(OTHER)
    _load(store, person, unit, other)
    at = MONDAY.astimezone(UTC) + timedelta(days=400)
    with store.session(readonly=True) as session:
        assert bars_at(session, [], at) == {}
        assert bars_at(session, [UNIT], at) == {UNIT: [unit]}
        assert bars_at(session, [PERSON, UNIT], at) == {PERSON: [person], UNIT: [unit]}
        assert bars_at(session, [PERSON, UNIT, OTHER], at) == {
            PERSON: [person],
            UNIT: [unit],
            OTHER: [other],
        }
        # The same kind with another id, and another kind with the same id, are other subjects.
        assert bars_at(session, [("unit", PERSON[1])], at) == {("unit", PERSON[1]): []}
