"""Reminders that reach people (docs/rules.md §3: 24 hours before each deadline, a notification
goes to whoever must act): which deadline a reminder is about, how long a failed delivery waits
before the next attempt and when it is given up, and the models the sender passes around.

Pure rules: no Temporal, database or network. The outbox rows themselves are written by the
declaration's audit step (``store.outbox``); the sender (``workflows.outbox``,
``activities.delivery``) delivers them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, Field

from domain.chain.notifications import reminder_text
from domain.chain.state import REMINDER_LEAD
from domain.models import AuditEventIn, DeclarationView, Model, Notification, as_of
from domain.periods import notice_time

__all__ = [
    "CHANNELS",
    "DEADLINE_KINDS",
    "DELIVERY_STATUSES",
    "DeadlineKind",
    "DeliveryRequest",
    "DeliveryResult",
    "DeliveryTotals",
    "Notice",
    "OutboxDeliveryRun",
    "OutboxProgress",
    "OutboxWake",
    "ReminderDeadline",
    "after_failure",
    "notice_seq",
    "notice_time",
    "rearmed_reminders",
    "reminder_deadline",
    "retry_delay",
    "unsent",
]

Channel = Literal["email", "webhook"]
CHANNELS: tuple[Channel, ...] = ("email", "webhook")

#: A delivery's life: ``pending`` (due, not tried yet) → ``sending`` (claimed by one sender) →
#: ``sent``; a failure → ``retrying`` (tried again after a backoff) → … → ``dead`` (given up,
#: shown to the committee, which may send it again). ``no_address``: nobody to send it to.
DELIVERY_STATUSES: dict[str, str] = {
    "pending": "待发送 due",
    "sending": "发送中 sending",
    "sent": "已送达 sent",
    "retrying": "重试中 retrying",
    "dead": "发送失败 failed",
    "no_address": "无地址 no address",
}


@dataclass(frozen=True)
class DeadlineKind:
    label_zh: str
    label_en: str
    #: What the workflow does by itself when the deadline passes (§3 timers).
    on_expiry_zh: str
    on_expiry_en: str


#: The deadlines a declaration can wait on, by the key of ``DeclarationView.deadlines``.
DEADLINE_KINDS: dict[str, DeadlineKind] = {
    "correction": DeadlineKind(
        "补正期限", "correction window",
        "逾期未补正提交的，不予受理", "not corrected and resubmitted by then: not accepted",
    ),
    "declaration": DeadlineKind(
        "申报截止", "declaration deadline",
        "逾期未提交的视为放弃（已退回的不予受理）",
        "not submitted by then: abandoned (a returned declaration: not accepted)",
    ),
    "publicity_ends": DeadlineKind(
        "公示期满", "end of the publicity",
        "公示期满且无未处理的异议，自动进入下一环节",
        "once it ends with no open objection, the declaration moves on by itself",
    ),
    "fee": DeadlineKind(
        "缴费截止", "fee deadline",
        "逾期未缴费的，按评审工作的规定处理（视为放弃或由评审委员会决定）",
        "unpaid by then: as the campaign sets (abandoned, or left to the committee)",
    ),
    "materials": DeadlineKind(
        "纸质材料报送截止", "paper materials deadline",
        "逾期未报送的，按评审工作的规定处理（视为放弃或由评审委员会决定）",
        "not received by then: as the campaign sets (abandoned, or left to the committee)",
    ),
}  # fmt: skip

#: Where two deadlines fall at the same instant, the one named first is the one the person acts
#: on (a returned declaration's correction window before the declaration deadline).
_PRECEDENCE = ("correction", "publicity_ends", "fee", "materials", "declaration")
#: The deadline a state waits on, when the view no longer shows the reminder's instant.
_BY_STATE = {
    "returned": "correction",
    "unit_publicity": "publicity_ends",
    "result_publicity": "publicity_ends",
    "fee_pending": "fee",
    "materials_pending": "materials",
}


@dataclass(frozen=True)
class ReminderDeadline:
    kind: str
    at: datetime
    explanation: str

    @property
    def label(self) -> DeadlineKind:
        return DEADLINE_KINDS[self.kind]


def reminder_deadline(send_after: datetime, view: DeclarationView | None) -> ReminderDeadline:
    """The deadline a reminder sent at ``send_after`` is about: the one of the declaration's
    deadlines that falls ``REMINDER_LEAD`` later, with the declaration's own explanation of it.
    Without a view (or no deadline at that instant), the one its state waits on."""
    due = send_after + REMINDER_LEAD
    if view is None:
        return ReminderDeadline("declaration", due, "")
    deadlines = view.deadlines.model_dump()
    kind = next((k for k in _PRECEDENCE if deadlines.get(k) == due), None)
    if kind is None:
        kind = _BY_STATE.get(view.state, "declaration")
    return ReminderDeadline(kind, due, view.deadline_explanations.get(kind, ""))


#: Steps after which the chain writes no reminder itself although the deadline a person waits on
#: is new or has moved: the declaration was created (a draft waits on the declaration deadline),
#: or the campaign's deadlines were changed (延期) without the declaration changing state.
REARMING_ACTIONS = frozenset({"created", "deadlines.changed"})


def rearmed_reminders(
    view: DeclarationView, events: list[AuditEventIn], notifications: list[Notification]
) -> tuple[list[Notification], list[str]]:
    """The reminder a step calls for when the chain wrote none itself (§3: 24 hours before each
    deadline, whoever must act is reminded; a 延期 cancels the reminder of the old instant and
    schedules the new one): for a step that created the declaration or changed its deadlines,
    the reminder of the deadline the view now waits on, keyed and grouped as the chain keys its
    own (``<declaration>:<seq>:reminder:<due>``, group ``<declaration>:reminder``, so it replaces
    the pending one); or, where nothing is due more than 24 hours later, the group to cancel."""
    if any(n.kind == "deadline_reminder" for n in notifications):
        return [], []
    step = [e for e in events if e.action in REARMING_ACTIONS and e.outcome == "accepted"]
    if not step:
        return [], []
    event = step[-1]
    group = f"{view.id}:reminder"
    pending = view.pending
    if pending is None or pending.due_at is None or pending.due_at - REMINDER_LEAD <= event.at:
        return [], [group]
    due = pending.due_at
    reminder = Notification(
        key=f"{view.id}:{event.seq}:reminder:{as_of(due)}",
        declaration_id=view.id,
        recipient_role=pending.role,
        recipient_org=pending.org,
        recipient_id=event.actor_id if event.action == "created" else "",
        kind="deadline_reminder",
        text=reminder_text(view.id, view.state, due),
        send_after=due - REMINDER_LEAD,
        supersedes=group,
    )
    return [reminder], []


#: Notices a step may write again while the declaration stays where it is.
REPEATABLE_KINDS = frozenset({"action_required", "outcome"})


@dataclass(frozen=True)
class Notice:
    """What tells two notices apart: their declaration, the step (sequence number) that wrote
    them, their kind and whom they go to (role, organisation, person)."""

    key: str
    declaration_id: str
    seq: int
    kind: str
    recipient: tuple[str, str, str]


def notice_seq(key: str, declaration_id: str) -> int | None:
    """The sequence number of the step that wrote a notification (``<declaration>:<seq>:…``)."""
    prefix = f"{declaration_id}:"
    if not key.startswith(prefix):
        return None
    seq = key[len(prefix) :].partition(":")[0]
    return int(seq) if seq.isdigit() else None


def unsent(
    due: Iterable[Notice], earlier: Iterable[Notice], state_changes: Mapping[str, Sequence[int]]
) -> dict[str, str]:
    """The ``due`` notices not to send, by key, with why. The chain tells whoever must act each
    time a step leaves a declaration in a state, and again when a deadline of that state is
    set or recomputed; a person hears once per stay:

    * ``repeat``: the same person already had the same kind of notice while the declaration
      stayed in the same state (the reminder 24 hours before its deadline still comes);
    * ``outdated``: the declaration has left the state the notice was written in before it
      could be sent (nobody must act on it any more).

    ``state_changes``: per declaration, the sequence numbers of the steps that changed its
    state. Deadline reminders are never held back here: the chain cancels them itself."""
    due = list(due)
    wanted = {n.key for n in due}
    by_declaration: dict[str, dict[str, Notice]] = {}
    for n in [*earlier, *due]:
        if n.kind in REPEATABLE_KINDS:
            by_declaration.setdefault(n.declaration_id, {})[n.key] = n
    out: dict[str, str] = {}
    for declaration_id, notices in by_declaration.items():
        changes = sorted(state_changes.get(declaration_id, ()))
        last: dict[tuple[str, tuple[str, str, str]], int] = {}
        for n in sorted(notices.values(), key=lambda x: (x.seq, x.key)):
            told = last.get((n.kind, n.recipient))
            last[(n.kind, n.recipient)] = n.seq
            if n.key not in wanted:
                continue
            if any(c > n.seq for c in changes):
                out[n.key] = "outdated"
            elif told is not None and not any(told < c <= n.seq for c in changes):
                out[n.key] = "repeat"
    return out


def retry_delay(attempts: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """How long a delivery that has failed ``attempts`` times waits: ``base``, doubling after
    each failure, never more than ``cap``."""
    if attempts < 1:
        return timedelta(0)
    return min(cap, base * (2 ** min(attempts - 1, 30)))


def after_failure(attempts: int, *, max_attempts: int, permanent: bool) -> str:
    """The status of a delivery that just failed its ``attempts``-th attempt: ``dead`` once the
    attempts are spent or the failure is permanent (the server refused the address itself),
    otherwise ``retrying``."""
    return "dead" if permanent or attempts >= max_attempts else "retrying"


# --------------------------------------------------------------------------- the sender's models


class OutboxWake(Model):
    """Signal ``wake`` of the sender: something is due at ``due`` (or already is)."""

    due: AwareDatetime


class DeliveryRequest(Model):
    """Input of ``deliver_outbox``: deliver what is due at ``now`` (workflow time)."""

    now: AwareDatetime
    batch_size: int = Field(default=500, ge=1)
    #: A claimed delivery whose sender went silent is claimed again after this long.
    lease_seconds: float = Field(default=900.0, gt=0)


class DeliveryResult(Model):
    dispatched: int = 0
    no_address: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    #: A full batch was claimed: there may be more due right now.
    more: bool = False
    #: The earliest instant something else falls due (a notification, a retry, a lease).
    next_due: AwareDatetime | None = None


class DeliveryTotals(Model):
    batches: int = 0
    dispatched: int = 0
    no_address: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0

    def add(self, result: DeliveryResult) -> None:
        self.batches += 1
        self.dispatched += result.dispatched
        self.no_address += result.no_address
        self.sent += result.sent
        self.failed += result.failed
        self.dead += result.dead


class OutboxDeliveryRun(Model):
    """Input of the ``outbox-delivery`` workflow, and what it carries across continue-as-new."""

    batch_size: int = Field(default=500, ge=1)
    #: Batches run side by side while a backlog lasts (each claims its own deliveries).
    parallel_batches: int = Field(default=2, ge=1, le=8)
    lease_seconds: float = Field(default=900.0, gt=0)
    wake_at: AwareDatetime | None = None
    totals: DeliveryTotals = Field(default_factory=DeliveryTotals)
    runs: int = 1


class OutboxProgress(Model):
    """Query ``progress`` of the sender: when it wakes next and what it has done so far."""

    wake_at: AwareDatetime | None = None
    last_batch_at: AwareDatetime | None = None
    totals: DeliveryTotals
    runs: int
