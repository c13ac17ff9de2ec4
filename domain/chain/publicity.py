"""The two publicities (公示, docs/rules.md §2.2, §2.3, §2.9): objections lodged during them, their
resolution, and what happens when a publicity ends or is cut short."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.chain import review
from domain.chain.state import Effect, Prepared, Refusal, Step, wrong_state
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
    return None


def apply_objection(chain: Chain, cmd: ObjectionCommand, now: datetime, prepared: Prepared) -> Step:
    s = chain.s
    objection = ObjectionView(
        id=f"obj-{s.seq + 1}",
        publicity=s.state.value,
        lodged_at=now,
        lodged_by=cmd.actor.id,
        text=cmd.text,
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
