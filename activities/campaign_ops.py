"""Sending one campaign-wide change to one declaration (docs/rules.md §3 延期, §7 calendars), for the
durable fan-out in :mod:`workflows.campaign_ops`.

The side effect here is a Temporal update on the declaration's own workflow, through
:func:`gateway.send` (the path every decision takes, refusals audited), so this class
gets the process's Temporal client in its constructor instead of the store.

Idempotent: the update carries the change id as its update id (Temporal answers a repeated
delivery to the same run without running it again), and the declaration's chain treats a change
whose effective deadlines are already in force as a no-op (``domain.chain``), so a retry after a
lost answer or a worker restart never changes a declaration twice.
"""

from __future__ import annotations

import asyncio

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.support import MAX_MESSAGE
from domain.campaign_ops import FanOutItem, FanOutOutcome
from domain.models import DeclarationView
from gateway import DecisionRefused, DeclarationEnded, send

log = structlog.get_logger()


class CampaignOpsActivities:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name="send_campaign_change")
    async def send_campaign_change(self, item: FanOutItem) -> FanOutOutcome:
        """Send ``item``'s change to its declaration as the ``change_deadlines`` or
        ``calendar_changed`` update. Business answers come back as the outcome (``updated``,
        ``ended``, ``refused`` with the workflow's reason, ``unknown``); anything else (Temporal
        briefly away, this worker shutting down) raises and is retried."""
        update, cmd = item.command()
        with structlog.contextvars.bound_contextvars(
            declaration_id=item.declaration_id, change_id=item.change_id, update=update
        ):
            try:
                view: DeclarationView = await send(
                    self._client, item.declaration_id, update, cmd, update_id=item.change_id
                )
            except DeclarationEnded as err:
                return _outcome(item, "ended", err.reason)
            except DecisionRefused as err:
                log.warning("campaign_change.refused", reason=err.reason[:MAX_MESSAGE])
                return _outcome(item, "refused", err.reason)
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    return _outcome(item, "unknown", "没有该申报 / unknown declaration")
                raise
            except asyncio.CancelledError:
                if activity.is_worker_shutdown():
                    # Fail (retryable) rather than report a cancellation nobody asked for: the
                    # next worker sends it again, and the declaration answers it once.
                    raise ApplicationError("worker shutting down", type="WorkerShutdown") from None
                raise
        return FanOutOutcome(
            declaration_id=item.declaration_id, outcome="updated", state=view.state
        )


def _outcome(item: FanOutItem, outcome: str, reason: str) -> FanOutOutcome:
    if len(reason) > MAX_MESSAGE:
        reason = reason[: MAX_MESSAGE - 1] + "…"
    return FanOutOutcome.model_validate(
        {"declaration_id": item.declaration_id, "outcome": outcome, "reason": reason}
    )
