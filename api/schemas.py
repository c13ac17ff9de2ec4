"""Request and response bodies (api.md §3). Bodies forbid unknown fields (422).

Decision bodies carry the fields of their domain command without the actor, who comes from the
token; the command's own constraints are checked when it is built (:func:`api.commands.build`), so
they live in one place, ``domain.models``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.models import DecisionStage, DefenseMode, MaterialRef

__all__ = [
    "BatchPayment",
    "BatchPaymentItem",
    "CalendarBody",
    "CreatedCampaign",
    "CreatedDeclaration",
    "DeadlinesBody",
    "DecisionBody",
    "DefenseBody",
    "FanOut",
    "MaterialsReceivedBody",
    "MisconductBody",
    "ObjectionBody",
    "Page",
    "PaymentBody",
    "ResolutionBody",
    "SubmitBody",
    "VoteBody",
    "WithdrawBody",
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- decisions


class SubmitBody(Body):
    materials: list[MaterialRef] | None = None
    masked_items: list[Literal["name", "photo", "unit", "secret_material"]] | None = None


class WithdrawBody(Body):
    reason: str = ""


class DecisionBody(Body):
    stage: DecisionStage
    outcome: Literal["approve", "return", "reject"]
    opinion: str = ""
    reasons: list[str] = Field(default_factory=list)
    publicity_result_ref: str | None = None


class ObjectionBody(Body):
    text: str


class ResolutionBody(Body):
    upheld: bool
    opinion: str = ""
    outcome: Literal["return", "reject"] | None = None


class PaymentBody(Body):
    amount: int
    receipt_no: str


class MaterialsReceivedBody(Body):
    form_id: str


class DefenseBody(Body):
    passed: bool
    mode: DefenseMode
    score: float | None = None
    opinion: str = ""


class VoteBody(Body):
    attending: int
    in_favor: int
    against: int
    abstain: int
    recused: list[str] = Field(default_factory=list)


class MisconductBody(Body):
    finding: str
    unit_at_fault: bool = False


# --------------------------------------------------------------------------- batch payment


class BatchPaymentItem(Body):
    declaration_id: str = Field(min_length=1, max_length=100)
    amount: int = Field(gt=0)


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


class CalendarBody(Body):
    version: str = Field(min_length=1, max_length=100)
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)


# --------------------------------------------------------------------------- answers


class CreatedCampaign(BaseModel):
    id: str


class CreatedDeclaration(BaseModel):
    id: str
    state: str


class FanOut(BaseModel):
    """A change sent to many declarations: how many were addressed, updated, and which failed."""

    declarations: int
    updated: int
    failed: list[dict[str, str]] = Field(default_factory=list)


class Page(BaseModel):
    items: list[dict[str, Any]]
    page: int
    page_size: int
    total: int
