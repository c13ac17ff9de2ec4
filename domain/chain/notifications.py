"""Who hears about a transition (docs/rules.md §3 reminders): whoever must act now, again 24 hours
before their deadline, and the applicant of every outcome. Keys derive from the audit sequence
number, so a retried write queues nothing twice."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.chain import view
from domain.chain.state import REMINDER_LEAD
from domain.models import Notification, as_of
from domain.states import TERMINAL, StateName, label

if TYPE_CHECKING:
    from domain.chain.core import Chain

__all__ = ["notify_transition"]

S = StateName


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
        due_text = f", due {as_of(due)}" if due else ""
        chain.notify(
            Notification(
                key=f"{key}:act",
                kind="action_required",
                text=f"申报 {s.declaration_id} 待处理：{label(s.state)}，{action}{due_text}",
                send_after=now,
                **recipient,
            )
        )
        if due is not None and due - REMINDER_LEAD > now:
            chain.notify(
                Notification(
                    key=f"{key}:reminder:{as_of(due)}",
                    kind="deadline_reminder",
                    text=f"提醒：申报 {s.declaration_id} 的{label(s.state)}将于 "
                    f"{as_of(due)} 截止 / deadline in 24 hours",
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
