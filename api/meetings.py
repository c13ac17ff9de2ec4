"""Recording a committee review meeting (评审会议) in bulk (docs/rules.md §2.8, §10.3).

Each declaration voted on gets its own ``record_vote`` update, through the same path as a single
vote (:func:`api.commands.execute`): its workflow checks quorum and the 2/3 rule with the
attendance of *that* vote (members present less those recused for it) against the members
registered for the campaign's committee (docs/rules.md §11), and keeps its own vote record; a
refusal is audited on its trail. The meeting and each declaration's answer are stored
(:mod:`store.meetings`), counts only.

The same request again (same meeting id and content) is answered from the store, finishing any
vote it had not sent yet; a vote a declaration already took (the earlier request was cut short
after it) is recognised from the declaration's vote record and not sent twice. The same meeting
id with other content is refused (409, audited on the campaign's trail).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, status

from api.commands import execute
from api.refusals import Refusals
from api.services import Services, in_session
from api.subjects import load_facts
from domain.campaign_ops import (
    CommitteeMeetingInput,
    MeetingVoteInput,
    attending,
    meeting_fingerprint,
    vote_command,
)
from domain.models import Actor, Campaign, DeclarationView
from gateway import view as workflow_view
from store.meetings import (
    CommitteeMeeting,
    CommitteeMeetingVote,
    add_meeting,
    get_meeting,
    record_outcome,
)
from store.organisations import members_of

__all__ = ["CONCURRENCY", "MeetingAnswer", "record_meeting"]

#: Votes in flight at once.
CONCURRENCY = 8


@dataclass(frozen=True)
class MeetingAnswer:
    created: bool
    body: dict[str, Any]


def _rows(
    actor: Actor, campaign: Campaign, meeting: CommitteeMeetingInput, fingerprint: str, now: Any
) -> tuple[CommitteeMeeting, list[CommitteeMeetingVote]]:
    head = CommitteeMeeting(
        meeting_id=meeting.meeting_id,
        campaign_id=campaign.id,
        held_at=meeting.held_at,
        members_present=list(meeting.members_present),
        fingerprint=fingerprint,
        recorded_by=actor.id,
        recorded_at=now,
    )
    votes = [
        CommitteeMeetingVote(
            meeting_id=meeting.meeting_id,
            declaration_id=v.declaration_id,
            position=n,
            attending=attending(meeting, v),
            in_favor=v.in_favor,
            against=v.against,
            abstain=v.abstain,
            recused=sorted(set(v.recused)),
            reason="",
        )
        for n, v in enumerate(meeting.votes)
    ]
    return head, votes


def _same_vote(view: DeclarationView, row: CommitteeMeetingVote) -> bool:
    vote = view.vote
    return vote is not None and (
        vote.attending,
        vote.in_favor,
        vote.against,
        vote.abstain,
        sorted(vote.recused),
    ) == (row.attending, row.in_favor, row.against, row.abstain, sorted(row.recused))


class _Recorder:
    def __init__(
        self,
        services: Services,
        actor: Actor,
        campaign: Campaign,
        meeting: CommitteeMeetingInput,
        members: int | None,
    ) -> None:
        self.services = services
        self.actor = actor
        self.campaign = campaign
        self.meeting = meeting
        self.members = members
        self.inputs = {v.declaration_id: v for v in meeting.votes}

    async def one(self, row: CommitteeMeetingVote, resumed: bool) -> dict[str, Any]:
        vote: MeetingVoteInput = self.inputs[row.declaration_id]
        facts = await load_facts(self.services, row.declaration_id, with_state=True)
        if facts is None:
            return {"outcome": "refused", "reason": "没有该申报 / unknown declaration"}
        if facts.campaign_id != self.campaign.id:
            reason = (
                f"申报 {facts.id} 不属于评审工作 {self.campaign.id} / the declaration is not in "
                "this campaign"
            )
            await Refusals(self.services).on_declaration(
                self.actor,
                facts,
                action="record_vote",
                reason=reason,
                status=409,
                detail={"meeting_id": self.meeting.meeting_id},
            )
            return {"outcome": "refused", "reason": reason}
        if resumed and self.services.client is not None:
            current = await workflow_view(self.services.client, facts.id)
            if current.state != "committee_review" and _same_vote(current, row):
                return self._answered(current.model_dump(mode="json"))
        cmd = vote_command(self.actor, self.meeting, vote)
        if self.members is not None:
            cmd = cmd.model_copy(update={"members": self.members})
        try:
            answer = await execute(self.services, self.actor, facts, cmd)
        except HTTPException as err:
            if err.status_code in (status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT):
                members = cmd.members or self.campaign.committee_members or 0
                quorum = 3 * cmd.attending >= 2 * members
                return {
                    "outcome": "refused",
                    "reason": str(err.detail),
                    "quorum_met": quorum,
                    "state": facts.state,
                }
            raise
        return self._answered(answer)

    @staticmethod
    def _answered(view: dict[str, Any]) -> dict[str, Any]:
        vote = view.get("vote") or {}
        return {
            "outcome": "passed" if vote.get("passed") else "not_passed",
            "reason": "",
            "quorum_met": vote.get("quorum_met"),
            "state": view["state"],
        }


def _answer(meeting: CommitteeMeeting, votes: list[CommitteeMeetingVote]) -> dict[str, Any]:
    results = [
        {
            "declaration_id": v.declaration_id,
            "attending": v.attending,
            "in_favor": v.in_favor,
            "against": v.against,
            "abstain": v.abstain,
            "recused": list(v.recused),
            "quorum_met": v.quorum_met,
            "outcome": v.outcome,
            "reason": v.reason,
            "state": v.state,
        }
        for v in votes
    ]
    summary = {
        k: sum(1 for r in results if r["outcome"] == k) for k in ("passed", "not_passed", "refused")
    }
    return {
        "meeting_id": meeting.meeting_id,
        "campaign_id": meeting.campaign_id,
        "held_at": meeting.held_at.isoformat(),
        "members_present": len(meeting.members_present),
        "results": results,
        "summary": summary,
    }


async def registered_members(services: Services, campaign: Campaign) -> int | None:
    """The members registered for the campaign's committee (docs/rules.md §2.8, §11): what each
    vote's quorum is measured against. None for a campaign made before the registry (its own
    number stands) or a committee without registered members (the votes are refused)."""
    committee = campaign.committee_org
    if committee is None:
        return None
    return await in_session(services.store, lambda s: members_of(s, committee), readonly=True)


async def record_meeting(
    services: Services, actor: Actor, campaign: Campaign, meeting: CommitteeMeetingInput
) -> MeetingAnswer:
    """Store the meeting, send each declaration its vote, and answer per declaration."""
    store = services.store
    fingerprint = meeting_fingerprint(meeting)
    now = await services.clock()
    head, rows = _rows(actor, campaign, meeting, fingerprint, now)
    created = await in_session(store, lambda s: add_meeting(s, head, rows))
    found = await in_session(store, lambda s: get_meeting(s, meeting.meeting_id), readonly=True)
    assert found is not None
    stored, votes = found
    if not created and (stored.campaign_id != campaign.id or stored.fingerprint != fingerprint):
        reason = (
            f"会议 {meeting.meeting_id} 已按其他内容登记 / the meeting id is already recorded "
            "with other content"
        )
        await Refusals(services).on_campaign(
            actor,
            campaign.id,
            action="record_meeting",
            reason=reason,
            status=409,
            detail={"meeting_id": meeting.meeting_id},
        )
        raise HTTPException(status.HTTP_409_CONFLICT, reason)
    recorder = _Recorder(
        services, actor, campaign, meeting, await registered_members(services, campaign)
    )
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(row: CommitteeMeetingVote) -> None:
        async with gate:
            outcome = await recorder.one(row, resumed=not created)
        at = await services.clock()
        await in_session(
            store,
            lambda s: record_outcome(s, meeting.meeting_id, row.declaration_id, at=at, **outcome),
        )

    await asyncio.gather(*(one(v) for v in votes if v.outcome is None))
    found = await in_session(store, lambda s: get_meeting(s, meeting.meeting_id), readonly=True)
    assert found is not None
    return MeetingAnswer(created=created, body=_answer(*found))
