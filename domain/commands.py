"""The command table: every command a declaration takes, in one place.

Each entry names the command once (its Temporal update name, which is also its audit action, its
console action and the prefix of its refusal codes: ``record_payment.wrong_amount``), its model,
the roles that may send it, how it is refused and how it is applied, what the workflow must do
before it applies (screening a submission against the store, confirming a fee in the ledger) and
the label staff read. The workflow's typed update handlers, the API's routes, the console's forms
and the tests' driver all look their command up here; nothing finds a handler by building a name.

Organisation scope (a unit reviewer acts for their unit, an authority reviewer for their level)
is the same for every command and lives with the chain (who decides at which stage) and the API
(which declarations an organisation's staff may touch at all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from domain.chain import changes, committee, filing, publicity, review
from domain.chain.core import Chain
from domain.chain.state import Prepared, Refusal, Step
from domain.models import (
    ROLES,
    CalendarChangedCommand,
    CloseReviewCommand,
    Command,
    DeadlineChangeCommand,
    DecisionCommand,
    DefenseCommand,
    MaterialsReceivedCommand,
    MisconductCommand,
    ObjectionCommand,
    ObjectionResolutionCommand,
    PaymentCommand,
    ResultConfirmationCommand,
    SubmitCommand,
    VoteCommand,
    WithdrawCommand,
)

__all__ = [
    "BY_MODEL",
    "COMMANDS",
    "CommandSpec",
    "Preparation",
]

C = TypeVar("C", bound=Command)

#: What must happen before a command applies, as an activity: screening a submission against
#: the store (blacklists, other live declarations), confirming a payment in the fee ledger.
Preparation = Literal["screen_applicant", "confirm_fee", "check_unit_bar"]


@dataclass(frozen=True)
class CommandSpec(Generic[C]):
    """One command: see the module docstring."""

    name: str
    model: type[C]
    roles: frozenset[str]
    refuse: Callable[[Chain, C, datetime], Refusal | None]
    apply: Callable[[Chain, C, datetime, Prepared], Step]
    label: str
    prepare: Preparation | None = None
    #: Taken by a certified declaration (only a misconduct finding can still revoke it).
    after_certification: bool = False


def _spec(
    name: str,
    model: type[C],
    roles: tuple[str, ...],
    refuse: Callable[[Chain, C, datetime], Refusal | None],
    apply: Callable[[Chain, C, datetime, Prepared], Step],
    label: str,
    **more: Any,
) -> CommandSpec[C]:
    return CommandSpec(name, model, frozenset(roles), refuse, apply, label, **more)


COMMANDS: dict[str, CommandSpec[Any]] = {
    spec.name: spec
    for spec in (
        _spec("submit", SubmitCommand, ("applicant",), filing.refuse_submit, filing.apply_submit,
              "提交申报", prepare="screen_applicant"),
        _spec("withdraw", WithdrawCommand, ("applicant",), filing.refuse_withdraw,
              filing.apply_withdraw, "撤回申报"),
        _spec("decide", DecisionCommand, ("unit_reviewer", "authority_reviewer", "committee"),
              review.refuse_decide, review.apply_decide, "审核决定", prepare="check_unit_bar"),
        _spec("lodge_objection", ObjectionCommand, ROLES, publicity.refuse_objection,
              publicity.apply_objection, "提出异议"),
        _spec("resolve_objection", ObjectionResolutionCommand, ("unit_reviewer", "committee"),
              publicity.refuse_resolution, publicity.apply_resolution, "处理异议"),
        _spec("record_payment", PaymentCommand, ("finance",), committee.refuse_payment,
              committee.apply_payment, "确认缴费", prepare="confirm_fee"),
        _spec("record_materials_received", MaterialsReceivedCommand, ("committee",),
              committee.refuse_materials, committee.apply_materials, "登记纸质材料"),
        _spec("record_defense", DefenseCommand, ("committee",), committee.refuse_defense,
              committee.apply_defense, "登记答辩结果"),
        _spec("record_vote", VoteCommand, ("committee",), committee.refuse_vote,
              committee.apply_vote, "登记评审会议表决"),
        _spec("record_misconduct", MisconductCommand, ("committee", "authority_reviewer"),
              committee.refuse_misconduct, committee.apply_misconduct, "登记违规行为",
              after_certification=True),
        _spec("confirm_result", ResultConfirmationCommand, ("committee", "admin"),
              committee.refuse_confirmation, committee.apply_confirmation, "审核确认结果"),
        _spec("change_deadlines", DeadlineChangeCommand, ("committee", "admin"),
              changes.refuse_change_deadlines, changes.apply_change_deadlines, "调整期限"),
        _spec("close_review", CloseReviewCommand, ("committee",), changes.refuse_close_review,
              changes.apply_close_review, "结束评审（未重新提交的退回申报不予受理）"),
        _spec("calendar_changed", CalendarChangedCommand, ("admin",),
              changes.refuse_calendar_changed, changes.apply_calendar_changed, "载入官方日历"),
    )
}  # fmt: skip

#: The command a model carries (each model belongs to exactly one command).
BY_MODEL: dict[type[Command], CommandSpec[Any]] = {spec.model: spec for spec in COMMANDS.values()}
