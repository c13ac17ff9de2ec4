"""The declaration page's picture of the chain: its stages as a timeline, who decided each, and
which forms the signed-in caller gets now.

Everything here reads the view and the history the API serves (already masked for the committee
under blind review); the rules stay with the workflow. A form shown here can still be refused:
the workflow decides, and the page then shows its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.commands import COMMANDS
from domain.models import SYSTEM, Actor
from domain.states import FINAL, MAIN_CHAIN, PUBLICITIES, TERMINAL

__all__ = ["MAIN_CHAIN", "Step", "actions_for", "chain_steps", "is_person"]

REVIEW_STAGES = frozenset(
    {
        "entrustment_review",
        "unit_review",
        "unit_recommendation",
        "authority_review",
        "committee_formal_review",
        "result_confirmation",
    }
)


def _roles(command: str) -> frozenset[str]:
    return COMMANDS[command].roles


REVIEWERS = _roles("decide")
RESOLVERS = _roles("resolve_objection")
MISCONDUCT_FINDERS = _roles("record_misconduct")
COMMITTEE = _roles("record_vote")
FINANCE = _roles("record_payment")
APPLICANTS = _roles("submit")


@dataclass
class Step:
    state: str
    #: ``done``, ``current``, ``todo`` or ``skipped`` (passed over: not needed for this one).
    status: str
    #: The people's accepted decisions that moved the declaration out of (or within) this stage.
    decisions: list[dict[str, Any]] = field(default_factory=list)
    #: Deadlines set or moved during this stage, each with its explanation (§10.1).
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


#: Decisions recorded while the declaration waits elsewhere: paper materials may arrive while
#: the fee is still due (§2.6), so they belong to the stage they complete, not the one they
#: were taken in.
ACTION_STAGE: dict[str, str] = {
    "payment.recorded": "fee_pending",
    "materials.received": "materials_pending",
    "defense.recorded": "defense_pending",
    "vote.recorded": "committee_review",
}


def is_person(event: dict[str, Any]) -> bool:
    return bool(event.get("actor_id") != SYSTEM.id)


def _decides(event: dict[str, Any]) -> bool:
    """A person's accepted decision on the declaration itself (not its filing, nor a change
    of campaign deadlines or calendar that reached it)."""
    action = str(event["action"])
    return (
        event["outcome"] == "accepted"
        and is_person(event)
        and action != "created"
        and not action.startswith(("deadline", "calendar", "change_deadlines"))
    )


def _stage_of(event: dict[str, Any]) -> str:
    return ACTION_STAGE.get(str(event["action"]), str(event["stage_before"] or ""))


def _optional_stage(state: str, view: dict[str, Any], visited: set[str]) -> bool:
    """Whether a stage some declarations skip belongs on this one's chain."""
    if state in visited or state == view["state"]:
        return True
    if state == "entrustment_review":
        return view.get("route") == "entrusted"
    if state == "materials_pending":
        return bool(view["materials"]["required"])
    if state == "defense_pending":
        return bool(view["defense"]["required"])
    # result_confirmation only where the campaign asks for it, and then it shows once reached
    return state != "result_confirmation"


def _passed(state: str, view: dict[str, Any], events: list[dict[str, Any]]) -> bool:
    """Whether a stage before the current one was passed through, for a caller who may not
    read the history (finance): every stage of the chain was, but an authority review with no
    authority on the chain."""
    if events:
        return False
    return state != "authority_review" or bool(view.get("authority_chain"))


def chain_steps(view: dict[str, Any], events: list[dict[str, Any]]) -> list[Step]:
    """The main chain, each stage done, current, to do or skipped, with who decided it."""
    state = view["state"]
    visited = {e["stage_after"] for e in events if e["outcome"] == "accepted" and e["stage_after"]}
    visited |= {e["stage_before"] for e in events if e["stage_before"]}
    visited |= {_stage_of(e) for e in events if _decides(e)}
    visited.add(state)
    reached = [i for i, s in enumerate(MAIN_CHAIN) if s in visited]
    here = MAIN_CHAIN.index(state) if state in MAIN_CHAIN else max(reached, default=0)
    # Fee and paper materials run in parallel (§2.6): either may be done before its turn.
    settled = {"fee_pending"} if view["fee"]["paid"] else set()
    if view["materials"]["required"] and view["materials"]["received"]:
        settled.add("materials_pending")
    steps = []
    for index, name in enumerate(MAIN_CHAIN):
        if not _optional_stage(name, view, visited):
            continue
        if name == state:
            status = "current"
        elif name in settled:
            status = "done"
        elif index < here or (index == here and state not in MAIN_CHAIN):
            status = "done" if name in visited or _passed(name, view, events) else "skipped"
        else:
            status = "todo"
        decided = [e for e in events if _decides(e) and _stage_of(e) == name]
        timed = [
            e
            for e in events
            if e["stage_before"] == name
            and str(e["action"]).startswith("deadline.")
            and isinstance(e["detail"].get("explanation"), dict)
        ]
        note = ""
        if name == "authority_review" and view.get("authority_chain"):
            note = " → ".join(view["authority_chain"])
        steps.append(Step(state=name, status=status, decisions=decided, deadlines=timed, note=note))
    return steps


def _my_turn(actor: Actor, view: dict[str, Any]) -> bool:
    pending = view.get("pending") or {}
    if pending.get("role") != actor.role:
        return False
    org = pending.get("org") or ""
    return not org or org == actor.org or actor.role in COMMITTEE | FINANCE


def actions_for(actor: Actor, view: dict[str, Any]) -> list[str]:
    """The forms this caller gets on the page now: command names (``domain.commands``), each a
    block of ``_actions.html``."""
    state = view["state"]
    out: list[str] = []
    if _my_turn(actor, view):
        if state in ("draft", "returned") and actor.role in APPLICANTS:
            out.append("submit")
        elif state in REVIEW_STAGES and actor.role in REVIEWERS:
            out.append("decide")
        elif state in PUBLICITIES and actor.role in RESOLVERS:
            out.append("resolve_objection")
        elif state == "fee_pending" and actor.role in FINANCE:
            out.append("record_payment")
        elif state == "defense_pending" and actor.role in COMMITTEE:
            out.append("record_defense")
        elif state == "committee_review" and actor.role in COMMITTEE:
            out.append("record_vote")
    materials = view["materials"]
    if (
        actor.role in COMMITTEE
        and state in ("fee_pending", "materials_pending")
        and materials["required"]
        and not materials["received"]
    ):
        out.append("record_materials_received")
    if state in PUBLICITIES:
        out.append("lodge_objection")
    if actor.role in APPLICANTS and state not in TERMINAL:
        out.append("withdraw")
    if actor.role in MISCONDUCT_FINDERS and state not in FINAL:
        out.append("record_misconduct")
    return out
