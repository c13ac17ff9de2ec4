"""The commands people (and the workflow's own timers) send a declaration, one model each.

Which roles may send each, how it is refused and how it is applied: :mod:`domain.commands`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field

from domain.models.base import Actor, DefenseMode, Model
from domain.models.campaign import CampaignDeadlines
from domain.models.declaration import Applicant, Attachment, MaterialRef


class Command(Model):
    actor: Actor


class SubmitCommand(Command):
    #: Bounded as the declaration's own list (10k references were taken into the workflow's
    #: state and one audit row: reliability finding).
    materials: list[MaterialRef] | None = Field(default=None, max_length=100)
    masked_items: list[Literal["name", "photo", "unit", "secret_material"]] | None = Field(
        default=None, max_length=4
    )
    #: A resubmission's corrected applicant data (appraisals, continuing education,
    #: certificates): the eligibility flags are recomputed from it (docs/rules.md §6). The person
    #: (name and ID number) does not change.
    applicant: Applicant | None = None
    #: 委托评审函 (route ``entrusted``), when not attached at creation.
    entrustment: Attachment | None = None


class WithdrawCommand(Command):
    reason: str = Field(default="", max_length=2000)


DecisionStage = Literal[
    "unit_review",
    "unit_recommendation",
    "authority_review",
    "committee_formal_review",
    "fee_pending",
    "materials_pending",
    "entrustment_review",
    "result_confirmation",
]


class DecisionCommand(Command):
    stage: DecisionStage
    outcome: Literal["approve", "return", "reject"]
    opinion: str = Field(default="", max_length=4000)
    reasons: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=20
    )
    publicity_result_ref: str | None = Field(default=None, max_length=500)
    #: At ``unit_review`` approval: which of the applicant's claimed exemption categories the
    #: unit confirms (None: all of them); a category left out no longer exempts (docs/rules.md §5).
    categories_confirmed: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, max_length=20
    )
    #: At a ``unit_review`` re-confirmation (再上报): the publicised facts changed, so the unit
    #: publicity runs again (docs/rules.md §3); otherwise it does not.
    republish: bool = False


class ObjectionCommand(Command):
    text: str = Field(min_length=1, max_length=4000)


class ObjectionResolutionCommand(Command):
    objection_id: str
    upheld: bool
    opinion: str = Field(default="", max_length=4000)
    outcome: Literal["return", "reject"] | None = None


class PaymentCommand(Command):
    amount: int = Field(gt=0)
    receipt_no: str = Field(min_length=1, max_length=100)
    payer_org: str = Field(default="", max_length=100)
    #: Set when the payment is one item of a batch already confirmed under one receipt.
    confirmed_in_batch: bool = False


class MaterialsReceivedCommand(Command):
    form_id: str = Field(min_length=1, max_length=100)


class DefenseCommand(Command):
    passed: bool
    mode: DefenseMode
    score: float | None = Field(default=None, ge=0, le=100)
    opinion: str = Field(default="", max_length=4000)


#: A count of committee members' votes: no committee has more than 500 members (Campaign), and
#: an unbounded count overflowed the database's integer columns (fuzzing finding).
VoteCount = Annotated[int, Field(ge=0, le=1000)]


class VoteCommand(Command):
    attending: VoteCount
    in_favor: VoteCount
    against: VoteCount
    abstain: VoteCount
    recused: list[str] = Field(default_factory=list, max_length=100)
    #: The committee's registered members (docs/rules.md §11), filled in by the service from the
    #: organisation registry, never typed by a person.
    members: int | None = Field(default=None, ge=1, le=500)
    #: The committee meeting (评审会议) the vote was taken at, when recorded in bulk.
    meeting_id: str | None = Field(default=None, max_length=100)


class MisconductCommand(Command):
    finding: str = Field(min_length=1, max_length=4000)
    unit_at_fault: bool = False


class ResultConfirmationCommand(Command):
    confirmed: bool
    opinion: str = Field(default="", max_length=4000)


class DeadlineChangeCommand(Command):
    deadlines: CampaignDeadlines
    #: Instant of the change, stamped by whoever fans the change out.
    changed_at: AwareDatetime


class CloseReviewCommand(Command):
    """The committee closes a campaign's review that has no ``review_closes_at``: declarations
    still waiting in ``returned`` end as ``not_accepted`` (docs/rules.md §3 resubmission limit)."""

    closed_at: AwareDatetime


class CalendarChangedCommand(Command):
    year: int
    version: str


class RefusalRecord(Command):
    """A refused attempt the caller saw (an update rejected by a validator), sent back to the
    workflow so that its audit trail holds it in order."""

    action: str
    reason: str = Field(max_length=2000)
    #: The refusal's stable code (``domain.chain.Refusal.code``), also the audit event's reason.
    code: str = Field(default="", max_length=100)
    detail: dict[str, Any] = Field(default_factory=dict)
