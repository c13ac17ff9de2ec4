"""What one declaration's chain remembers (carried whole across continue-as-new), the side
effects a transition asks the workflow for, and the refusal a command gets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol

from pydantic import AwareDatetime, Field

from domain.models import (
    Actor,
    AtRiskTable,
    Campaign,
    CampaignDeadlines,
    ComputedDeadline,
    DeclarationInput,
    DefenseView,
    Model,
    ObjectionView,
    PublicityKind,
    ResultView,
    ScreeningResult,
    VoteRecord,
)
from domain.states import StateName, label

__all__ = [
    "BLIND_SUBMISSION_MASKED",
    "DEADLINE_CHANGE_NOOP",
    "HISTORY_EVENT_BUDGET",
    "LATE_ACCEPTANCE",
    "NO_SECOND_PUBLICITY",
    "OBJECTIONS_BOUNDED",
    "REMINDER_LEAD",
    "UNIT_BAR_AT_DECISION",
    "VOTE_QUORUM_ON_PRESENT",
    "ChainState",
    "CurrentRules",
    "Effect",
    "EffectKind",
    "Prepared",
    "Refusal",
    "Rules",
    "Step",
    "explain",
    "is_filer",
    "wrong_state",
]

S = StateName

#: Continue-as-new once the history holds this many events (Temporal's own hint comes later).
HISTORY_EVENT_BUDGET = 250

REMINDER_LEAD = timedelta(hours=24)


class Rules(Protocol):
    """Which rule changes apply to this declaration. A change to a rule that running
    declarations already follow is adopted at the point the rule is used: the workflow answers
    with ``workflow.patched(change)``, so a history recorded before the change replays on the
    old rule (docs/reliability.md "Changing workflow code"). Outside a workflow every change
    applies."""

    def enabled(self, change: str) -> bool: ...


class CurrentRules:
    """Every rule as it stands now (tests, tools, the view)."""

    def enabled(self, change: str) -> bool:
        return True


#: A deadline change already in force is a no-op (a retried fan-out changes a declaration once).
#: Deprecated: every declaration follows it; the workflow still writes its marker, so histories
#: recorded with or without it replay.
DEADLINE_CHANGE_NOOP = "deadline-change-noop-if-unchanged"
#: docs/rules.md §2.8: the quorum counts the members present at the meeting; a recusal lowers
#: only the number voting (before: recused members counted as absent).
VOTE_QUORUM_ON_PRESENT = "rules-v3-vote-quorum-on-present"
#: docs/rules.md §3: a unit re-confirming a declaration whose unit publicity has run does not
#: run it again unless it says the publicised facts changed (before: every approval did).
NO_SECOND_PUBLICITY = "rules-v3-no-second-publicity"
#: docs/rules.md §2.6: formal acceptance is refused when less than one full working day remains
#: before the fee or materials deadline (before: the committee's delay could abandon the file).
LATE_ACCEPTANCE = "rules-v3-late-acceptance"
#: docs/rules.md §2 (end): the unit's bar is read when the unit decides, not only at submission.
UNIT_BAR_AT_DECISION = "rules-v3-unit-bar-at-decision"
#: docs/rules.md §9: a blind-review submission is refused unless name, photo and unit are masked.
BLIND_SUBMISSION_MASKED = "rules-v3-blind-submission-masked"
#: docs/rules.md §10.8: at most 3 open objections per person per declaration; their texts stay
#: in the audit trail, not in the declaration's carried state.
OBJECTIONS_BOUNDED = "rules-v3-objections-bounded"


@dataclass(frozen=True)
class Refusal:
    """Why a command cannot be applied now: a stable ``code`` (the API's problem code is the
    command's name and this code, e.g. ``record_payment.wrong_amount``) and the message a
    reviewer reads, in Chinese and English."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Prepared:
    """What the workflow did before a command applies: the store's screening of a submission."""

    screening: ScreeningResult | None = None


EffectKind = Literal[
    "open_publicity",
    "close_publicity",
    "compute_correction",
    "compute_at_risk",
    "compute_acceptance",
    "issue_review_form",
    "announce",
    "blacklist",
    "revoke_certificate",
]


class Effect(Model):
    """A side effect the workflow carries out after a transition, as an activity."""

    kind: EffectKind
    publicity: PublicityKind | None = None
    start: AwareDatetime | None = None
    finding: str = ""
    unit_at_fault: bool = False
    found_at: AwareDatetime | None = None
    #: ``close_publicity`` of a publicity cut short by a withdrawal, misconduct or the
    #: declaration deadline (the workflow carries it out under a ``workflow.patched`` guard).
    interrupted: bool = False


class ChainState(Model):
    """Everything the workflow remembers; carried whole across continue-as-new."""

    declaration_id: str
    campaign: Campaign
    declaration: DeclarationInput
    filed_by: Actor
    created_at: AwareDatetime
    state: StateName = S.draft
    deadlines: CampaignDeadlines
    authority_index: int = 0
    returned_from: str | None = None
    returned_index: int | None = None
    returned_at: AwareDatetime | None = None
    committee_submissions: int = 0
    applicant_submissions: int = 0
    reached_committee: bool = False
    computed: dict[str, ComputedDeadline] = Field(default_factory=dict)
    publicity_started_at: AwareDatetime | None = None
    publicity_over: bool = False
    fee_due: int | None
    fee_paid: bool = False
    receipt_no: str | None = None
    fee_late: bool = False
    materials_required: bool
    form_id: str | None = None
    watermark_id: str | None = None
    materials_received: bool = False
    materials_late: bool = False
    defense: DefenseView
    vote: VoteRecord | None = None
    objections: list[ObjectionView] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    unit_barred_until: AwareDatetime | None = None
    result: ResultView | None = None
    at_risk: bool = False
    recommendation_ref: str | None = None
    at_risk_table: AtRiskTable | None = None
    #: Set when a calendar change asked for a new at-risk table: the recomputed at-risk instant
    #: is then explained in the audit trail (docs/rules.md §7, §10.1) even when the flag itself
    #: does not flip.
    explain_at_risk: bool = False
    #: The exemption categories the unit confirmed at its review (None: not yet: claims count).
    confirmed_categories: list[str] | None = None
    #: The unit publicity has run to its end once: a re-confirmation (再上报) does not repeat it.
    unit_publicity_passed: bool = False
    #: For committee formal review: from which instant fewer than 1 (then 3) full working days
    #: remain before the fee or materials deadline (docs/rules.md §2.6 late acceptance).
    acceptance_table: AtRiskTable | None = None
    seq: int = 0
    last_event_at: AwareDatetime | None = None


class Step(Model):
    """What one applied command answers beyond the view (e.g. a new objection's id)."""

    result: dict[str, Any] = Field(default_factory=dict)


def explain(computed: ComputedDeadline) -> str:
    """One line an auditor can defend a date with: result, rule source, calendar used (§10.1)."""
    e = computed.explanation
    return f"{e.text} [{e.source}; calendar {e.calendar_version}]"


def wrong_state(state: StateName, wanted: str) -> Refusal:
    """The refusal of a command that does not fit the declaration's current stage."""
    return Refusal(
        "wrong_stage",
        f"该申报当前处于「{label(state)}」阶段，不能{wanted} / the declaration is at {state.value}",
    )


def is_filer(state: ChainState, actor: Actor) -> bool:
    """The applicant who filed the declaration (the token's ``sub``)."""
    return actor.role == "applicant" and actor.id == state.filed_by.id
