"""Events a dead workflow task already wrote: keep them, say so, and do not stall on them.

Runs of a declaration's workflow that started before the ``audit-write-in-history`` patch write
their audit events with the ``record_audit_event`` **local** activity, inside the workflow task
that produced them, and keep doing so until they end or continue as new (``workflow.patched``
answers once per run). When the worker dies after that write but before the task
completes (``kill -9``, a crash, a lost connection), Temporal has no record of the write: the
task is retried and produces its events again with the same sequence numbers, but computed at
the retried task's instant (``workflow.now()``), and, when more decisions arrived meanwhile,
perhaps in another order. Appending them failed with ``AuditConflict`` (non-retryable), which
failed the decision and left the trail behind the declaration (reliability finding,
docs/reliability.md). Later runs write with a regular activity whose batch is in the history
before anything is written, so every attempt writes the same rows and none meets rows like these;
this module goes when the patch's old branch does.

Stored rows that a retried batch would overwrite and that are all **older** than it were written
by an earlier attempt that never completed (an acknowledged task is never run again). The trail is
append-only (the database refuses UPDATE and DELETE), so they stay, and :func:`reconcile`:

* takes an incoming event that differs from its stored row **only** in ``at`` as that row (the
  stored instant is when the decision was first taken): nothing to add;
* otherwise appends, after the stored rows, one ``audit.superseded`` event by the system naming
  the sequence numbers the dead task wrote, then the batch renumbered to follow it. The workflow
  moves its sequence counter by the same ``shift`` (``RecordResult.shift``), so everything it
  records later follows on.

A stored row as new as the batch or newer is left alone, so a genuine conflict still fails loudly
in :func:`store.audit.append_events`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from domain.models import SYSTEM, AuditEventIn, Notification
from store.audit import canonical_instant
from store.tables import utc

__all__ = ["SUPERSEDED", "Reconciled", "reconcile"]

log = structlog.get_logger()

SUPERSEDED = "audit.superseded"

#: Fields compared to decide that an incoming event is the stored one written again.
_SAME = (
    "campaign_id",
    "actor_id",
    "actor_role",
    "actor_org",
    "action",
    "stage_before",
    "stage_after",
    "outcome",
    "opinion",
)


@dataclass
class Reconciled:
    """What to append instead of the batch, and by how much its sequence numbers moved."""

    events: list[AuditEventIn]
    shift: int = 0
    superseded: list[int] = field(default_factory=list)

    def notifications(self, items: Sequence[Notification]) -> list[Notification]:
        """Notification keys follow the sequence numbers (``<declaration>:<seq>:…``)."""
        if not self.shift:
            return list(items)
        out = []
        for n in items:
            prefix, _, rest = n.key.partition(":")
            seq, _, tail = rest.partition(":")
            if prefix == n.declaration_id and seq.isdigit() and int(seq) >= self.superseded[0]:
                n = n.model_copy(update={"key": f"{prefix}:{int(seq) + self.shift}:{tail}"})
            out.append(n)
        return out


def _same_but_instant(row: Any, event: AuditEventIn) -> bool:
    if any(getattr(row, name) != getattr(event, name) for name in _SAME):
        return False
    incoming = event.model_dump(mode="json")
    return bool(
        json.loads(row.reasons) == incoming["reasons"]
        and json.loads(row.detail) == incoming["detail"]
    )


def reconcile(stored: Mapping[int, Any], events: Sequence[AuditEventIn]) -> Reconciled:
    """The batch to append in place of ``events`` (see the module docstring). ``stored`` holds
    the declaration's stored rows from the batch's first ``seq`` on, by ``seq``, read under the
    writer's lock (:func:`store.audit.tail_rows`). Pure: nothing is read or written here."""
    batch = sorted(events, key=lambda e: e.seq)
    if not batch or len({e.declaration_id for e in batch}) != 1:
        return Reconciled(list(batch))
    declaration_id = batch[0].declaration_id
    stored = {seq: row for seq, row in stored.items() if seq >= batch[0].seq}
    if not stored:
        return Reconciled(batch)
    out: list[AuditEventIn] = []
    for index, event in enumerate(batch):
        row = stored.get(event.seq)
        if row is None:
            out.extend(batch[index:])
            return Reconciled(out)
        same_instant = canonical_instant(row.at) == canonical_instant(event.at)
        if same_instant or utc(row.at) >= utc(event.at):
            out.append(event)  # already present, or a genuine conflict for append_events
            continue
        if _same_but_instant(row, event):
            out.append(event.model_copy(update={"at": utc(row.at)}))
            continue
        tail = sorted(seq for seq in stored if seq >= event.seq)
        if any(utc(stored[seq].at) >= utc(event.at) for seq in tail):
            out.extend(batch[index:])  # written by a task as new as this one: a conflict
            return Reconciled(out)
        last = tail[-1]
        shift = last - event.seq + 2
        marker = AuditEventIn(
            declaration_id=declaration_id,
            campaign_id=event.campaign_id,
            seq=last + 1,
            at=event.at,
            actor_id=SYSTEM.id,
            actor_role=SYSTEM.role,
            actor_org=SYSTEM.org,
            action=SUPERSEDED,
            stage_before=event.stage_before,
            stage_after=event.stage_before,
            detail={
                "superseded_seqs": [event.seq, last],
                "reason": "events written by a workflow task that never completed (its worker "
                "was lost); the events that follow record what was decided / 工作进程中断，"
                "其间写入的记录由其后的记录取代",
            },
        )
        moved = [e.model_copy(update={"seq": e.seq + shift}) for e in batch[index:]]
        log.warning(
            "audit.unacknowledged_rows_superseded",
            declaration_id=declaration_id,
            superseded=[event.seq, last],
            shift=shift,
        )
        return Reconciled([*out, marker, *moved], shift=shift, superseded=[event.seq, last])
    return Reconciled(out)
