"""Reminders (docs/rules.md §3: 24 hours before each deadline, a notification goes to whoever
must act): which deadline a reminder is about, the reminder a creation or a 延期 calls for, and
how failed deliveries back off."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from domain.calendar import BEIJING
from domain.models import Deadlines
from domain.reminders import (
    Notice,
    after_failure,
    notice_seq,
    notice_time,
    rearmed_reminders,
    reminder_deadline,
    retry_delay,
    unsent,
)
from testing.builders import MONDAY, event, notification, view

DAY = timedelta(days=1)


def test_a_reminder_is_about_the_deadline_24_hours_after_it() -> None:
    """A returned declaration whose correction window and declaration deadline coincide: the
    correction window is what the applicant acts on (001 四(一)1)."""
    v = view("D-1", version=3, state="returned")
    closes = MONDAY + 2 * DAY
    v.deadlines = Deadlines(declaration=closes, correction=closes)
    v.deadline_explanations = {
        "correction": "退回后2日内（民法典第201条）",
        "declaration": "申报截止",
    }
    found = reminder_deadline(closes - DAY, v)
    assert (found.kind, found.at, found.explanation) == (
        "correction",
        closes,
        v.deadline_explanations["correction"],
    )
    assert found.label.label_zh == "补正期限"


def test_a_reminder_whose_instant_the_view_no_longer_shows_names_what_its_state_waits_on() -> None:
    v = view("D-1", version=3, state="unit_publicity")
    found = reminder_deadline(MONDAY, v)
    assert (found.kind, found.at) == ("publicity_ends", MONDAY + DAY)
    assert reminder_deadline(MONDAY, None).kind == "declaration"


@pytest.mark.parametrize(
    ("instant", "written"),
    [
        (datetime(2024, 10, 11, 0, 0, tzinfo=BEIJING), "2024-10-10 24:00"),
        (datetime(2024, 10, 10, 18, 0, tzinfo=BEIJING), "2024-10-10 18:00"),
    ],
)
def test_deadlines_are_written_as_notices_write_them(instant: datetime, written: str) -> None:
    assert notice_time(instant) == written


def test_backoff_doubles_from_the_base_and_stops_at_the_cap() -> None:
    base, cap = timedelta(minutes=1), timedelta(hours=1)
    assert [retry_delay(n, base=base, cap=cap).total_seconds() for n in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_a_delivery_is_dead_after_its_last_attempt_or_a_permanent_refusal() -> None:
    assert after_failure(1, max_attempts=3, permanent=False) == "retrying"
    assert after_failure(3, max_attempts=3, permanent=False) == "dead"
    assert after_failure(1, max_attempts=3, permanent=True) == "dead"


def _draft(due: datetime) -> tuple:
    v = view("D-7", version=1, state="draft", updated_at=MONDAY)
    assert v.pending is not None
    v.pending.due_at = due
    created = event(
        "D-7", 1, MONDAY, action="created", after="draft", actor=("applicant-1", "applicant", "")
    )
    return v, created


def test_a_created_draft_is_reminded_24_hours_before_the_declaration_deadline() -> None:
    """§3 (004 申报时间 / 逾期端口将关闭): the applicant of a draft is reminded before the
    declaration deadline closes the window."""
    closes = MONDAY + 10 * DAY
    v, created = _draft(closes)
    [reminder], cancel = rearmed_reminders(v, [created], [])
    assert cancel == []
    assert reminder.key == f"D-7:1:reminder:{closes.isoformat()}"
    assert (reminder.recipient_role, reminder.recipient_id) == ("applicant", "applicant-1")
    assert reminder.send_after == closes - DAY and reminder.supersedes == "D-7:reminder"


def test_a_deadline_change_reschedules_the_reminder_or_cancels_it_when_too_close() -> None:
    """§3 延期: the reminder follows the new instant; within 24 hours there is none to send."""
    v, _ = _draft(MONDAY + 10 * DAY)
    changed = event(
        "D-7", 4, MONDAY + DAY, action="deadlines.changed", before="draft", after="draft"
    )
    [reminder], cancel = rearmed_reminders(v, [changed], [])
    assert reminder.key.startswith("D-7:4:reminder:") and not cancel
    assert v.pending is not None
    v.pending.due_at = MONDAY + DAY + timedelta(hours=23)
    assert rearmed_reminders(v, [changed], []) == ([], ["D-7:reminder"])


def test_a_step_whose_reminder_the_chain_wrote_or_that_was_refused_adds_nothing() -> None:
    v, created = _draft(MONDAY + 10 * DAY)
    own = notification("D-7", "D-7:1:reminder:own", group="D-7:reminder")
    assert rearmed_reminders(v, [created], [own]) == ([], [])
    refused = created.model_copy(update={"action": "deadlines.changed", "outcome": "refused"})
    assert rearmed_reminders(v, [refused], []) == ([], [])
    other = created.model_copy(update={"action": "decide"})
    assert rearmed_reminders(v, [other], []) == ([], [])


def _n(seq: int, kind: str = "action_required", who: str = "U-001") -> Notice:
    role = "applicant" if who == "applicant" else "unit_reviewer"
    return Notice(
        f"D-7:{seq}:{kind}", "D-7", seq, kind, (role, "" if role == "applicant" else who, "")
    )


def test_a_notice_repeated_within_one_stay_is_sent_once() -> None:
    """The unit is told once that a declaration waits for it, not again when the publicity's
    end is computed a moment later (same state, same person)."""
    assert unsent([_n(5)], [_n(4)], {"D-7": [4]}) == {"D-7:5:action_required": "repeat"}
    assert unsent([_n(4), _n(5)], [], {"D-7": [4]}) == {"D-7:5:action_required": "repeat"}


def test_a_notice_after_the_declaration_left_and_came_back_is_sent() -> None:
    """Returned (4), resubmitted (6), returned again (8): the applicant is told both times."""
    first, again = _n(4, who="applicant"), _n(8, who="applicant")
    assert unsent([again], [first], {"D-7": [4, 6, 8]}) == {}


def test_a_notice_whose_stay_ended_before_it_could_be_sent_is_outdated() -> None:
    """Submitted (4): the unit must review; it approved (6) before the notice went out: nobody
    must act on it any more."""
    assert unsent([_n(4)], [], {"D-7": [4, 6]}) == {"D-7:4:action_required": "outdated"}


def test_other_people_and_other_kinds_are_not_held_back() -> None:
    assert unsent([_n(5, who="U-002")], [_n(4)], {"D-7": [4]}) == {}
    assert unsent([_n(5, kind="outcome")], [_n(4)], {"D-7": [4]}) == {}
    reminder = Notice(
        "D-7:5:reminder:x", "D-7", 5, "deadline_reminder", ("unit_reviewer", "U-001", "")
    )
    assert unsent([reminder], [reminder], {"D-7": [9]}) == {}
    assert notice_seq("D-7:12:act", "D-7") == 12 and notice_seq("other:1", "D-7") is None
