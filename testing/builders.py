"""Audit events, views and notifications for store and activity tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from domain.calendar import BEIJING
from domain.models import (
    ApplicantView,
    AuditEventIn,
    DeclarationView,
    DefenseView,
    FeeView,
    MaterialsView,
    Notification,
    PendingAction,
)
from domain.states import PENDING, StateName

#: Monday 2024-09-02 00:00 Beijing time, a working day in the official 2024 calendar.
MONDAY = datetime(2024, 9, 2, tzinfo=BEIJING)
CAMPAIGN_ID = "aks-2024-transport"
CHAIN = ["county-hr", "prefecture-transport"]


def declaration_id() -> str:
    return f"D-{uuid.uuid4().hex[:10]}"


def event(
    declaration: str,
    seq: int,
    at: datetime,
    *,
    action: str = "note",
    before: str | None = None,
    after: str | None = None,
    actor: tuple[str, str, str] = ("unit-reviewer-1", "unit_reviewer", "U-001"),
    **extra: Any,
) -> AuditEventIn:
    actor_id, role, org = actor
    return AuditEventIn(
        declaration_id=declaration,
        campaign_id=CAMPAIGN_ID,
        seq=seq,
        at=at,
        actor_id=actor_id,
        actor_role=role,
        actor_org=org,
        action=action,
        stage_before=before,
        stage_after=after,
        **extra,
    )


def trail(declaration: str, n: int, start: datetime = MONDAY) -> list[AuditEventIn]:
    """``n`` events, one hour apart, the first one creating the draft."""
    events = [event(declaration, 1, start, action="created", after="draft", actor=APPLICANT)]
    for seq in range(2, n + 1):
        events.append(
            event(
                declaration,
                seq,
                start + timedelta(hours=seq - 1),
                before="draft",
                after="draft",
                opinion=f"意见 {seq}",
                reasons=["missing_material"],
                detail={"n": seq, "名称": "审核", "at": start.isoformat()},
            )
        )
    return events


APPLICANT = ("applicant-1", "applicant", "")
SYSTEM = ("system", "admin", "")


def view(
    declaration: str,
    *,
    version: int,
    state: str = "unit_review",
    id_number: str = "652901198001011234",
    unit_id: str = "U-001",
    authority_chain: list[str] | None = None,
    campaign_id: str = CAMPAIGN_ID,
    updated_at: datetime = MONDAY,
) -> DeclarationView:
    pending = None
    if StateName(state) in PENDING:
        role, action = PENDING[StateName(state)]
        pending = PendingAction(
            role=role,
            org=unit_id if state.startswith("unit_") else "",
            action=action,
            due_at=updated_at + timedelta(days=3),
        )
    return DeclarationView(
        id=declaration,
        campaign_id=campaign_id,
        level="deputy_senior",
        series="engineering",
        state=state,
        applicant=ApplicantView(
            name="张三", id_number=id_number, unit_id=unit_id, affiliation="阿克苏地区"
        ),
        unit_id=unit_id,
        authority_chain=list(CHAIN if authority_chain is None else authority_chain),
        pending=pending,
        fee=FeeView(due=550),
        materials=MaterialsView(required=True),
        defense=DefenseView(required=True),
        version=version,
        updated_at=updated_at,
    )


def notification(
    declaration: str, key: str, *, group: str | None = None, at: datetime = MONDAY
) -> Notification:
    return Notification(
        key=key,
        declaration_id=declaration,
        recipient_role="unit_reviewer",
        recipient_org="U-001",
        kind="deadline_reminder" if group else "action_required",
        text=f"申报 {declaration} 待处理",
        send_after=at,
        supersedes=group,
    )
