"""Campaign deadline changes (延期), docs/rules.md §3.

A campaign's deadlines may be extended or moved by the committee; every open declaration re-arms
its timers. A deadline moved *earlier* takes effect, for declarations already open, no earlier than
24 hours after the change, so nobody loses a deadline without a day's notice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.models import CampaignDeadlines

NOTICE_PERIOD = timedelta(hours=24)


def effective_deadline(
    old: datetime | None, new: datetime | None, changed_at: datetime
) -> datetime | None:
    """The instant an open declaration uses after a change from ``old`` to ``new``.

    A later or unchanged instant applies as given; an earlier one (or a deadline added where there
    was none) applies no earlier than 24 hours after the change, and never later than the old one.
    ``new`` of ``None`` removes the deadline.
    """
    if new is None:
        return None
    floor = changed_at + NOTICE_PERIOD
    if old is None:
        return max(new, floor)
    if new >= old:
        return new
    return max(new, min(old, floor))


def effective_deadlines(
    old: CampaignDeadlines, new: CampaignDeadlines, changed_at: datetime
) -> CampaignDeadlines:
    """Apply :func:`effective_deadline` to every deadline of a campaign."""
    declaration = effective_deadline(
        old.declaration_closes_at, new.declaration_closes_at, changed_at
    )
    assert declaration is not None  # the declaration deadline always exists
    return CampaignDeadlines(
        declaration_closes_at=declaration,
        review_closes_at=effective_deadline(old.review_closes_at, new.review_closes_at, changed_at),
        fee_deadline=effective_deadline(old.fee_deadline, new.fee_deadline, changed_at),
        materials_deadline=effective_deadline(
            old.materials_deadline, new.materials_deadline, changed_at
        ),
    )
