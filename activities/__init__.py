"""Activities: one module per side effect, each a class that gets its :class:`store.db.Store` in
its constructor. Every activity is idempotent (at-least-once delivery is the contract) and
raises a non-retryable ``ApplicationError`` whose ``type`` names the business refusal
(:data:`activities.retry.NON_RETRYABLE`).

Activities are ``async`` and run the blocking store code in a worker thread, so the worker needs
no activity executor. Timeouts and retry policies per activity: :mod:`activities.retry`.

This package's ``__init__`` imports no store code; :func:`all_activities` does, when called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from activities.retry import LOCAL_OPTIONS, NON_RETRYABLE, REMOTE_OPTIONS

if TYPE_CHECKING:
    from temporalio.client import Client

    from gateway.outbox import OutboxWaker
    from settings import Settings
    from store.db import Store

__all__ = ["LOCAL_OPTIONS", "NON_RETRYABLE", "REMOTE_OPTIONS", "all_activities"]


def all_activities(
    store: Store,
    client: Client | None = None,
    *,
    settings: Settings | None = None,
    waker: OutboxWaker | None = None,
) -> list[Callable[..., Any]]:
    """Every activity, bound to ``store``, for ``Worker(activities=...)``; with ``client``, also
    the ones that call Temporal themselves (the campaign fan-outs send updates). ``settings``
    configures the outbox's delivery (default: the process's); ``waker``, when the worker runs
    the outbox's sender, is told of every notification written."""
    from activities.announcement import AnnouncementActivities
    from activities.audit import AuditActivities
    from activities.blacklist import BlacklistActivities
    from activities.campaign_ops import CampaignOpsActivities
    from activities.deadlines import DeadlineActivities
    from activities.delivery import DeliveryActivities
    from activities.fees import FeeActivities
    from activities.notify import NotifyActivities
    from activities.publicity import PublicityActivities
    from activities.review_form import ReviewFormActivities
    from activities.screening import ScreeningActivities
    from settings import get_settings

    announcement = AnnouncementActivities(store)
    publicity = PublicityActivities(store)
    deadlines = DeadlineActivities(store)
    screening = ScreeningActivities(store)
    with_client = [] if client is None else [CampaignOpsActivities(client).send_campaign_change]
    return [
        *with_client,
        AuditActivities(store, waker).record_audit_event,
        FeeActivities(store).confirm_fee,
        publicity.open_publicity,
        publicity.close_publicity,
        deadlines.compute_deadline,
        deadlines.compute_at_risk_table,
        ReviewFormActivities(store).issue_review_form,
        announcement.announce_result,
        announcement.revoke_certificate,
        NotifyActivities(store, waker).notify,
        screening.screen_applicant,
        screening.check_unit_bar,
        BlacklistActivities(store).record_blacklist,
        DeliveryActivities(store, settings or get_settings()).deliver_outbox,
    ]
