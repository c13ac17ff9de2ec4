"""The declaration as readers see it (``GET /declarations/{id}``), built from the chain's state:
who must act now, by when, and why each deadline is what it is (docs/rules.md §10.1)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.chain import publicity, timers
from domain.chain.state import explain
from domain.models import (
    ApplicantView,
    Deadlines,
    DeclarationView,
    FeeView,
    MaterialsView,
    PendingAction,
)
from domain.periods import notice_time
from domain.states import BEFORE_COMMITTEE, PENDING, PUBLICITIES, StateName

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = ["build", "declaration_explanation", "due_at", "pending", "pending_org"]

S = StateName

#: States in which the committee (its office) acts.
COMMITTEE_STATES = frozenset(
    {
        S.committee_formal_review,
        S.materials_pending,
        S.defense_pending,
        S.committee_review,
        S.result_publicity,
    }
)


def pending_org(chain: Chain) -> str:
    """The organisation that must act now ("" where any of the role's staff may)."""
    s = chain.s
    st = s.state
    if st in (S.unit_review, S.unit_publicity, S.unit_recommendation):
        return s.declaration.unit_id
    if st == S.authority_review:
        return chain.authority_chain[s.authority_index]
    if st in (S.draft, S.returned):
        return s.filed_by.org
    if st in (S.entrustment_review, S.result_confirmation):
        return s.campaign.confirming_org or ""
    if st in COMMITTEE_STATES:
        return s.campaign.committee_org or ""
    offices = s.campaign.fee_offices()
    if st == S.fee_pending and len(offices) == 1:
        return offices[0]
    return ""


def pending(chain: Chain) -> tuple[str, str] | None:
    """The role that must act now and what it must do (docs/rules.md §2). A publicity ends by
    itself: it waits on someone only while an objection lodged in it is open. A campaign made
    before results were confirmed by its ``confirming_org`` has the committee confirm them."""
    s = chain.s
    found = PENDING.get(s.state)
    if found is None:
        return None
    if s.state in PUBLICITIES and not publicity.open_objections(chain):
        return None
    if s.state == S.result_confirmation and s.campaign.confirming_org is None:
        return "committee", found[1]
    return found


def due_at(chain: Chain) -> datetime | None:
    """By when whoever must act now has to act."""
    s = chain.s
    st, c = s.state, s.computed
    if st == S.returned:
        correction = c.get("correction")
        declaration = timers.active_declaration_deadline(chain)
        candidates = [d for d in (correction.at if correction else None, declaration) if d]
        return min(candidates) if candidates else None
    if st in (S.unit_publicity, S.result_publicity):
        pub = c.get("publicity_ends")
        return pub.at if pub else None
    if st == S.fee_pending:
        return s.deadlines.fee_deadline if not s.fee_late else None
    if st == S.materials_pending:
        return s.deadlines.materials_deadline if not s.materials_late else None
    return timers.active_declaration_deadline(chain)


def declaration_explanation(chain: Chain) -> str:
    s = chain.s
    text = (
        f"申报截止 {notice_time(s.deadlines.declaration_closes_at)}（北京时间）：截止时未提交至评审委员会"
        "进行第一次审核的视为放弃，退回后超过申报时限的不予受理 (001 一(一), 四(一)1) / "
        "campaign declaration_closes_at"
    )
    if s.deadlines.declaration_closes_at != s.campaign.declaration_closes_at:
        text += f"; moved from {notice_time(s.campaign.declaration_closes_at)} by a deadline change (延期)"
    return text


def build(chain: Chain) -> DeclarationView:
    s, d = chain.s, chain.s.declaration
    waiting = None
    if (who := pending(chain)) is not None:
        role, action = who
        waiting = PendingAction(
            role=role, org=pending_org(chain), action=action, due_at=due_at(chain)
        )
    correction = s.computed.get("correction") if s.state == S.returned else None
    publicity_end = s.computed.get("publicity_ends") if s.state in PUBLICITIES else None
    explanations = {"declaration": declaration_explanation(chain)}
    provisional = []
    at_risk = s.computed.get("at_risk_from") if s.state in BEFORE_COMMITTEE else None
    if at_risk is not None and at_risk.explanation.provisional:
        provisional.append("at_risk_from")
    for key, computed in (("correction", correction), ("publicity_ends", publicity_end)):
        if computed is not None:
            explanations[key] = explain(computed)
            if computed.explanation.provisional:
                provisional.append(key)
    if s.deadlines.fee_deadline:
        explanations["fee"] = "campaign fee_deadline (缴费截止时间)"
    if s.deadlines.materials_deadline:
        explanations["materials"] = "campaign materials_deadline (材料报送时间)"
    return DeclarationView(
        id=s.declaration_id,
        campaign_id=s.campaign.id,
        level=d.level,
        route=d.route,
        series=d.series_in(s.campaign),
        specialty=d.specialty,
        region=d.region,
        state=s.state.value,
        applicant=ApplicantView(
            name=d.applicant.name,
            id_number=d.applicant.id_number,
            unit_id=d.unit_id,
            affiliation=d.applicant.affiliation,
        ),
        unit_id=d.unit_id,
        authority_chain=list(d.authority_chain),
        authority_index=s.authority_index,
        pending=waiting,
        committee_submissions=s.committee_submissions,
        applicant_submissions=s.applicant_submissions,
        returned_from=s.returned_from if s.state == S.returned else None,
        deadlines=Deadlines(
            declaration=s.deadlines.declaration_closes_at,
            correction=correction.at if correction else None,
            publicity_ends=publicity_end.at if publicity_end else None,
            fee=s.deadlines.fee_deadline,
            materials=s.deadlines.materials_deadline,
        ),
        deadline_explanations=explanations,
        provisional_deadlines=provisional,
        fee=FeeView(due=s.fee_due, paid=s.fee_paid, receipt_no=s.receipt_no, late=s.fee_late),
        materials=MaterialsView(
            required=s.materials_required,
            form_id=s.form_id,
            received=s.materials_received,
            late=s.materials_late,
        ),
        defense=s.defense,
        vote=s.vote,
        objections=list(s.objections),
        flags=list(s.flags),
        at_risk=s.at_risk,
        at_risk_from=s.computed["at_risk_from"].at if "at_risk_from" in s.computed else None,
        masked_items=list(d.masked_items),
        service_years=list(d.service_years),
        result=s.result,
        version=s.seq,
        updated_at=s.last_event_at,
    )
