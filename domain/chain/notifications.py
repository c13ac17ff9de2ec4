"""Who hears about a transition (docs/rules.md §3 reminders): whoever must act now, again 24 hours
before their deadline, and the applicant of every outcome. Keys derive from the audit sequence
number, so a retried write queues nothing twice."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.chain import view
from domain.chain.state import REMINDER_LEAD
from domain.models import Notification, as_of
from domain.periods import notice_time
from domain.states import PENDING_LABELS, TERMINAL, StateName, label

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = ["notify_transition", "reminder_text"]

S = StateName


def reminder_text(declaration_id: str, state: str, due: datetime) -> str:
    """The reminder 24 hours before ``due``, the deadline written as the notices write it."""
    return (
        f"提醒：申报 {declaration_id} 的{label(state)}将于 {notice_time(due)}（北京时间）截止 / "
        "deadline in 24 hours"
    )


def notify_transition(chain: Chain, now: datetime) -> None:
    """Tell whoever must act now, remind them 24 h before the due time, and tell the
    applicant of every outcome."""
    s = chain.s
    group = f"{s.declaration_id}:reminder"
    chain.cancel_reminders(group)
    key = f"{s.declaration_id}:{s.seq}"
    if (who := view.pending(chain)) is not None:
        role, action = who
        due = view.due_at(chain)
        org = view.pending_org(chain)
        recipient = {
            "declaration_id": s.declaration_id,
            "recipient_role": role,
            "recipient_org": org,
            "recipient_id": s.filed_by.id if role == "applicant" else "",
        }
        due_text = f"，截止 {notice_time(due)}（北京时间）" if due else ""
        what = (
            "" if action == s.state.value else f"，{PENDING_LABELS.get(action, action)} ({action})"
        )
        chain.notify(
            Notification(
                key=f"{key}:act",
                kind="action_required",
                text=f"申报 {s.declaration_id} 待处理：{label(s.state)}{what}{due_text}",
                send_after=now,
                **recipient,
            )
        )
        if due is not None and due - REMINDER_LEAD > now:
            chain.notify(
                Notification(
                    key=f"{key}:reminder:{as_of(due)}",
                    kind="deadline_reminder",
                    text=reminder_text(s.declaration_id, s.state.value, due),
                    send_after=due - REMINDER_LEAD,
                    supersedes=group,
                    **recipient,
                )
            )
    if s.state in (S.returned, *TERMINAL):
        chain.notify(
            Notification(
                key=f"{key}:applicant",
                declaration_id=s.declaration_id,
                recipient_role="applicant",
                recipient_org=s.filed_by.org,
                recipient_id=s.filed_by.id,
                kind="outcome",
                text=f"您的申报 {s.declaration_id} 现为：{label(s.state)}",
                send_after=now,
            )
        )
