"""Operations on a whole campaign (docs/rules.md §3 延期, §7 calendars, §2.8 and §10.3 the review
meeting, §10.4 return reasons): the models the durable fan-out, its activity and the API share,
and the pure rules behind them.

- A **change fanned out** to many declarations (a campaign's deadlines, an official calendar
  year) has a stable id derived from what it changes, so that starting it twice finds the same
  durable run, and it reports its progress as :class:`FanOutProgress`.
- A **committee meeting** (评审会议) records one vote per declaration; each declaration's
  attending count is the members present less those recused (回避) for it (§10.3). The ballot
  stays secret: only counts are kept.
- **Return reasons** (§10.4) are counted per unit, per reason code and per stage.

Plain data and functions: no Temporal, database or I/O import.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, Field, model_validator
from pydantic_core import PydanticCustomError

from domain.models import (
    Actor,
    CalendarChangedCommand,
    CloseReviewCommand,
    Command,
    DeadlineChangeCommand,
    Model,
    VoteCommand,
    VoteCount,
)

__all__ = [
    "OBJECTION_RETURN",
    "UNCODED",
    "CalendarRecomputeRun",
    "CloseReviewRun",
    "CommitteeMeetingInput",
    "DeadlineChangeRun",
    "FanOutFailure",
    "FanOutItem",
    "FanOutOutcome",
    "FanOutProgress",
    "MeetingVoteInput",
    "ReturnEvent",
    "calendar_change_id",
    "close_review_id",
    "count_returns",
    "deadline_change_id",
    "meeting_fingerprint",
    "vote_command",
]

#: Declarations addressed at once by a fan-out, and how many one run handles before it continues
#: as new (keeps each run's history to a few hundred events).
DEFAULT_BATCH = 50
DEFAULT_CONTINUE_AS_NEW_EVERY = 200
#: Error text is bounded before it enters a payload.
MAX_REASON = 2000


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- fan-out


def deadline_change_id(campaign_id: str, cmd: DeadlineChangeCommand) -> str:
    """A campaign deadline change's id: a digest of the campaign, the instant of the change and
    the deadlines it sets (so the same request at the same instant is the same change)."""
    return _digest(
        {
            "campaign_id": campaign_id,
            "changed_at": cmd.changed_at.isoformat(),
            "deadlines": cmd.deadlines.model_dump(mode="json"),
        }
    )


def calendar_change_id(
    year: int, version: str, holidays: Iterable[date], workdays: Iterable[date]
) -> str:
    """A calendar year's recompute id: a digest of the data loaded (loading the same data again
    follows the same durable run while it is still going)."""
    return _digest(
        {
            "year": year,
            "version": version,
            "holidays": sorted(d.isoformat() for d in holidays),
            "workdays": sorted(d.isoformat() for d in workdays),
        }
    )


class FanOutItem(Model):
    """Input of the fan-out activity: one declaration and the change to send it (exactly one of
    ``deadline_change``, ``calendar_change`` and ``close_review``)."""

    change_id: str
    declaration_id: str
    deadline_change: DeadlineChangeCommand | None = None
    calendar_change: CalendarChangedCommand | None = None
    close_review: CloseReviewCommand | None = None

    @model_validator(mode="after")
    def _one_change(self) -> FanOutItem:
        given = [self.deadline_change, self.calendar_change, self.close_review]
        if sum(change is not None for change in given) != 1:
            raise ValueError("give exactly one of deadline_change, calendar_change, close_review")
        return self

    def command(self) -> tuple[str, Command]:
        """The update to send and its command."""
        if self.deadline_change is not None:
            return "change_deadlines", self.deadline_change
        if self.calendar_change is not None:
            return "calendar_changed", self.calendar_change
        assert self.close_review is not None  # validated: exactly one
        return "close_review", self.close_review


class FanOutOutcome(Model):
    """What one declaration answered: ``updated`` (applied, or already applied: a no-op),
    ``ended`` (it ended since; nothing to re-arm), ``refused`` (its workflow refused, with the
    reason, audited on its trail), ``unknown`` (no such declaration) or ``failed`` (it could not
    be reached before the activity gave up)."""

    declaration_id: str
    outcome: Literal["updated", "ended", "refused", "unknown", "failed"]
    reason: str = Field(default="", max_length=MAX_REASON)
    state: str | None = None


class FanOutFailure(Model):
    declaration_id: str
    reason: str


class FanOutProgress(Model):
    """The ``progress`` query: ``done`` of ``total`` declarations addressed so far (whatever
    their outcome), ``updated`` and ``ended`` among them, and every one that ``failed`` with its
    reason. ``finished`` once ``done == total``; ``runs`` counts continue-as-new."""

    change_id: str
    kind: Literal["deadlines", "calendar", "close_review"]
    total: int = Field(ge=0)
    done: int = 0
    updated: int = 0
    ended: int = 0
    failed: list[FanOutFailure] = Field(default_factory=list)
    finished: bool = False
    runs: int = 1

    def record(self, outcome: FanOutOutcome) -> None:
        self.done += 1
        if outcome.outcome == "updated":
            self.updated += 1
        elif outcome.outcome == "ended":
            self.ended += 1
        else:
            reason = outcome.reason or outcome.outcome
            self.failed.append(FanOutFailure(declaration_id=outcome.declaration_id, reason=reason))


class _FanOutRun(Model):
    change_id: str
    #: The declarations still to address (the open ones when the change was made).
    declaration_ids: list[str]
    batch_size: int = Field(default=DEFAULT_BATCH, ge=1, le=200)
    continue_as_new_every: int = Field(default=DEFAULT_CONTINUE_AS_NEW_EVERY, ge=1)
    #: Carried across continue-as-new.
    progress: FanOutProgress | None = None


class DeadlineChangeRun(_FanOutRun):
    """Input of ``campaign-deadline-change``."""

    campaign_id: str
    command: DeadlineChangeCommand


class CloseReviewRun(_FanOutRun):
    """Input of ``campaign-close-review``."""

    campaign_id: str
    command: CloseReviewCommand


def close_review_id(campaign_id: str, cmd: CloseReviewCommand) -> str:
    return _digest({"campaign_id": campaign_id, "closed_at": cmd.closed_at.isoformat()})


class CalendarRecomputeRun(_FanOutRun):
    """Input of ``calendar-recompute``."""

    year: int
    command: CalendarChangedCommand


# --------------------------------------------------------------------------- review meeting


class MeetingVoteInput(Model):
    """One declaration's tally at the meeting (counts only: the ballot stays secret)."""

    declaration_id: str = Field(min_length=1, max_length=100)
    in_favor: VoteCount
    against: VoteCount
    abstain: VoteCount
    #: Members present who stepped aside (回避) for this declaration.
    recused: list[str] = Field(default_factory=list, max_length=100)


class CommitteeMeetingInput(Model):
    """``POST /campaigns/{id}/meetings``: one meeting, its attendance and a vote per
    declaration. Members present are listed once; a recused member must be present; a
    declaration is voted on once."""

    meeting_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    held_at: AwareDatetime
    members_present: list[str] = Field(
        min_length=1, max_length=500, json_schema_extra={"uniqueItems": True}
    )
    votes: list[MeetingVoteInput] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _consistent(self) -> CommitteeMeetingInput:
        present = set(self.members_present)
        if len(present) != len(self.members_present):
            raise ValueError("members_present lists a member twice")
        # Rules between items and fields, which no schema states: each names its rule.
        ids = [v.declaration_id for v in self.votes]
        if len(set(ids)) != len(ids):
            raise PydanticCustomError(
                "meeting.voted_twice", "a declaration is voted on twice in one meeting"
            )
        for vote in self.votes:
            absent = sorted(set(vote.recused) - present)
            if absent:
                raise PydanticCustomError(
                    "meeting.recused_absent",
                    f"{vote.declaration_id}: recused member(s) {', '.join(absent)} are not "
                    "among members_present (回避 concerns members present)",
                )
        return self


def attending(meeting: CommitteeMeetingInput, vote: MeetingVoteInput) -> int:
    """§2.8, §10.3: the members present at the meeting (the quorum counts them all); those
    recused (回避) for a declaration are among them and do not vote on it."""
    return len(meeting.members_present)


def vote_command(
    actor: Actor, meeting: CommitteeMeetingInput, vote: MeetingVoteInput
) -> VoteCommand:
    """The declaration's own vote (its workflow checks quorum and the 2/3 rule, §2.8)."""
    return VoteCommand(
        actor=actor,
        attending=attending(meeting, vote),
        in_favor=vote.in_favor,
        against=vote.against,
        abstain=vote.abstain,
        recused=sorted(set(vote.recused)),
        meeting_id=meeting.meeting_id,
    )


def meeting_fingerprint(meeting: CommitteeMeetingInput) -> str:
    """What identifies a meeting's content, so a repeated request is recognised as such."""
    return _digest(meeting.model_dump(mode="json"))


# --------------------------------------------------------------------------- return reasons

#: The reason code a return by an upheld objection counts under (it carries no codes).
OBJECTION_RETURN = "objection_upheld"
#: The bucket of returns that gave an opinion but no reason code.
UNCODED = "uncoded"


class ReturnEvent(Model):
    """An accepted audit event that returned a declaration to its applicant."""

    declaration_id: str
    unit_id: str
    action: str
    stage: str | None = None
    reasons: list[str] = Field(default_factory=list)


def is_return(action: str, detail: dict[str, Any]) -> bool:
    """§10.4: a review stage's return (``<stage>.return``), or an objection upheld in the unit
    publicity with outcome ``return``."""
    if action.endswith(".return"):
        return True
    return action == "objection.upheld" and detail.get("outcome") == "return"


def count_returns(events: Iterable[ReturnEvent]) -> dict[str, Any]:
    """§10.4 returns counted per reason code, per unit (of the declaration) and per stage. A
    return with several codes counts once in ``total`` and once under each code."""
    total = 0
    by_reason: dict[str, int] = {}
    by_stage: dict[str, int] = {}
    by_unit: dict[str, dict[str, Any]] = {}
    for event in events:
        total += 1
        codes = sorted(set(event.reasons)) or [
            OBJECTION_RETURN if event.action == "objection.upheld" else UNCODED
        ]
        unit = by_unit.setdefault(event.unit_id, {"total": 0, "by_reason": {}})
        unit["total"] += 1
        for code in codes:
            by_reason[code] = by_reason.get(code, 0) + 1
            unit["by_reason"][code] = unit["by_reason"].get(code, 0) + 1
        stage = event.stage or "unknown"
        by_stage[stage] = by_stage.get(stage, 0) + 1
    return {
        "total": total,
        "by_reason": dict(sorted(by_reason.items())),
        "by_unit": {
            k: {"total": v["total"], "by_reason": dict(sorted(v["by_reason"].items()))}
            for k, v in sorted(by_unit.items())
        },
        "by_stage": dict(sorted(by_stage.items())),
    }
