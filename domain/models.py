"""Pydantic models shared by the workflow, the activities, the store and the API.

Everything here is plain data: no Temporal, database or I/O import, so the workflow sandbox can
load it and every layer above can depend on it. Field names follow the contract in
``shared/spec/api.md``; new fields always get a default so stored histories keep decoding.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Level = Literal["junior", "intermediate", "deputy_senior", "senior"]
Route = Literal["directed", "private_enterprise"]
Role = Literal[
    "applicant", "unit_reviewer", "authority_reviewer", "committee", "finance", "auditor", "admin"
]
#: Roles whose tokens carry an organisation id.
ORG_ROLES: frozenset[str] = frozenset(
    {"applicant", "unit_reviewer", "authority_reviewer", "finance"}
)
EmployerKind = Literal["public_institution", "state_enterprise", "private_enterprise", "freelance"]
DefenseMode = Literal["onsite", "video", "phone"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# --------------------------------------------------------------------------- campaign


def _senior_levels() -> list[Level]:
    return ["deputy_senior", "senior"]


def _senior_only() -> list[Level]:
    return ["senior"]


class DefensePolicy(Model):
    """§5: who defends, who is exempt, where they defend."""

    required_levels: list[Level] = Field(default_factory=_senior_levels)
    exempt_categories: list[str] = Field(default_factory=list)
    no_exemption_levels: list[Level] = Field(default_factory=_senior_only)
    onsite_affiliations: list[str] = Field(default_factory=list)
    remote_selection: Literal["all", "sample"] = "all"
    remote_sample_rate: float | None = Field(default=None, ge=0, le=1)
    scored: bool = False

    @model_validator(mode="after")
    def _sample_needs_rate(self) -> DefensePolicy:
        if self.remote_selection == "sample" and self.remote_sample_rate is None:
            raise ValueError("remote_selection 'sample' needs remote_sample_rate between 0 and 1")
        return self


class BlacklistPolicy(Model):
    """§2 end: how long misconduct bars the applicant and the unit."""

    applicant_years: int = Field(default=5, ge=0, le=20)
    unit_years: int = Field(default=3, ge=0, le=20)
    #: Years counted from the year after the finding (001's pledge) instead of from the finding.
    applicant_from_next_year: bool = False
    scope: Literal["series_level", "all"] = "series_level"


class ContinuingEducationPolicy(Model):
    """§6: ≥ 90 hours a year, ≥ 60 professional and ≥ 30 public (001, 004)."""

    annual_hours: int = 90
    professional_hours: int = 60
    public_hours: int = 30
    #: Years checked per level; a level missing here checks ``default_years``.
    years_by_level: dict[Level, list[int]] = Field(default_factory=dict)
    default_years: list[int] = Field(default_factory=list)
    #: Private-enterprise applicants applying for the first time are not checked (001).
    private_enterprise_first_time_exempt: bool = True


#: The instants a campaign may name (its ``year`` is bounded alike).
INSTANT_MIN = datetime(2000, 1, 1, tzinfo=UTC)
INSTANT_MAX = datetime(2101, 1, 1, tzinfo=UTC)


class Campaign(Model):
    """One notice (年度评审工作): its windows, fees and policies. Everything that differs between
    notices is here, never in code."""

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=300)
    year: int = Field(ge=2000, le=2100)
    series: str = Field(min_length=1, max_length=100)
    specialties: list[str] = Field(default_factory=list, max_length=100)
    levels: list[Level] = Field(min_length=1)
    declaration_opens_at: AwareDatetime
    declaration_closes_at: AwareDatetime
    review_closes_at: AwareDatetime | None = None
    fee_deadline: AwareDatetime | None = None
    materials_deadline: AwareDatetime | None = None
    fees: dict[Level, int] = Field(default_factory=dict)
    #: Per-route fee overrides (the private-enterprise route may differ); falls back to ``fees``.
    route_fees: dict[Route, dict[Level, int]] = Field(default_factory=dict)
    correction_window_days: int = Field(default=2, ge=1, le=60)
    max_committee_submissions: int = Field(default=3, ge=1, le=20)
    submission_cap_scope: Literal["committee", "applicant"] = "committee"
    resubmit_to: Literal["returner", "unit"] = "returner"
    deadline_applies_to: Literal["committee_arrival", "applicant_submit"] = "committee_arrival"
    late_payment: Literal["abandon", "committee_decides"] = "abandon"
    late_materials: Literal["abandon", "committee_decides"] = "abandon"
    unit_publicity_working_days: int = Field(default=5, ge=5, le=60)
    result_publicity_working_days: int = Field(default=5, ge=5, le=60)
    authority_levels: list[str] = Field(default_factory=list, max_length=10)
    defense: DefensePolicy = Field(default_factory=DefensePolicy)
    blacklist: BlacklistPolicy = Field(default_factory=BlacklistPolicy)
    continuing_education: ContinuingEducationPolicy = Field(
        default_factory=ContinuingEducationPolicy
    )
    #: Seniority counted up to this date (001: 2024-12-31).
    seniority_cutoff: date | None = None
    committee_members: int = Field(default=25, ge=1, le=500)
    paper_materials_required: bool = False
    blind_review: bool = False
    result_confirmation_required: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Campaign:
        for name in ("declaration_opens_at", "declaration_closes_at", "review_closes_at",
                     "fee_deadline", "materials_deadline"):  # fmt: skip
            value = getattr(self, name)
            if value is not None and not INSTANT_MIN <= value <= INSTANT_MAX:
                # Far instants overflowed converting to UTC and answered 500 (reliability).
                raise ValueError(f"{name} must fall between the years 2000 and 2100")
        if not self.declaration_opens_at < self.declaration_closes_at:
            raise ValueError("declaration_opens_at must be before declaration_closes_at")
        if self.review_closes_at is not None and self.review_closes_at < self.declaration_closes_at:
            raise ValueError("review_closes_at must not be before declaration_closes_at")
        for name in ("fee_deadline", "materials_deadline"):
            value = getattr(self, name)
            if value is not None and value < self.declaration_closes_at:
                raise ValueError(f"{name} must not be before declaration_closes_at")
        missing = [lvl for lvl in self.levels if lvl not in self.fees]
        if missing:
            raise ValueError(f"no fee for level(s) {', '.join(missing)}")
        if any(amount <= 0 for amount in self.fees.values()):
            raise ValueError("fees must be positive amounts in CNY")
        if len(set(self.levels)) != len(self.levels):
            raise ValueError("levels must not repeat")
        return self


class CampaignDeadlines(Model):
    """The deadline instants of a campaign that a change (延期) may move."""

    declaration_closes_at: AwareDatetime
    review_closes_at: AwareDatetime | None = None
    fee_deadline: AwareDatetime | None = None
    materials_deadline: AwareDatetime | None = None

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignDeadlines:
        return cls(
            declaration_closes_at=campaign.declaration_closes_at,
            review_closes_at=campaign.review_closes_at,
            fee_deadline=campaign.fee_deadline,
            materials_deadline=campaign.materials_deadline,
        )


# --------------------------------------------------------------------------- applicant


class ContinuingEducationYear(Model):
    year: int
    public_hours: int = Field(default=0, ge=0)
    professional_hours: int = Field(default=0, ge=0)
    #: An approved exemption (免学审批表) covers its own year only.
    exempt: bool = False


class Appraisal(Model):
    year: int
    result: Literal["优秀", "合格", "基本合格", "不合格", "不定等"]


class Applicant(Model):
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(min_length=6, max_length=32, pattern=r"^[0-9A-Za-z]+$")
    affiliation: str = Field(default="", max_length=100)
    employer_kind: EmployerKind = "public_institution"
    categories: list[str] = Field(default_factory=list, max_length=20)
    continuing_education: list[ContinuingEducationYear] = Field(default_factory=list, max_length=20)
    appraisals: list[Appraisal] = Field(default_factory=list, max_length=20)
    mandarin_level: str | None = None
    first_time: bool = False
    #: 两类人才贯通 (001): 高级工 / 技师 / 高级技师 and years in that grade.
    skill_grade: Literal["高级工", "技师", "高级技师"] | None = None
    skill_years: int | None = None


class MaterialRef(Model):
    kind: str = Field(min_length=1, max_length=50)
    ref: str = Field(min_length=1, max_length=500)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class DeclarationInput(Model):
    """What the applicant files (POST /declarations)."""

    campaign_id: str
    level: Level
    route: Route = "directed"
    unit_id: str = Field(min_length=1, max_length=100)
    authority_chain: list[str] = Field(default_factory=list, max_length=10)
    applicant: Applicant
    masked_items: list[Literal["name", "photo", "unit", "secret_material"]] = Field(
        default_factory=list
    )
    materials: list[MaterialRef] = Field(default_factory=list, max_length=100)


# --------------------------------------------------------------------------- actors and commands


class Actor(Model):
    id: str = Field(min_length=1, max_length=100)
    role: Role
    org: str = Field(default="", max_length=100)


SYSTEM = Actor(id="system", role="admin", org="")
"""The actor of every transition the workflow makes by itself (timers, announcements)."""


class Command(Model):
    actor: Actor


class SubmitCommand(Command):
    #: Bounded as the declaration's own list (10k references were taken into the workflow's
    #: state and one audit row: reliability finding).
    materials: list[MaterialRef] | None = Field(default=None, max_length=100)
    masked_items: list[Literal["name", "photo", "unit", "secret_material"]] | None = Field(
        default=None, max_length=4
    )


class WithdrawCommand(Command):
    reason: str = Field(default="", max_length=2000)


DecisionStage = Literal[
    "unit_review",
    "unit_recommendation",
    "authority_review",
    "committee_formal_review",
    "fee_pending",
    "materials_pending",
]


class DecisionCommand(Command):
    stage: DecisionStage
    outcome: Literal["approve", "return", "reject"]
    opinion: str = Field(default="", max_length=4000)
    reasons: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=20
    )
    publicity_result_ref: str | None = Field(default=None, max_length=500)


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


class CalendarChangedCommand(Command):
    year: int
    version: str


class RefusalRecord(Command):
    """A refused attempt the caller saw (an update rejected by a validator), sent back to the
    workflow so that its audit trail holds it in order."""

    action: str
    reason: str = Field(max_length=2000)
    detail: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------- deadlines


class DeadlineExplanation(Model):
    """§10.1: the rule that set a deadline, its inputs and the calendar used."""

    rule: str
    source: str
    inputs: dict[str, str] = Field(default_factory=dict)
    calendar_version: str = ""
    provisional: bool = False
    text: str = ""


class ComputedDeadline(Model):
    at: AwareDatetime
    explanation: DeadlineExplanation
    #: First and last day shown on a publicity notice (公示时间从…起至…止).
    first_day: date | None = None
    last_day: date | None = None


DeadlineKind = Literal[
    "declaration", "correction", "publicity_ends", "fee", "materials", "at_risk_from"
]


class DeadlineRequest(Model):
    """Input of the deadline activity: what to compute from which instant."""

    declaration_id: str
    kind: Literal["correction", "unit_publicity", "result_publicity", "at_risk_from"]
    start: AwareDatetime
    campaign: Campaign
    #: For ``at_risk_from``: working days the chain still needs before the declaration deadline.
    working_days_needed: int = 0
    #: For ``at_risk_from``: the declaration deadline the need is measured against.
    until: AwareDatetime | None = None


class AtRiskTable(Model):
    """§10.2: for each number of working days the chain may still need, the instant from which
    fewer remain before ``until``. Computed once per declaration deadline (and calendar), so a
    transition picks its instant without another activity call."""

    until: AwareDatetime
    instants: dict[int, ComputedDeadline] = Field(default_factory=dict)


# --------------------------------------------------------------------------- view


class ApplicantView(Model):
    name: str
    id_number: str
    unit_id: str
    affiliation: str


class PendingAction(Model):
    role: Role
    org: str = ""
    action: str
    due_at: AwareDatetime | None = None


class FeeView(Model):
    due: int
    paid: bool = False
    receipt_no: str | None = None
    late: bool = False


class MaterialsView(Model):
    required: bool
    form_id: str | None = None
    received: bool = False
    late: bool = False


class DefenseView(Model):
    required: bool
    venue: Literal["onsite", "remote"] | None = None
    mode: DefenseMode | None = None
    passed: bool | None = None
    score: float | None = None
    exemption: str | None = None
    drawn: bool | None = None


class VoteRecord(Model):
    """§10.3: quorum, tally and recusals kept with the result; the ballot stays secret."""

    members: int
    attending: int
    in_favor: int
    against: int
    abstain: int
    recused: list[str] = Field(default_factory=list)
    quorum_met: bool
    passed: bool


class ObjectionView(Model):
    id: str
    publicity: Literal["unit_publicity", "result_publicity"]
    lodged_at: AwareDatetime
    lodged_by: str
    text: str
    resolved: bool = False
    upheld: bool | None = None


class ResultView(Model):
    certificate_no: str
    announced_at: AwareDatetime


class Deadlines(Model):
    declaration: AwareDatetime | None = None
    correction: AwareDatetime | None = None
    publicity_ends: AwareDatetime | None = None
    fee: AwareDatetime | None = None
    materials: AwareDatetime | None = None


class DeclarationView(Model):
    """GET /declarations/{id} (api.md §3), also the workflow's query result."""

    id: str
    campaign_id: str
    level: Level
    route: Route = "directed"
    series: str = ""
    state: str
    applicant: ApplicantView
    unit_id: str = ""
    authority_chain: list[str] = Field(default_factory=list)
    authority_index: int = 0
    pending: PendingAction | None = None
    committee_submissions: int = 0
    applicant_submissions: int = 0
    returned_from: str | None = None
    deadlines: Deadlines = Field(default_factory=Deadlines)
    deadline_explanations: dict[str, str] = Field(default_factory=dict)
    provisional_deadlines: list[str] = Field(default_factory=list)
    fee: FeeView
    materials: MaterialsView
    defense: DefenseView
    vote: VoteRecord | None = None
    objections: list[ObjectionView] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    at_risk: bool = False
    at_risk_from: AwareDatetime | None = None
    masked_items: list[str] = Field(default_factory=list)
    result: ResultView | None = None
    #: Sequence number of the last audit event: the read model's version.
    version: int = 0
    updated_at: AwareDatetime | None = None


# --------------------------------------------------------------------------- audit and side effects


class ObjectionLodged(DeclarationView):
    """The answer to ``lodge_objection``: the new view and the id the objection was given."""

    objection_id: str = ""


class AuditEventIn(Model):
    """One audit event as the workflow emits it (§8). The store adds ``prev_hash`` and ``hash``."""

    declaration_id: str
    campaign_id: str
    seq: int = Field(ge=1)
    at: AwareDatetime
    actor_id: str
    actor_role: str
    actor_org: str = ""
    action: str
    stage_before: str | None = None
    stage_after: str | None = None
    outcome: Literal["accepted", "refused"] = "accepted"
    opinion: str = ""
    reasons: list[str] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)


class Notification(Model):
    """One row of the notification outbox. ``key`` makes a retry a no-op; a reminder with the same
    ``supersedes`` group replaces the earlier one."""

    key: str
    declaration_id: str
    recipient_role: str
    recipient_org: str = ""
    recipient_id: str = ""
    kind: str
    text: str
    send_after: AwareDatetime
    supersedes: str | None = None


class RecordBatch(Model):
    """Input of ``record_audit_event``: the new events of one step, the view after it, and the
    notifications it causes, written in one transaction."""

    events: list[AuditEventIn]
    view: DeclarationView
    notifications: list[Notification] = Field(default_factory=list)
    #: Reminder groups that no longer apply (the deadline passed or the stage moved on).
    cancel_reminders: list[str] = Field(default_factory=list)


class RecordResult(Model):
    written: int
    already_present: int
    #: How far the batch's sequence numbers moved to follow events that a workflow task which
    #: never completed had written (store.audit_tail); the workflow moves its counter as much.
    shift: int = 0


class ScreeningRequest(Model):
    declaration_id: str
    campaign: Campaign
    declaration: DeclarationInput
    at: AwareDatetime


class ScreeningResult(Model):
    """What the store knows that the workflow cannot: blacklists and other live declarations."""

    refusal: str | None = None
    unit_barred_until: AwareDatetime | None = None


class FeeConfirmation(Model):
    declaration_id: str
    campaign_id: str
    receipt_no: str
    amount: int
    due: int
    payer_org: str = ""
    confirmed_by: str
    at: AwareDatetime


class FeeBatch(Model):
    """One receipt for many declarations (推荐单位代收 / 统一缴纳): all or nothing."""

    receipt_no: str
    payer_org: str = ""
    confirmed_by: str
    at: AwareDatetime
    items: list[FeeConfirmation] = Field(min_length=1)


class FeeReceipt(Model):
    receipt_no: str
    declaration_ids: list[str]
    newly_recorded: int


class PublicityRequest(Model):
    declaration_id: str
    campaign: Campaign
    kind: Literal["unit_publicity", "result_publicity"]
    start: AwareDatetime


class PublicityOpened(Model):
    kind: str
    deadline: ComputedDeadline


class PublicityClosed(Model):
    kind: str
    closed_at: AwareDatetime
    objections: int = 0


class PublicityCloseRequest(Model):
    declaration_id: str
    kind: Literal["unit_publicity", "result_publicity"]
    closed_at: AwareDatetime
    outcome: Literal["completed", "interrupted"] = "completed"


class ReviewFormRequest(Model):
    declaration_id: str
    campaign_id: str
    level: Level
    issued_at: AwareDatetime


class ReviewForm(Model):
    form_id: str
    watermark_id: str


class AnnouncementRequest(Model):
    declaration_id: str
    campaign_id: str
    series: str
    level: Level
    applicant_name: str
    announced_at: AwareDatetime


class Announcement(Model):
    certificate_no: str
    announced_at: AwareDatetime


class BlacklistRequest(Model):
    declaration_id: str
    campaign: Campaign
    level: Level
    id_number: str
    unit_id: str
    unit_at_fault: bool
    finding: str
    found_at: AwareDatetime


class RevocationRequest(Model):
    declaration_id: str
    certificate_no: str
    revoked_at: AwareDatetime


class DeclarationStart(Model):
    """The workflow's input: the campaign as it stood when the declaration was created, and the
    declaration itself. ``carried`` is set only on continue-as-new."""

    declaration_id: str
    campaign: Campaign
    declaration: DeclarationInput
    filed_by: Actor
    created_at: AwareDatetime
    carried: dict[str, Any] | None = None
    #: Set by the starter once the custom search attributes exist on the namespace.
    search_attributes: bool = False
    #: ``"local_activity"`` keeps this declaration on the audit write from before the
    #: ``audit-write-in-history`` patch (a local activity inside the workflow task, with the
    #: store's reconciliation of rows a task that never completed wrote): for the benchmark
    #: that compares the two (bench/RESULTS.md §7). ``None``: the current way.
    audit_write: Literal["local_activity"] | None = None


def as_of(value: datetime) -> str:
    """An instant as ISO 8601 text, for explanations and audit detail."""
    return value.isoformat()
