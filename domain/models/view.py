"""The declaration as readers see it: ``GET /declarations/{id}`` and the workflow's query."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from domain.models.base import DefenseMode, Level, Model, PublicityKind, Role, Route
from domain.models.declaration import ServiceYear
from domain.models.organisations import Region


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
    #: None: the notice names no fee; finance records what the office charged.
    due: int | None
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
    #: For an exempt applicant where defenses are scored (003): the average of the year's
    #: on-site scores of the same specialty, once there is one.
    average_score: float | None = None


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
    publicity: PublicityKind
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
    """GET /declarations/{id} (docs/rules.md §15), also the workflow's query result."""

    id: str
    campaign_id: str
    level: Level
    route: Route = "directed"
    series: str = ""
    specialty: str | None = None
    #: The unit's registered region (masked under blind review, docs/rules.md §9).
    region: Region | None = None
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
    #: The years of grassroots service claimed (route ``direct_recognition``, 004 附件2 三(二)).
    service_years: list[ServiceYear] = Field(default_factory=list)
    result: ResultView | None = None
    #: Sequence number of the last audit event: the read model's version.
    version: int = 0
    updated_at: AwareDatetime | None = None


class ObjectionLodged(DeclarationView):
    """The answer to ``lodge_objection``: the new view and the id the objection was given."""

    objection_id: str = ""
