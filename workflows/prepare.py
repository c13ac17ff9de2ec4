"""What the workflow does before a command applies (the command table's ``prepare``), and the
rule changes a running declaration takes up (workflow code: deterministic, in the sandbox)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.fees import FeeActivities
    from activities.messages import ScreeningRequest, UnitBarRequest
    from activities.retry import local, remote
    from activities.screening import ScreeningActivities
    from domain.chain import Chain, Prepared, Refusal
    from domain.chain.state import DEADLINE_CHANGE_NOOP, UNIT_BAR_AT_DECISION
    from domain.commands import CommandSpec
    from domain.models import FeeBatch, FeeConfirmation

__all__ = ["PatchedRules", "prepare"]


class PatchedRules:
    """The chain's rule changes (``domain.chain.state.Rules``), answered by ``workflow.patched``
    where the rule is used, so a history recorded before a change replays on the old rule. A
    validator or query cannot write a marker: there, a change not decided yet in this run counts
    as adopted (the handler that follows decides it the same way, live)."""

    #: Changes every declaration now follows: their marker is still written (deprecate_patch),
    #: so histories recorded with or without it replay.
    DEPRECATED = frozenset({DEADLINE_CHANGE_NOOP})

    def __init__(self) -> None:
        self.decided: dict[str, bool] = {}
        self.read_only = False

    def enabled(self, change: str) -> bool:
        if change in self.DEPRECATED:
            if not self.read_only:
                workflow.deprecate_patch(change)
            return True
        if change not in self.decided:
            if self.read_only:
                return True
            self.decided[change] = workflow.patched(change)
        return self.decided[change]


def _snake(error_type: str) -> str:
    """``PaymentRefused`` → ``payment_refused``: an activity's refusal type as a refusal code."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in error_type).lstrip("_")


async def prepare(
    chain: Chain, spec: CommandSpec[Any], cmd: Any, rules: PatchedRules
) -> Prepared | Refusal:
    """What must happen before a command may apply: screening a submission against the store,
    reading the unit's bar when the unit approves, confirming a payment in the fee ledger."""
    s = chain.s
    if spec.prepare == "screen_applicant":
        screening = await workflow.execute_local_activity_method(
            ScreeningActivities.screen_applicant,
            ScreeningRequest(
                declaration_id=s.declaration_id,
                campaign=s.campaign,
                declaration=s.declaration,
                at=workflow.now(),
            ),
            **local(ScreeningActivities.screen_applicant),
        )
        if screening.refusal:
            return Refusal("screened_out", screening.refusal)
        return Prepared(screening=screening)
    if spec.prepare == "check_unit_bar" and _unit_decides(cmd, rules):
        bar = await workflow.execute_local_activity_method(
            ScreeningActivities.check_unit_bar,
            UnitBarRequest(
                declaration_id=s.declaration_id, unit_id=s.declaration.unit_id, at=workflow.now()
            ),
            **local(ScreeningActivities.check_unit_bar),
        )
        return Refusal("unit_barred", bar.refusal) if bar.refusal else Prepared()
    if spec.prepare == "confirm_fee" and not s.fee_paid and not cmd.confirmed_in_batch:
        confirmation = FeeConfirmation(
            declaration_id=s.declaration_id,
            campaign_id=s.campaign.id,
            receipt_no=cmd.receipt_no,
            amount=cmd.amount,
            due=s.fee_due,
            payer_org=cmd.payer_org,
            confirmed_by=cmd.actor.id,
            at=workflow.now(),
        )
        batch = FeeBatch(
            receipt_no=cmd.receipt_no,
            payer_org=cmd.payer_org,
            confirmed_by=cmd.actor.id,
            at=confirmation.at,
            items=[confirmation],
        )
        try:
            await workflow.execute_activity_method(
                FeeActivities.confirm_fee, batch, **remote(FeeActivities.confirm_fee)
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.non_retryable:
                return Refusal(_snake(cause.type or "FeeRefused"), cause.message)
            raise
    return Prepared()


def _unit_decides(cmd: Any, rules: PatchedRules) -> bool:
    """An approval by the unit, whose bar from recommending is read now (a rule change:
    histories recorded before it replay without the read)."""
    return (
        cmd.stage in ("unit_review", "unit_recommendation")
        and cmd.outcome == "approve"
        and rules.enabled(UNIT_BAR_AT_DECISION)
    )
