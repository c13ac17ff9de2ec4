"""The paths the reliability runs drive declarations through, one :class:`Plan` each.

Paths never wait for a publicity to end (it takes five real working days on a dev server): four
of them end during the unit publicity; the committee path starts its declaration at committee
formal review, carried in the way continue-as-new carries a declaration.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.chain import Chain
from domain.models import (
    Actor,
    Campaign,
    Command,
    DecisionCommand,
    DeclarationStart,
    DeclarationView,
    DefenseCommand,
    MaterialsReceivedCommand,
    MisconductCommand,
    ObjectionCommand,
    ObjectionLodged,
    ObjectionResolutionCommand,
    PaymentCommand,
    SubmitCommand,
    VoteCommand,
    WithdrawCommand,
)
from domain.states import StateName
from testing import factories as f


@dataclass(frozen=True)
class Step:
    """One decision: the update, its command, and what the audit trail must show for it."""

    update: str
    cmd: Command
    action: str
    refused: bool = False
    result_type: type[DeclarationView] = DeclarationView


@dataclass
class Plan:
    """One declaration: how it starts, its steps, and the state its path ends in."""

    path: str
    start: DeclarationStart
    steps: list[Step]
    final: str
    #: Steps that need the id of the objection lodged before them.
    objection_id: str | None = None


def _actors(i: int) -> tuple[Actor, Actor, Actor]:
    unit_id = f"U-{i:05d}"
    applicant = Actor(id=f"applicant-{i:05d}", role="applicant")
    unit = Actor(id=f"unit-reviewer-{i:05d}", role="unit_reviewer", org=unit_id)
    stranger = Actor(id=f"unit-reviewer-x{i:05d}", role="unit_reviewer", org=f"X-{i:05d}")
    return applicant, unit, stranger


def _start(campaign: Campaign, i: int, now: datetime) -> DeclarationStart:
    applicant, unit, _ = _actors(i)
    person = f.applicant(id_number=f"RL{i:06d}{uuid.uuid4().hex[:12].upper()}")  # one each
    decl = f.declaration(campaign, unit_id=unit.org, applicant=person)
    return DeclarationStart(
        declaration_id=f"D-rel-{uuid.uuid4().hex[:10]}",
        campaign=campaign,
        declaration=decl,
        filed_by=applicant,
        created_at=now,
    )


def _at_committee(start: DeclarationStart) -> DeclarationStart:
    """The declaration as it stands on its first arrival at committee formal review (the state
    continue-as-new would carry): its trail starts with the committee's decisions."""
    s = Chain.start(start).s
    s.state = StateName.committee_formal_review
    s.reached_committee = True
    s.committee_submissions = s.applicant_submissions = 1
    s.authority_index = len(start.declaration.authority_chain)
    s.seq, s.last_event_at = 0, None
    return start.model_copy(update={"carried": s.model_dump(mode="json")})


def _decide(actor: Actor, stage: str, outcome: str, **kw: Any) -> Step:
    if outcome != "approve":
        kw.setdefault("opinion", "材料需补正")
    return Step("decide", DecisionCommand(actor=actor, stage=stage, outcome=outcome, **kw),
                f"{stage}.{outcome}")  # fmt: skip


PATHS = ("objection_upheld_rejected", "withdrawn_in_publicity", "disqualified", "committee")


def plan(campaign: Campaign, i: int, now: datetime) -> Plan:
    """The i-th declaration's path (the four paths in turn)."""
    applicant, unit, stranger = _actors(i)
    path = PATHS[i % len(PATHS)]
    start = _start(campaign, i, now)
    submit = Step("submit", SubmitCommand(actor=applicant), "submit")
    resubmit = Step("submit", SubmitCommand(actor=applicant), "resubmit")
    lodge = Step("lodge_objection", ObjectionCommand(actor=f.ANYONE, text="举报：业绩材料存疑"),
                 "objection.lodged", result_type=ObjectionLodged)  # fmt: skip
    refused = Step("decide", DecisionCommand(actor=stranger, stage="unit_review",
                                             outcome="approve"), "decide", refused=True)  # fmt: skip
    if path == "objection_upheld_rejected":
        steps = [
            submit, refused,
            _decide(unit, "unit_review", "return", reasons=["missing_material"]),
            resubmit,
            _decide(unit, "unit_review", "approve", opinion="材料真实完整"),
            lodge,
            Step("resolve_objection", ObjectionResolutionCommand(
                actor=unit, objection_id="?", upheld=True, opinion="情况属实", outcome="return"),
                "objection.upheld"),
            resubmit,
            _decide(unit, "unit_review", "reject", opinion="不符合申报条件"),
        ]  # fmt: skip
        return Plan(path, start, steps, "rejected")
    if path == "withdrawn_in_publicity":
        steps = [
            submit, refused, _decide(unit, "unit_review", "approve"), lodge,
            Step("resolve_objection", ObjectionResolutionCommand(
                actor=unit, objection_id="?", upheld=False, opinion="不属实"),
                "objection.dismissed"),
            Step("withdraw", WithdrawCommand(actor=applicant, reason="个人原因"), "withdraw"),
        ]  # fmt: skip
        return Plan(path, start, steps, "withdrawn")
    if path == "disqualified":
        steps = [
            submit, _decide(unit, "unit_review", "approve"),
            Step("record_misconduct", MisconductCommand(actor=f.COUNTY, finding="伪造业绩",
                                                        unit_at_fault=True),
                 "misconduct.recorded"),
        ]  # fmt: skip
        return Plan(path, start, steps, "disqualified")
    committee = f.COMMITTEE
    steps = [
        Step("record_vote", VoteCommand(actor=committee, attending=20, in_favor=20, against=0,
                                        abstain=0), "record_vote", refused=True),
        _decide(committee, "committee_formal_review", "return", reasons=["unclear_scan"]),
        resubmit,
        _decide(committee, "committee_formal_review", "approve"),
        Step("record_payment", PaymentCommand(actor=f.FINANCE, amount=550,
                                              receipt_no=f"R-{start.declaration_id}"),
             "payment.recorded"),
        Step("record_materials_received", MaterialsReceivedCommand(actor=committee,
                                                                   form_id="?"),
             "materials.received"),
        Step("record_defense", DefenseCommand(actor=committee, passed=True, mode="video"),
             "defense.recorded"),
        Step("record_vote", VoteCommand(actor=committee, attending=20, in_favor=12, against=6,
                                        abstain=2), "vote.recorded"),
    ]  # fmt: skip
    return Plan(path, _at_committee(start), steps, "not_approved")
