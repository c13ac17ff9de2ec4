"""Request and response bodies (docs/rules.md §15). Bodies forbid unknown fields (422).

Decision bodies carry the fields of their domain command without the actor, who comes from the
token; the command's own constraints are checked when it is built (:func:`api.commands.build`), so
they live in one place, ``domain.models``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from domain.fees import MAX_FEE
from domain.models import (
    Applicant,
    Attachment,
    DecisionStage,
    DeclarationInput,
    DefenseMode,
    MaterialRef,
    OrgKind,
    Region,
)

__all__ = [
    "MAX_PAGE",
    "BatchPayment",
    "BatchPaymentItem",
    "CalendarBody",
    "CreatedCampaign",
    "CreatedDeclaration",
    "DeadlinesBody",
    "DecisionBody",
    "DeclarationBody",
    "DefenseBody",
    "FanOut",
    "MaterialsReceivedBody",
    "MisconductBody",
    "ObjectionBody",
    "OrganisationBody",
    "Page",
    "PaymentBody",
    "ResolutionBody",
    "SubmitBody",
    "VoteBody",
    "WithdrawBody",
]


class Body(BaseModel):
    """Unknown fields are refused; counts, amounts and yes/no answers take JSON numbers and
    booleans only (``true`` was an amount of 1, ``"yes"`` a passed defense: reliability)."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- filing


class DeclarationBody(DeclarationInput):
    """``POST /declarations``: what the applicant files. ``series`` and ``specialty`` are
    required (one the campaign reviews at that level); ``authority_chain`` may be left out and, if
    sent, must equal the chain derived from the registry (docs/rules.md §2.4); the region is the
    unit's registered one and is never sent; ``applicant.affiliation`` is ignored (§5, §11)."""

    series: str = Field(min_length=1, max_length=100)
    specialty: str = Field(min_length=1, max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _region_is_derived(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("region") is not None:
            raise ValueError(
                "region 由申报单位的登记信息确定，不可填写 / region is the unit's registered "
                "region: leave it out"
            )
        return data


# --------------------------------------------------------------------------- organisations


class OrganisationBody(Body):
    """``PUT /organisations/{id}``: the organisation but its id (the path's). ``members`` only
    for a committee (the quorum's measure); ``parent_id`` the authority directly above."""

    kind: OrgKind
    name: str
    region: Region | None = None
    parent_id: str | None = None
    members: StrictInt | None = None
    email: str | None = None


# --------------------------------------------------------------------------- decisions


class SubmitBody(Body):
    materials: list[MaterialRef] | None = Field(default=None, max_length=100)
    masked_items: list[Literal["name", "photo", "unit", "secret_material"]] | None = Field(
        default=None, max_length=4
    )
    #: A resubmission's corrected applicant data; the eligibility flags are recomputed from it
    #: (docs/rules.md §6). Name and ID number stay the person's.
    applicant: Applicant | None = None
    #: 委托评审函 (route ``entrusted``), if not attached when the declaration was filed.
    entrustment: Attachment | None = None


class WithdrawBody(Body):
    reason: str = ""


class DecisionBody(Body):
    stage: DecisionStage
    outcome: Literal["approve", "return", "reject"]
    opinion: str = ""
    reasons: list[str] = Field(default_factory=list)
    publicity_result_ref: str | None = None
    #: At the unit's approval: the claimed exemption categories it confirms (docs/rules.md §5).
    categories_confirmed: list[str] | None = None
    #: At the unit's re-confirmation: the publicised facts changed, so publicise again (§3).
    republish: StrictBool = False


class ObjectionBody(Body):
    #: docs/rules.md §10.8: at most 2,000 characters.
    text: str = Field(min_length=1, max_length=2000)


class ResolutionBody(Body):
    upheld: StrictBool
    opinion: str = ""
    outcome: Literal["return", "reject"] | None = None


class PaymentBody(Body):
    amount: StrictInt = Field(gt=0, le=MAX_FEE)
    receipt_no: str


class MaterialsReceivedBody(Body):
    form_id: str


class DefenseBody(Body):
    passed: StrictBool
    mode: DefenseMode
    score: float | None = None
    opinion: str = ""


class VoteBody(Body):
    attending: StrictInt
    in_favor: StrictInt
    against: StrictInt
    abstain: StrictInt
    recused: list[str] = Field(default_factory=list)


class MisconductBody(Body):
    finding: str
    unit_at_fault: StrictBool = False


# --------------------------------------------------------------------------- batch payment


class BatchPaymentItem(Body):
    declaration_id: str = Field(min_length=1, max_length=100)
    amount: StrictInt = Field(gt=0, le=MAX_FEE)


class BatchPayment(Body):
    """One receipt for many declarations (推荐单位代收 / 统一缴纳): all or nothing."""

    receipt_no: str = Field(min_length=1, max_length=100)
    payer_org: str = Field(default="", max_length=100)
    items: list[BatchPaymentItem] = Field(min_length=1, max_length=1000)


# --------------------------------------------------------------------------- campaign, calendar


class DeadlinesBody(Body):
    """The campaign deadlines to move (延期); a field left out stays, ``null`` removes an
    optional deadline."""

    declaration_closes_at: AwareDatetime | None = None
    review_closes_at: AwareDatetime | None = None
    fee_deadline: AwareDatetime | None = None
    materials_deadline: AwareDatetime | None = None
    #: An extension announced after a deadline passed reopens the declarations that deadline
    #: ended (docs/rules.md §3): each continues from the state it was in, audited.
    reopen: StrictBool = False


class CalendarBody(Body):
    version: str = Field(min_length=1, max_length=100)
    #: A year has at most 366 days (a longer list was taken whole: reliability finding).
    holidays: list[date] = Field(default_factory=list, max_length=366)
    workdays: list[date] = Field(default_factory=list, max_length=366)
    #: Without it, a load that would remove official holidays (loaded before, or packaged) is
    #: refused with 409 and the difference.
    replace: StrictBool = False


# --------------------------------------------------------------------------- answers


class CreatedCampaign(BaseModel):
    id: str
    #: Fields accepted and ignored (``authority_levels``, ``committee_members``), and why; left
    #: out of the answer when there are none.
    warnings: list[str] | None = None


class CreatedDeclaration(BaseModel):
    id: str
    state: str


class FanOut(BaseModel):
    """A change sent to many declarations: how many were addressed, updated, and which failed."""

    declarations: int
    updated: int
    failed: list[dict[str, str]] = Field(default_factory=list)


#: The highest page number a list answers: a larger offset overflowed the database's 64-bit
#: OFFSET and answered 500 (fuzzing finding); no list holds a million pages.
MAX_PAGE = 1_000_000


class Page(BaseModel):
    items: list[dict[str, Any]]
    page: int
    page_size: int
    total: int
