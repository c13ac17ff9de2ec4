"""Deadlines the workflow enforces itself (docs/rules.md §3): which ones are armed now, what
happens when one passes, deadlines computed by activities entering the state once, and the
at-risk warning (§10.2)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.chain import notifications, publicity, view
from domain.chain.state import Effect, Step
from domain.models import SYSTEM, AtRiskTable, ComputedDeadline, as_of
from domain.periods import working_days_needed
from domain.states import BEFORE_COMMITTEE, StateName

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = [
    "ACCEPTANCE_AT_RISK_DAYS",
    "ACCEPTANCE_MIN_DAYS",
    "acceptance_deadline",
    "acceptance_limit",
    "active_declaration_deadline",
    "correction_to_compute",
    "expire",
    "max_working_days_needed",
    "next_timer",
    "on_acceptance_table",
    "on_at_risk_table",
    "on_deadline",
    "refresh_at_risk",
    "timers",
]

S = StateName


def active_declaration_deadline(chain: Chain) -> datetime | None:
    """The declaration deadline, where it still applies: to a declaration not yet at the committee
    for the first time (``committee_arrival``), or only to one never submitted
    (``applicant_submit``)."""
    s = chain.s
    if s.campaign.deadline_applies_to == "applicant_submit":
        return s.deadlines.declaration_closes_at if s.state == S.draft else None
    if s.reached_committee or s.state not in BEFORE_COMMITTEE:
        return None
    return s.deadlines.declaration_closes_at


def timers(chain: Chain) -> dict[str, datetime]:
    """Every deadline the workflow must sleep on now, by kind."""
    s, out = chain.s, {}
    declaration = active_declaration_deadline(chain)
    if declaration is not None:
        out["declaration"] = declaration
    if s.state == S.returned and "correction" in s.computed:
        out["correction"] = s.computed["correction"].at
    if (
        s.state in (S.unit_publicity, S.result_publicity)
        and not s.publicity_over
        and "publicity_ends" in s.computed
    ):
        out["publicity_ends"] = s.computed["publicity_ends"].at
    if s.state in (S.fee_pending, S.materials_pending):
        if not s.fee_paid and not s.fee_late and s.deadlines.fee_deadline:
            out["fee"] = s.deadlines.fee_deadline
        if (
            s.materials_required
            and not s.materials_received
            and not s.materials_late
            and s.deadlines.materials_deadline
        ):
            out["materials"] = s.deadlines.materials_deadline
    if not s.at_risk and s.state in BEFORE_COMMITTEE and "at_risk_from" in s.computed:
        out["at_risk_from"] = s.computed["at_risk_from"].at
    risky = acceptance_limit(chain, ACCEPTANCE_AT_RISK_DAYS)
    if not s.at_risk and s.state == S.committee_formal_review and risky is not None:
        out["acceptance_at_risk"] = risky.at
    return out


def next_timer(chain: Chain) -> tuple[str, datetime] | None:
    armed = timers(chain)
    if not armed:
        return None
    kind = min(armed, key=lambda k: (armed[k], k))
    return kind, armed[kind]


def expire(chain: Chain, kind: str, now: datetime) -> Step:
    """A deadline passed: the workflow enforces it itself, as the system actor."""
    s = chain.s
    if kind == "declaration":
        before = s.state
        to = S.not_accepted if before == S.returned else S.abandoned
        publicity.interrupt(chain, before, now)
        chain.move(
            SYSTEM,
            "timer.declaration_deadline",
            to,
            now,
            detail={
                "deadline": as_of(s.deadlines.declaration_closes_at),
                "explanation": view.declaration_explanation(chain),
                "rule": "001 一(一) 视为放弃 / 四(一)1 退回后超过申报时限的不予受理",
            },
        )
    elif kind == "correction":
        deadline = s.computed["correction"]
        chain.move(
            SYSTEM,
            "timer.correction_window",
            S.not_accepted,
            now,
            detail={
                "deadline": as_of(deadline.at),
                "explanation": deadline.explanation.model_dump(mode="json"),
            },
        )
    elif kind == "publicity_ends":
        publicity.ended(chain, now)
    elif kind in ("fee", "materials"):
        _fee_or_materials_late(chain, kind, now)
    elif kind in ("at_risk_from", "acceptance_at_risk"):
        s.at_risk = True
        st = s.state.value
        limit = s.computed.get("at_risk_from") or acceptance_limit(chain, ACCEPTANCE_AT_RISK_DAYS)
        assert limit is not None
        chain.record(
            SYSTEM,
            "timer.at_risk",
            st,
            st,
            now,
            detail={"explanation": limit.explanation.model_dump(mode="json")},
        )
        notifications.notify_transition(chain, now)
    else:  # pragma: no cover - the workflow only passes kinds from timers()
        raise ValueError(f"unknown timer {kind}")
    return Step()


def _fee_or_materials_late(chain: Chain, kind: str, now: datetime) -> None:
    """docs/rules.md §3: a late fee or late paper materials abandon the declaration, or are
    flagged for the committee to decide (``late_payment`` / ``late_materials``)."""
    s = chain.s
    policy = s.campaign.late_payment if kind == "fee" else s.campaign.late_materials
    instant = s.deadlines.fee_deadline if kind == "fee" else s.deadlines.materials_deadline
    detail = {"deadline": as_of(instant) if instant else None, "policy": policy}
    if policy == "abandon":
        chain.move(SYSTEM, f"timer.{kind}_deadline", S.abandoned, now, detail=detail)
        return
    if kind == "fee":
        s.fee_late = True
    else:
        s.materials_late = True
    flag = f"{kind}_late"
    if flag not in s.flags:
        s.flags.append(flag)
    st = s.state.value
    chain.record(SYSTEM, f"timer.{kind}_deadline", st, st, now, detail=detail)


def correction_to_compute(chain: Chain) -> bool:
    """A return has a deadline to compute: a correction window, or the review's end
    (docs/rules.md §3); without either, the committee closes the review."""
    s = chain.s
    return s.campaign.correction_window_days is not None or s.deadlines.review_closes_at is not None


# ---------------------------------------------------------------------- late acceptance

#: docs/rules.md §2.6: acceptance is refused when less than this many full working days remain
#: before the fee or materials deadline; the declaration is at risk within the second number.
ACCEPTANCE_MIN_DAYS = 1
ACCEPTANCE_AT_RISK_DAYS = 3


def acceptance_deadline(chain: Chain) -> datetime | None:
    """The earlier of the fee deadline and (where paper is asked for) the materials deadline:
    what formal acceptance must leave time for."""
    s = chain.s
    deadlines = [s.deadlines.fee_deadline]
    if s.materials_required:
        deadlines.append(s.deadlines.materials_deadline)
    found = [d for d in deadlines if d is not None]
    return min(found) if found else None


def acceptance_limit(chain: Chain, days: int) -> ComputedDeadline | None:
    """From when fewer than ``days`` full working days remain before :func:`acceptance_deadline`
    (None before the table is computed, or without such a deadline)."""
    table = chain.s.acceptance_table
    if table is None or table.until != acceptance_deadline(chain):
        return None
    return table.instants.get(days)


def on_acceptance_table(chain: Chain, table: AtRiskTable, now: datetime) -> None:
    """The working-day limits of formal acceptance, computed once on arrival (and after a
    deadline change); a declaration already inside the at-risk days is flagged now."""
    s = chain.s
    s.acceptance_table = table
    risky = acceptance_limit(chain, ACCEPTANCE_AT_RISK_DAYS)
    inside = s.state == S.committee_formal_review and risky is not None and now >= risky.at
    if inside and not s.at_risk and risky is not None:
        s.at_risk = True
        st = s.state.value
        detail = {"explanation": risky.explanation.model_dump(mode="json")}
        chain.record(SYSTEM, "timer.at_risk", st, st, now, detail=detail)
        notifications.notify_transition(chain, now)


# ---------------------------------------------------------------------- the at-risk warning


def max_working_days_needed(chain: Chain) -> int:
    """The most the chain can ever need before the committee: the size of the table."""
    return chain.s.campaign.unit_publicity_working_days + 1 + len(chain.authority_chain)


def needed_working_days(chain: Chain) -> int:
    s = chain.s
    left = len(chain.authority_chain) - s.authority_index
    return working_days_needed(
        s.state.value,
        authority_levels_left=left,
        publicity_started=s.state != S.unit_review and s.publicity_started_at is not None,
        campaign=s.campaign,
    )


def refresh_at_risk(chain: Chain, now: datetime) -> None:
    """docs/rules.md §10.2, after every transition: pick the at-risk instant for what the chain
    still needs from the table; ask for the table when the declaration deadline has none yet."""
    s = chain.s
    until = active_declaration_deadline(chain)
    if until is None:
        risky = acceptance_limit(chain, ACCEPTANCE_AT_RISK_DAYS)
        s.at_risk = s.state == S.committee_formal_review and risky is not None and now >= risky.at
        s.computed.pop("at_risk_from", None)
        return
    table = s.at_risk_table
    if table is None or table.until != until:
        chain.effect(Effect(kind="compute_at_risk"))
        return
    computed = table.instants.get(needed_working_days(chain))
    if computed is None:
        s.at_risk = False
        s.computed.pop("at_risk_from", None)
        return
    on_deadline(chain, "at_risk_from", computed, now)


def on_at_risk_table(chain: Chain, table: AtRiskTable, now: datetime) -> None:
    chain.s.at_risk_table = table
    refresh_at_risk(chain, now)
    chain.s.explain_at_risk = False


# ---------------------------------------------------------------------- computed deadlines


def on_deadline(chain: Chain, kind: str, computed: ComputedDeadline, now: datetime) -> None:
    """A deadline computed by an activity enters the state (and so the history) once."""
    s = chain.s
    previous = s.computed.get(kind)
    if kind == "correction" and s.state != S.returned:
        return
    if kind == "publicity_ends" and s.state not in (S.unit_publicity, S.result_publicity):
        return
    s.computed[kind] = computed
    st = s.state.value
    explanation = computed.explanation.model_dump(mode="json")
    if kind == "at_risk_from":
        was, s.at_risk = s.at_risk, now >= computed.at
        if s.explain_at_risk:
            explain_recomputed(chain, kind, previous, computed, now)
        if s.at_risk != was:
            detail = {"at_risk": s.at_risk, "explanation": explanation}
            chain.record(SYSTEM, "at_risk.changed", st, st, now, detail=detail)
            notifications.notify_transition(chain, now)
        return
    if previous is not None and previous.at == computed.at:
        if previous.explanation.provisional and not computed.explanation.provisional:
            detail = {"at": as_of(computed.at), "explanation": explanation}
            chain.record(SYSTEM, f"deadline.{kind}.confirmed", st, st, now, detail=detail)
    elif previous is not None:
        detail = {
            "before": as_of(previous.at),
            "after": as_of(computed.at),
            "explanation": explanation,
        }
        chain.record(SYSTEM, f"deadline.{kind}.recomputed", st, st, now, detail=detail)
        notifications.notify_transition(chain, now)
    else:
        detail = {
            "at": as_of(computed.at),
            "first_day": computed.first_day.isoformat() if computed.first_day else None,
            "last_day": computed.last_day.isoformat() if computed.last_day else None,
            "explanation": explanation,
        }
        chain.record(SYSTEM, f"deadline.{kind}.set", st, st, now, detail=detail)
        notifications.notify_transition(chain, now)


def explain_recomputed(
    chain: Chain,
    kind: str,
    previous: ComputedDeadline | None,
    computed: ComputedDeadline,
    now: datetime,
) -> None:
    """Audit a deadline recomputed after a calendar change: moved, or confirmed."""
    st = chain.s.state.value
    explanation = computed.explanation.model_dump(mode="json")
    if previous is None or previous.at != computed.at:
        before = as_of(previous.at) if previous is not None else None
        detail = {"before": before, "after": as_of(computed.at), "explanation": explanation}
        chain.record(SYSTEM, f"deadline.{kind}.recomputed", st, st, now, detail=detail)
    elif previous.explanation.provisional and not computed.explanation.provisional:
        detail = {"at": as_of(computed.at), "explanation": explanation}
        chain.record(SYSTEM, f"deadline.{kind}.confirmed", st, st, now, detail=detail)
