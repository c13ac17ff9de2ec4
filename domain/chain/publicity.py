"""The two publicities (公示, docs/rules.md §2.2, §2.3, §2.9): objections lodged during them, their
resolution, and what happens when a publicity ends or is cut short."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.chain import notifications, review
from domain.chain.state import (
    OBJECTIONS_BOUNDED,
    Effect,
    Prepared,
    Refusal,
    Step,
    wrong_state,
)
from domain.models import (
    SYSTEM,
    ObjectionCommand,
    ObjectionResolutionCommand,
    ObjectionView,
    as_of,
)
from domain.states import StateName

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = [
    "apply_objection",
    "apply_resolution",
    "ended",
    "interrupt",
    "open_objections",
    "refuse_objection",
    "refuse_resolution",
]

S = StateName

#: docs/rules.md §10.8: objections are safe to receive.
MAX_OPEN_PER_PERSON = 3
MAX_TEXT = 2000
#: No publicity of one declaration keeps more objections than this; beyond it the committee
#: office is reached directly (nothing a caller sends grows the state without bound).
MAX_PER_PUBLICITY = 100


def refuse_objection(chain: Chain, cmd: ObjectionCommand, now: datetime) -> Refusal | None:
    s = chain.s
    if s.state not in (S.unit_publicity, S.result_publicity):
        return wrong_state(
            s.state, "提出异议（仅在公示期内） / lodge an objection outside publicity"
        )
    ends = s.computed.get("publicity_ends")
    if s.publicity_over or (ends is not None and now >= ends.at):
        return Refusal(
            "publicity_over", "公示期已结束，不能再提出异议 / the publicity period has ended"
        )
    if not chain.rules.enabled(OBJECTIONS_BOUNDED):
        return None
    mine = [o for o in s.objections if o.lodged_by == cmd.actor.id and not o.resolved]
    if len(mine) >= MAX_OPEN_PER_PERSON:
        return Refusal(
            "too_many_open",
            f"每人对同一申报最多有 {MAX_OPEN_PER_PERSON} 条未处理的异议 / at most "
            f"{MAX_OPEN_PER_PERSON} open objections per person per declaration",
        )
    if sum(1 for o in s.objections if o.publicity == s.state.value) >= MAX_PER_PUBLICITY:
        return Refusal(
            "objections_full",
            f"本次公示已收到 {MAX_PER_PUBLICITY} 条异议，请直接联系评审委员会办公室 / this publicity "
            f"has received {MAX_PER_PUBLICITY} objections: contact the committee office directly",
        )
    if len(cmd.text) > MAX_TEXT:
        return Refusal(
            "text_too_long",
            f"异议不超过 {MAX_TEXT} 字 / an objection has at most {MAX_TEXT} characters",
        )
    return None


def apply_objection(chain: Chain, cmd: ObjectionCommand, now: datetime, prepared: Prepared) -> Step:
    s = chain.s
    # The text stays in the audit trail (the event's opinion), where those who resolve it read
    # it; the declaration's state keeps who lodged it and when, so no caller can grow the
    # state's size with text (docs/rules.md §10.8).
    bounded = chain.rules.enabled(OBJECTIONS_BOUNDED)
    objection = ObjectionView(
        id=f"obj-{s.seq + 1}",
        publicity=s.state.value,
        lodged_at=now,
        lodged_by=cmd.actor.id,
        text="" if bounded else cmd.text,
    )
    s.objections.append(objection)
    st = s.state.value
    chain.record(
        cmd.actor,
        "objection.lodged",
        st,
        st,
        now,
        opinion=cmd.text,
        detail={"objection_id": objection.id},
    )
    # The publicity now waits on whoever resolves it (the view's ``pending``): tell them.
    notifications.notify_transition(chain, now)
    return Step(result={"objection_id": objection.id})


def open_objections(chain: Chain) -> int:
    st = chain.s.state.value
    return sum(1 for o in chain.s.objections if o.publicity == st and not o.resolved)


def refuse_resolution(
    chain: Chain, cmd: ObjectionResolutionCommand, now: datetime
) -> Refusal | None:
    s = chain.s
    if s.state not in (S.unit_publicity, S.result_publicity):
        return wrong_state(s.state, "处理异议 / resolve an objection")
    objection = next((o for o in s.objections if o.id == cmd.objection_id), None)
    if objection is None or objection.publicity != s.state.value:
        return Refusal(
            "unknown_objection",
            f"没有编号为 {cmd.objection_id} 的异议 / no such objection in this publicity",
        )
    if objection.resolved:
        return Refusal(
            "already_resolved",
            f"异议 {cmd.objection_id} 已处理 / the objection is already resolved",
        )
    if s.state == S.unit_publicity:
        if cmd.actor.role != "unit_reviewer" or cmd.actor.org != s.declaration.unit_id:
            return Refusal(
                "not_resolver",
                "单位内部公示的异议由申报人所在单位处理 / the applicant's unit resolves it",
            )
        if cmd.upheld and cmd.outcome is None:
            return Refusal(
                "outcome_required",
                "异议成立时须选择退回或不予推荐 / an upheld objection needs outcome return or reject",
            )
    elif cmd.actor.role != "committee":
        return Refusal(
            "not_resolver", "评审结果公示的异议由评审委员会处理 / the committee resolves it"
        )
    return None


def apply_resolution(
    chain: Chain, cmd: ObjectionResolutionCommand, now: datetime, prepared: Prepared
) -> Step:
    s = chain.s
    objection = next(o for o in s.objections if o.id == cmd.objection_id)
    objection.resolved, objection.upheld = True, cmd.upheld
    detail = {"objection_id": objection.id, "upheld": cmd.upheld, "outcome": cmd.outcome}
    action = "objection.upheld" if cmd.upheld else "objection.dismissed"
    if cmd.upheld and s.state == S.unit_publicity:
        if cmd.outcome == "return":
            review.return_for_correction(
                chain, cmd.actor, action, "unit_review", now, opinion=cmd.opinion, detail=detail
            )
        else:
            chain.move(cmd.actor, action, S.rejected, now, opinion=cmd.opinion, detail=detail)
        chain.effect(Effect(kind="close_publicity", publicity="unit_publicity", start=now))
    elif cmd.upheld:
        chain.move(cmd.actor, action, S.not_approved, now, opinion=cmd.opinion, detail=detail)
        chain.effect(Effect(kind="close_publicity", publicity="result_publicity", start=now))
    else:
        st = s.state.value
        chain.record(cmd.actor, action, st, st, now, opinion=cmd.opinion, detail=detail)
        chain.effects(after_publicity(chain, now))
        if s.state.value == st:  # still in the publicity: it may no longer wait on anyone
            notifications.notify_transition(chain, now)
    return Step()


def ended(chain: Chain, now: datetime) -> None:
    """The publicity's period has passed (the workflow's timer)."""
    s = chain.s
    deadline = s.computed["publicity_ends"]
    s.publicity_over = True
    kind = s.state.value
    chain.record(
        SYSTEM,
        f"timer.{kind}_ended",
        kind,
        kind,
        now,
        detail={
            "deadline": as_of(deadline.at),
            "explanation": deadline.explanation.model_dump(mode="json"),
            "open_objections": open_objections(chain),
        },
    )
    chain.effect(Effect(kind="close_publicity", publicity=kind, start=now))
    chain.effects(after_publicity(chain, now))


def after_publicity(chain: Chain, now: datetime) -> list[Effect]:
    """Move on once the publicity has ended and no objection is open."""
    s = chain.s
    if not s.publicity_over or open_objections(chain):
        return []
    if s.state == S.unit_publicity:
        s.unit_publicity_passed = True
        chain.move(SYSTEM, "unit_publicity.completed", S.unit_recommendation, now)
        return []
    if s.state == S.result_publicity:
        if s.campaign.result_confirmation_required:
            chain.move(SYSTEM, "result_publicity.completed", S.result_confirmation, now)
            return []
        return [Effect(kind="announce")]
    return []


def interrupt(chain: Chain, before: StateName, now: datetime) -> None:
    """A publicity still running when the declaration ends (withdrawal, misconduct, the
    declaration deadline) is closed as interrupted, so none stays open for an ended one."""
    if before in (S.unit_publicity, S.result_publicity) and not chain.s.publicity_over:
        chain.effect(
            Effect(kind="close_publicity", publicity=before.value, start=now, interrupted=True)
        )
