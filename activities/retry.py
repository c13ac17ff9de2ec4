"""Timeouts and retry policies of every activity call, with their non-retryable errors named.

Business refusals are raised as ``ApplicationError(non_retryable=True)`` with one of the types
below; every other failure (a database that is briefly away, a lock timeout) is retried with
backoff, which is safe because every activity is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

#: Error types an activity raises for a refusal that no retry can change.
NON_RETRYABLE: dict[str, list[str]] = {
    "confirm_fee": ["PaymentRefused", "ReceiptConflict", "FeeAlreadyPaid"],
    "open_publicity": ["InvalidRequest"],
    "close_publicity": ["InvalidRequest"],
    "compute_deadline": ["InvalidRequest"],
    "compute_at_risk_table": ["InvalidRequest"],
    "issue_review_form": ["InvalidRequest"],
    "announce_result": ["InvalidRequest"],
    "revoke_certificate": ["UnknownCertificate"],
    "record_audit_event": ["AuditConflict", "InvalidRequest"],
    "notify": ["InvalidRequest"],
    "screen_applicant": ["InvalidRequest"],
    "check_unit_bar": ["InvalidRequest"],
    "record_blacklist": ["InvalidRequest"],
    "send_campaign_change": ["InvalidRequest"],
    # A delivery's own failures are recorded on the delivery, never raised: only the store
    # being away fails the activity, and that is always worth retrying.
    "deliver_outbox": [],
}


def _policy(name: str, maximum_attempts: int = 0) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=maximum_attempts,
        non_retryable_error_types=NON_RETRYABLE[name],
    )


def _remote(name: str) -> dict[str, Any]:
    return {
        "start_to_close_timeout": timedelta(seconds=30),
        "schedule_to_close_timeout": timedelta(hours=24),
        "retry_policy": _policy(name),
    }


def _local(name: str) -> dict[str, Any]:
    return {
        "start_to_close_timeout": timedelta(seconds=15),
        "schedule_to_close_timeout": timedelta(hours=1),
        "retry_policy": _policy(name),
    }


#: Keyword arguments for ``workflow.execute_activity_method`` per activity.
REMOTE_OPTIONS: dict[str, dict[str, Any]] = {
    name: _remote(name)
    for name in (
        "confirm_fee",
        "open_publicity",
        "close_publicity",
        "issue_review_form",
        "announce_result",
        "revoke_certificate",
        "notify",
        "record_blacklist",
        "send_campaign_change",
        "record_audit_event",
    )
}

#: The sender's batch (``activities.delivery``): it heartbeats, so a lost worker is noticed in a
#: minute; a claimed delivery's lease (15 minutes) outlasts any attempt of it.
REMOTE_OPTIONS["deliver_outbox"] = {
    "start_to_close_timeout": timedelta(minutes=5),
    "heartbeat_timeout": timedelta(seconds=60),
    "schedule_to_close_timeout": timedelta(minutes=30),
    "retry_policy": _policy("deliver_outbox"),
}

#: Keyword arguments for ``workflow.execute_local_activity_method``: the frequent, fast store
#: calls (screening a submission) and deadline computations run as local activities, which keeps
#: a declaration's history short (one marker event each). The audit write ran here too until the
#: ``audit-write-in-history`` patch; runs that started before it still use these options.
LOCAL_OPTIONS: dict[str, dict[str, Any]] = {
    name: _local(name)
    for name in (
        "record_audit_event",
        "compute_deadline",
        "compute_at_risk_table",
        "screen_applicant",
        "check_unit_bar",
    )
}


def remote(activity_method: Callable[..., Any]) -> dict[str, Any]:
    """The options of a regular activity, by the method the workflow calls
    (``workflow.execute_activity_method(PublicityActivities.open_publicity, …, **remote(…))``);
    an activity's name is its method's name."""
    return REMOTE_OPTIONS[activity_method.__name__]


def local(activity_method: Callable[..., Any]) -> dict[str, Any]:
    """The options of a local activity, by the method the workflow calls."""
    return LOCAL_OPTIONS[activity_method.__name__]
