"""The declaration page's picture of the chain (api/console/chain.py), from the view and the
history the API serves: which stages are done, who decided each, and which forms a caller gets.
The forms only offer; the workflow still decides (and refuses) each one."""

from __future__ import annotations

from typing import Any

from api.console.chain import actions_for, chain_steps
from domain.models import (
    Actor,
    ApplicantView,
    DeclarationView,
    DefenseView,
    FeeView,
    MaterialsView,
    PendingAction,
)
from testing import factories as f


def view(state: str, pending: tuple[str, str, str] | None = None, **fields: Any) -> dict:
    base = DeclarationView(
        id="D-1", campaign_id="c", level="deputy_senior", state=state, unit_id="U-001",
        authority_chain=["county-hr", "prefecture-transport"],
        applicant=ApplicantView(name="张三", id_number="1234567", unit_id="U-001",
                                affiliation=""),
        pending=PendingAction(role=pending[0], org=pending[1], action=pending[2])
        if pending else None,
        fee=FeeView(due=550), materials=MaterialsView(required=True),
        defense=DefenseView(required=True),
    )  # fmt: skip
    return base.model_copy(update=fields).model_dump(mode="json")


def event(seq: int, action: str, before: str | None, after: str, actor: Actor = f.UNIT,
          outcome: str = "accepted", **detail: Any) -> dict:  # fmt: skip
    return {"seq": seq, "at": "2024-09-25T02:00:00.000000Z", "actor_id": actor.id,
            "actor_role": actor.role, "actor_org": actor.org, "action": action,
            "stage_before": before, "stage_after": after, "outcome": outcome, "opinion": "",
            "reasons": [], "detail": detail}  # fmt: skip


def statuses(steps: list) -> dict[str, str]:
    return {s.state: s.status for s in steps}


def test_stages_before_the_current_are_done_and_carry_who_decided() -> None:
    events = [
        event(1, "created", None, "draft", f.APPLICANT),
        event(2, "submit", "draft", "unit_review", f.APPLICANT),
        event(3, "unit_review.approve", "unit_review", "unit_publicity"),
        event(4, "unit_review.approve", "unit_review", "unit_review", outcome="refused"),
        event(5, "deadlines.changed", "unit_publicity", "unit_publicity", f.COMMITTEE),
    ]
    steps = chain_steps(view("unit_publicity"), events)
    got = statuses(steps)
    assert [got[s] for s in ("draft", "unit_review", "unit_publicity", "unit_recommendation")] \
        == ["done", "done", "current", "todo"]  # fmt: skip
    by_state = {s.state: s for s in steps}
    assert [e["seq"] for e in by_state["draft"].decisions] == [2]  # not the filing
    assert [e["seq"] for e in by_state["unit_review"].decisions] == [3]  # not the refusal
    assert by_state["unit_publicity"].decisions == []  # a deadline change decides nothing
    assert "result_confirmation" not in got  # only where the campaign has it


def test_materials_received_before_the_fee_count_as_done_and_stages_not_needed_are_left_out() -> (
    None
):
    events = [event(9, "materials.received", "fee_pending", "fee_pending", f.COMMITTEE)]
    steps = chain_steps(
        view("fee_pending", materials=MaterialsView(required=True, received=True)), events
    )
    assert statuses(steps)["materials_pending"] == "done"
    assert [e["seq"] for e in {s.state: s for s in steps}["materials_pending"].decisions] == [9]
    exempt = chain_steps(view("fee_pending", defense=DefenseView(required=False)), [])
    assert "defense_pending" not in statuses(exempt)


def test_without_the_history_the_passed_stages_still_show_as_done() -> None:
    """Finance reads the view, not the history: every stage before the current was passed."""
    got = statuses(chain_steps(view("fee_pending"), []))
    assert got["authority_review"] == "done" and got["fee_pending"] == "current"
    direct = statuses(chain_steps(view("fee_pending", authority_chain=[]), []))
    assert direct["authority_review"] == "skipped"


def test_an_ended_declaration_stops_where_it_ended() -> None:
    events = [
        event(1, "created", None, "draft", f.APPLICANT),
        event(2, "submit", "draft", "unit_review", f.APPLICANT),
        event(3, "unit_review.reject", "unit_review", "rejected"),
    ]
    got = statuses(chain_steps(view("rejected"), events))
    assert got["unit_review"] == "done" and got["unit_publicity"] == "todo"


def test_each_role_gets_the_form_of_its_turn_only() -> None:
    unit_turn = view("unit_review", ("unit_reviewer", "U-001", "unit_review"))
    assert actions_for(f.UNIT, unit_turn) == ["decide"]
    assert actions_for(f.OTHER_UNIT, unit_turn) == []
    assert actions_for(f.APPLICANT, unit_turn) == ["withdraw"]
    assert actions_for(f.COMMITTEE, unit_turn) == ["record_misconduct"]
    publicity = view("unit_publicity", ("unit_reviewer", "U-001", "resolve_objections"))
    assert actions_for(f.UNIT, publicity) == ["resolve_objection", "lodge_objection"]
    assert actions_for(f.FINANCE, publicity) == ["lodge_objection"]
    fee = view("fee_pending", ("finance", "", "record_payment"))
    assert actions_for(f.FINANCE, fee) == ["record_payment"]
    assert actions_for(f.COMMITTEE, fee) == ["record_materials_received", "record_misconduct"]
    vote = view("committee_review", ("committee", "", "record_vote"))
    assert actions_for(f.COMMITTEE, vote) == ["record_vote", "record_misconduct"]
    assert actions_for(f.APPLICANT, view("certified")) == []
    assert actions_for(f.COMMITTEE, view("certified")) == ["record_misconduct"]  # revocation
    assert actions_for(f.COMMITTEE, view("withdrawn")) == []
