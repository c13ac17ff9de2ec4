"""Campaign-wide changes that reach each open declaration: its deadlines moved (延期,
docs/rules.md §3) and a year's official calendar loaded (§7)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.chain import timers
from domain.chain.state import Effect, Prepared, Refusal, Step
from domain.deadline_changes import effective_deadlines
from domain.models import CalendarChangedCommand, DeadlineChangeCommand
from domain.states import StateName

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = [
    "apply_calendar_changed",
    "apply_change_deadlines",
    "refuse_calendar_changed",
    "refuse_change_deadlines",
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
    nothing re-armed), so a change delivered twice (a retried fan-out) is applied once;
    ``prepared.patched`` False is the behaviour before that rule, for replaying older
    histories."""
    s = chain.s
    old = s.deadlines
    effective = effective_deadlines(old, cmd.deadlines, cmd.changed_at)
    if prepared.patched and effective == old:
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
    if s.state == S.returned and s.returned_at is not None:
        chain.effect(Effect(kind="compute_correction"))
    timers.refresh_at_risk(chain, now)
    return Step()


def refuse_calendar_changed(
    chain: Chain, cmd: CalendarChangedCommand, now: datetime
) -> Refusal | None:
    return None


def apply_calendar_changed(
    chain: Chain, cmd: CalendarChangedCommand, now: datetime, prepared: Prepared
) -> Step:
    """docs/rules.md §7: loading a year's official data recomputes the provisional deadlines.

    With ``prepared.patched`` (False replays histories from before it), a declaration that has
    provisional deadlines records ``calendar.changed`` naming the year, version and the
    deadlines it recomputes; each recomputed deadline then records ``deadline.<kind>.recomputed``
    (moved) or ``.confirmed`` (same instant, now official), the at-risk instant included."""
    s = chain.s
    explain = prepared.patched
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
    if explain and recomputing:
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
        s.explain_at_risk = explain and at_risk_recomputed
        timers.refresh_at_risk(chain, now)
    return Step()
