"""Campaign-wide changes that reach each open declaration: its deadlines moved (延期,
docs/rules.md §3), the review closed by the committee (§3) and a year's official calendar
loaded (§7)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.chain import timers
from domain.chain.state import DEADLINE_CHANGE_NOOP, Effect, Prepared, Refusal, Step
from domain.deadline_changes import effective_deadlines
from domain.models import (
    CalendarChangedCommand,
    CloseReviewCommand,
    DeadlineChangeCommand,
    Reopening,
    as_of,
)
from domain.states import StateName

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = [
    "REOPENABLE",
    "apply_calendar_changed",
    "apply_change_deadlines",
    "apply_close_review",
    "refuse_calendar_changed",
    "refuse_change_deadlines",
    "refuse_close_review",
    "reopen",
]

S = StateName


def refuse_change_deadlines(
    chain: Chain, cmd: DeadlineChangeCommand, now: datetime
) -> Refusal | None:
    return None  # the table's roles say who may; any open declaration takes it


def apply_change_deadlines(
    chain: Chain, cmd: DeadlineChangeCommand, now: datetime, prepared: Prepared
) -> Step:
    """延期. A change whose effective deadlines equal the current ones is a no-op (no event,
    nothing re-armed), so a change delivered twice (a retried fan-out) is applied once."""
    s = chain.s
    old = s.deadlines
    effective = effective_deadlines(old, cmd.deadlines, cmd.changed_at)
    if chain.rules.enabled(DEADLINE_CHANGE_NOOP) and effective == old:
        return Step(result={"unchanged": True})
    s.deadlines = effective
    st = s.state.value
    chain.record(
        cmd.actor,
        "deadlines.changed",
        st,
        st,
        now,
        detail={
            "requested": cmd.deadlines.model_dump(mode="json"),
            "before": old.model_dump(mode="json"),
            "effective": s.deadlines.model_dump(mode="json"),
            "rule": "§3 延期: moved earlier takes effect no earlier than 24 h later",
        },
    )
    if s.state == S.returned and s.returned_at is not None and timers.correction_to_compute(chain):
        chain.effect(Effect(kind="compute_correction"))
    timers.refresh_at_risk(chain, now)
    return Step()


def refuse_close_review(chain: Chain, cmd: CloseReviewCommand, now: datetime) -> Refusal | None:
    closes = chain.s.deadlines.review_closes_at
    if closes is not None:
        return Refusal(
            "review_window_set",
            f"本次评审的审核截止时间为 {as_of(closes)}，届时由系统处理 / the review closes by itself "
            f"at {as_of(closes)}",
        )
    return None


def apply_close_review(
    chain: Chain, cmd: CloseReviewCommand, now: datetime, prepared: Prepared
) -> Step:
    """docs/rules.md §3: where the notice sets no correction window and the campaign has no
    ``review_closes_at``, a returned declaration may be corrected until the committee closes the
    review; then it ends as ``not_accepted``. Any other state: nothing to do."""
    s = chain.s
    if s.state != S.returned:
        return Step(result={"unchanged": True})
    chain.move(
        cmd.actor,
        "review.closed",
        S.not_accepted,
        now,
        detail={
            "closed_at": as_of(cmd.closed_at),
            "rule": "§3 退回后未在评审结束前重新提交，不予受理 / not resubmitted before the review closed",
        },
    )
    return Step()


def refuse_calendar_changed(
    chain: Chain, cmd: CalendarChangedCommand, now: datetime
) -> Refusal | None:
    return None


def apply_calendar_changed(
    chain: Chain, cmd: CalendarChangedCommand, now: datetime, prepared: Prepared
) -> Step:
    """docs/rules.md §7: loading a year's official data recomputes the provisional deadlines.

    A declaration that has provisional deadlines records ``calendar.changed`` naming the year,
    version and the deadlines it recomputes; each recomputed deadline then records
    ``deadline.<kind>.recomputed`` (moved) or ``.confirmed`` (same instant, now official), the
    at-risk instant included."""
    s = chain.s
    recomputing: list[str] = []
    for kind, computed in list(s.computed.items()):
        if not computed.explanation.provisional:
            continue
        if kind == "correction" and s.state == S.returned:
            chain.effect(Effect(kind="compute_correction"))
            recomputing.append(kind)
        elif kind == "publicity_ends" and not s.publicity_over:
            publicity = s.state.value
            if publicity in ("unit_publicity", "result_publicity"):
                chain.effect(
                    Effect(kind="open_publicity", publicity=publicity, start=s.publicity_started_at)
                )
                recomputing.append(kind)
    table = s.at_risk_table
    stale_table = table is not None and any(
        c.explanation.provisional for c in table.instants.values()
    )
    # The at-risk instant only matters while the declaration deadline still applies.
    at_risk_recomputed = stale_table and timers.active_declaration_deadline(chain) is not None
    if at_risk_recomputed:
        recomputing.append("at_risk_from")
    if recomputing:
        st = s.state.value
        chain.record(
            cmd.actor,
            "calendar.changed",
            st,
            st,
            now,
            detail={
                "year": cmd.year,
                "version": cmd.version,
                "recomputing": sorted(recomputing),
                "rule": "§7 loading a year's official data recomputes provisional deadlines",
            },
        )
    if stale_table:
        s.at_risk_table = None
        s.explain_at_risk = at_risk_recomputed
        timers.refresh_at_risk(chain, now)
    return Step()


#: Deadlines whose ending an extension may undo, and the campaign deadline each one is.
REOPENABLE = {
    "timer.declaration_deadline": "declaration_closes_at",
    "timer.fee_deadline": "fee_deadline",
    "timer.materials_deadline": "materials_deadline",
}


def reopen(chain: Chain, reopening: Reopening, now: datetime) -> None:
    """docs/rules.md §3: an extension announced after a deadline ended the declaration reopens
    it: it continues from the state it was in when it ended, with the new deadlines, and the
    reopening is audited. A unit publicity cut short starts again (its days must run whole)."""
    s = chain.s
    resume = StateName(reopening.resume)
    s.deadlines = reopening.deadlines
    if reopening.ended_by == "timer.fee_deadline":
        s.fee_late = False
    if reopening.ended_by == "timer.materials_deadline":
        s.materials_late = False
    detail = {
        "ended_by": reopening.ended_by,
        "change_id": reopening.change_id,
        "deadlines": reopening.deadlines.model_dump(mode="json"),
        "rule": "§3 延期: an extension after the deadline reopens the declarations it ended",
    }
    if resume == S.unit_publicity:
        s.publicity_over = False
        s.publicity_started_at = now
    chain.move(reopening.actor, "reopened", resume, now, detail=detail)
    if resume == S.unit_publicity:
        chain.effect(Effect(kind="open_publicity", publicity="unit_publicity", start=now))
    if resume == S.returned and s.returned_at is not None and timers.correction_to_compute(chain):
        chain.effect(Effect(kind="compute_correction"))
