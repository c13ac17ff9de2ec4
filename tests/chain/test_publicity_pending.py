"""A publicity runs out by itself (docs/rules.md §2.2, §2.9): it waits on no one, so the view's
``pending`` is empty, unless an objection lodged in it is open; then the unit (unit publicity) or
the committee (result publicity) must resolve it by the publicity's end, and is told so."""

from __future__ import annotations

from domain.chain import view
from domain.models import (
    DecisionCommand,
    DefenseCommand,
    MaterialsReceivedCommand,
    ObjectionCommand,
    ObjectionResolutionCommand,
    PaymentCommand,
)
from domain.states import StateName as S
from testing import factories as f
from tests.chain.driver import Driver
from tests.chain.test_paths import NOW, decide, submit, to_committee, vote


def told(d: Driver, role: str) -> list[str]:
    """The ``action_required`` notices written so far for ``role``."""
    return [
        n.text for n in d.notifications if n.kind == "action_required" and n.recipient_role == role
    ]


def test_unit_publicity_waits_on_the_unit_only_while_an_objection_is_open() -> None:
    d = Driver(NOW)
    submit(d)
    before = len(told(d, "unit_reviewer"))
    d.do(decide(f.UNIT, "unit_review", "approve", opinion="材料真实完整"))
    assert d.state == S.unit_publicity
    assert d.chain.view().pending is None
    assert view.pending(d.chain) is None
    assert len(told(d, "unit_reviewer")) == before  # nothing to do: nobody is told to act

    oid = d.do(ObjectionCommand(actor=f.ANYONE, text="学历存疑")).result["objection_id"]
    pending = d.chain.view().pending
    assert pending is not None
    assert (pending.role, pending.org, pending.action) == (
        "unit_reviewer",
        f.UNIT.org,
        "resolve_objections",
    )
    assert pending.due_at == d.chain.s.computed["publicity_ends"].at
    assert len(told(d, "unit_reviewer")) == before + 1  # the objection is theirs to resolve

    d.do(
        ObjectionResolutionCommand(
            actor=f.UNIT, objection_id=oid, upheld=False, opinion="经核实不成立"
        )
    )
    assert d.state == S.unit_publicity  # the period runs on
    assert d.chain.view().pending is None


def test_result_publicity_waits_on_the_committee_only_while_an_objection_is_open() -> None:
    d = Driver(NOW)
    to_committee(d)
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=550, receipt_no="R-1"))
    d.do(MaterialsReceivedCommand(actor=f.COMMITTEE, form_id="RF-1"))
    d.do(DefenseCommand(actor=f.COMMITTEE, passed=True, mode="video"))
    d.do(vote())
    assert d.state == S.result_publicity
    assert d.chain.view().pending is None

    oid = d.do(ObjectionCommand(actor=f.ANYONE, text="论文存疑")).result["objection_id"]
    pending = d.chain.view().pending
    assert pending is not None and (pending.role, pending.action) == (
        "committee",
        "resolve_objections",
    )
    d.do(ObjectionResolutionCommand(actor=f.COMMITTEE, objection_id=oid, upheld=False))
    assert d.chain.view().pending is None


def test_an_objection_resolved_after_the_period_lets_the_declaration_move_on() -> None:
    """Once the period has ended with the objection open, resolving it moves the declaration
    on, and the next stage waits on the unit again (its recommendation)."""
    d = Driver(NOW)
    submit(d)
    d.do(DecisionCommand(actor=f.UNIT, stage="unit_review", outcome="approve"))
    oid = d.do(ObjectionCommand(actor=f.ANYONE, text="x")).result["objection_id"]
    d.advance_to(d.chain.s.computed["publicity_ends"].at)
    assert d.state == S.unit_publicity
    assert d.chain.view().pending is not None  # overdue: the unit still has to resolve it
    d.do(ObjectionResolutionCommand(actor=f.UNIT, objection_id=oid, upheld=False))
    assert d.state == S.unit_recommendation
    pending = d.chain.view().pending
    assert pending is not None and pending.action == "recommend"
