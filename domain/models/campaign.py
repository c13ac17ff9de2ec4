"""A campaign: one notice (年度评审工作) with its windows, fees and policies (docs/rules.md §1-§7).

Everything that differs between notices is here, as data, never in code."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.models.base import Level, Model, Route

#: The most a fee may be (CNY; why: ``domain.fees``). Checked where a campaign enters the
#: service (``domain.campaign_checks``), never when a stored one is read.
MAX_FEE = 100_000
#: A fee as the API takes it: a positive amount of CNY, at most :data:`MAX_FEE` (the bounds
#: are the schema's; the checks are the campaign's own and ``domain.campaign_checks``).
Fee = Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_FEE})]


def _senior_levels() -> list[Level]:
    return ["deputy_senior", "senior"]


def _senior_only() -> list[Level]:
    return ["senior"]


class DefensePolicy(Model):
    """docs/rules.md §5: who defends, who is exempt, where they defend.

    ``venue``: ``open`` (the notice names no venue: any mode is recorded), ``by_region`` (units
    whose registered region is in ``onsite_regions`` defend on site, the others remotely, for the
    levels in ``venue_levels``; 000). ``by_affiliation`` is how campaigns made before the
    organisation registry chose the venue (the applicant's typed ``affiliation`` against
    ``onsite_affiliations``): a stored campaign without ``venue`` keeps it, so its declarations
    replay as they ran."""

    required_levels: list[Level] = Field(default_factory=_senior_levels)
    exempt_categories: list[str] = Field(default_factory=list)
    no_exemption_levels: list[Level] = Field(default_factory=_senior_only)
    venue: Literal["open", "by_region", "by_affiliation"] = "open"
    onsite_regions: list[str] = Field(default_factory=list, max_length=100)
    #: Levels the venue rule concerns (empty: every level that defends).
    venue_levels: list[Level] = Field(default_factory=list)
    onsite_affiliations: list[str] = Field(default_factory=list)
    remote_selection: Literal["all", "sample"] = "all"
    remote_sample_rate: float | None = Field(default=None, ge=0, le=1)
    scored: bool = False

    #: A rate with ``sample`` and only then, as JSON Schema says it (the rule below, and
    #: ``domain.campaign_checks`` for a rate left with ``all``).
    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "properties": {"remote_selection": {"const": "sample"}},
                "required": ["remote_selection"],
            },
            "then": {
                "properties": {
                    "remote_sample_rate": {"type": "number", "minimum": 0, "maximum": 1}
                },
                "required": ["remote_sample_rate"],
            },
            "else": {"properties": {"remote_sample_rate": {"type": "null"}}},
        }
    )

    @model_validator(mode="before")
    @classmethod
    def _venue_of_older_campaigns(cls, data: Any) -> Any:
        if isinstance(data, dict) and "venue" not in data and "onsite_affiliations" in data:
            return {**data, "venue": "by_affiliation"}
        return data

    @model_validator(mode="after")
    def _sample_needs_rate(self) -> DefensePolicy:
        if self.remote_selection == "sample" and self.remote_sample_rate is None:
            raise PydanticCustomError(  # between two fields: a rule of its own (no schema)
                "campaign.sample_rate",
                "remote_selection 'sample' needs remote_sample_rate between 0 and 1",
            )
        return self


class BlacklistPolicy(Model):
    """docs/rules.md §2 (end): how long misconduct bars the applicant and the unit, and from
    which titles: the same series at every level (``series``, default), the same series and level
    (``series_level``) or every title (``all``). A bar always runs from the finding."""

    applicant_years: int = Field(default=5, ge=0, le=20)
    unit_years: int = Field(default=3, ge=0, le=20)
    #: Read by campaigns made before bars ran from the finding; a bar now never starts later.
    applicant_from_next_year: bool = False
    scope: Literal["series", "series_level", "all"] = "series"


class ContinuingEducationRule(Model):
    """docs/rules.md §6: one continuing-education requirement, as its notice states it: which
    years are checked, the least hours in each (in total, professional, public courses), for
    which levels and routes (empty: all). 001: ≥ 90 a year of which ≥ 60 professional,
    2021-2024; 004: 90 / 60 / 30 from 2021; 003: public courses over the last 4 years and the
    current year's professional courses."""

    years: list[int] = Field(min_length=1, max_length=20)
    min_total: int | None = Field(default=None, ge=0, le=1000)
    min_professional: int | None = Field(default=None, ge=0, le=1000)
    min_public: int | None = Field(default=None, ge=0, le=1000)
    levels: list[Level] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    #: Private-enterprise applicants applying for the first time are not checked (001 四(一)6).
    exempt_first_time_private: bool = False
    #: Where the rule comes from (the notice clause), shown with the flag.
    source: str = Field(default="", max_length=300)


class AppraisalPolicy(Model):
    """docs/rules.md §6: the annual appraisals of the three years before the campaign's year.
    Routes in ``exempt_routes`` need none (003: 民营企业不需提供)."""

    exempt_routes: list[Route] = Field(default_factory=list)
    #: Employer kinds that need none (003: private enterprise and freelance staff).
    exempt_employer_kinds: list[str] = Field(default_factory=list)


def _older_continuing_education(value: Any) -> Any:
    """Campaigns made before rules were campaign data kept one policy (90 / 60 / 30 hours a year
    over ``years_by_level`` or ``default_years``); read it as the same rules."""
    if not isinstance(value, dict):
        return value
    hours = {
        "min_total": value.get("annual_hours", 90),
        "min_professional": value.get("professional_hours", 60),
        "min_public": value.get("public_hours", 30),
        "exempt_first_time_private": value.get("private_enterprise_first_time_exempt", True),
    }
    by_level = value.get("years_by_level") or {}
    rules = [{"years": years, "levels": [level], **hours} for level, years in by_level.items()]
    if value.get("default_years"):
        others = [
            lvl
            for lvl in ("junior", "intermediate", "deputy_senior", "senior")
            if lvl not in by_level
        ]
        rules.append({"years": value["default_years"], "levels": others, **hours})
    return rules


class RoutePolicy(Model):
    """docs/rules.md §12: a route the campaign opens, and where it differs from the directed one."""

    #: A fixed chain of authority bodies instead of the unit's registered ancestors (001 二(二):
    #: the private-enterprise route goes through the public employment service).
    authority_chain: list[str] | None = Field(default=None, max_length=10)
    #: The route's own fees, which win over the campaign's (003: 初次确定 junior 100, ...).
    fees: dict[Level, Fee | None] = Field(default_factory=dict)
    #: 定向评价、定向使用 (001): the certificate states its scope (the committee's region).
    scoped: bool = False


def _directed_only() -> dict[Route, RoutePolicy]:
    return {"directed": RoutePolicy()}


class SeriesSpec(Model):
    """A series a campaign reviews: its specialties and the levels it reviews them at."""

    specialties: list[str] = Field(min_length=1, max_length=100)
    levels: list[Level] = Field(min_length=1)


class MaterialKind(Model):
    """One kind of uploaded material in a campaign's catalogue (网上申报, docs/rules.md §19)."""

    required: bool = False
    levels: list[Level] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    uploader: Literal["applicant", "unit"] = "applicant"
    max_mb: int = Field(default=20, ge=1, le=200)
    label: str = Field(default="", max_length=100)
    #: The file types this kind takes, judged from the content (empty: PDF, JPEG and PNG);
    #: e.g. the photo of the electronic certificate is an image (000 附件2 一(二)1).
    types: list[Literal["pdf", "jpeg", "png"]] = Field(default_factory=list, max_length=3)


#: The years a campaign's instants may fall in, as written (with their own offset).
INSTANT_YEARS = (2000, 2100)
#: RFC 3339 date-time text with an offset, in the years 2000-2100 as written.
INSTANT_PATTERN = (
    r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
#: A campaign's instant: RFC 3339 with an offset, in the years 2000-2100 as written.
Instant = Annotated[
    AwareDatetime,
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN}),
]


#: Every instant a campaign names (a campaign moved in time moves these, all by the same shift).
CAMPAIGN_INSTANTS: tuple[str, ...] = (
    "declaration_opens_at",
    "declaration_closes_at",
    "review_closes_at",
    "fee_deadline",
    "materials_deadline",
)


def _windows(message: str) -> PydanticCustomError:
    return PydanticCustomError("campaign.windows", message)


class Campaign(Model):
    """One notice (年度评审工作): its windows, fees and policies. Everything that differs between
    notices is here, never in code."""

    #: No materials deadline without paper materials (``domain.campaign_checks``), as JSON
    #: Schema says it.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "properties": {"paper_materials_required": {"const": True}},
                "required": ["paper_materials_required"],
            },
            "else": {"properties": {"materials_deadline": {"type": "null"}}},
        }
    )

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=300)
    year: int = Field(ge=2000, le=2100)
    series: str = Field(min_length=1, max_length=100)
    specialties: list[str] = Field(default_factory=list, max_length=100)
    levels: list[Level] = Field(min_length=1, json_schema_extra={"uniqueItems": True})
    declaration_opens_at: Instant
    declaration_closes_at: Instant
    review_closes_at: Instant | None = None
    fee_deadline: Instant | None = None
    materials_deadline: Instant | None = None
    #: CNY per person and level; ``null`` where the notice names no fee (002: the committee
    #: office sets it, and the amount finance records is audited).
    fees: dict[Level, Fee | None] = Field(default_factory=dict)
    #: Per-route fee overrides of campaigns made before ``routes``; ``routes.<r>.fees`` wins.
    route_fees: dict[Route, dict[Level, Fee]] = Field(default_factory=dict)
    #: Terminal rules apply only where the notice sets them (docs/rules.md §3): no correction
    #: window, no submission cap and ``applicant_submit`` unless the campaign says otherwise.
    correction_window_days: int | None = Field(default=None, ge=1, le=60)
    max_committee_submissions: int | None = Field(default=None, ge=1, le=20)
    submission_cap_scope: Literal["committee", "applicant"] = "committee"
    resubmit_to: Literal["returner", "unit"] = "returner"
    deadline_applies_to: Literal["committee_arrival", "applicant_submit"] = "applicant_submit"
    late_payment: Literal["abandon", "committee_decides"] = "abandon"
    late_materials: Literal["abandon", "committee_decides"] = "abandon"
    unit_publicity_working_days: int = Field(default=5, ge=5, le=60)
    result_publicity_working_days: int = Field(default=5, ge=5, le=60)
    #: Read by campaigns made before the organisation registry; a declaration's chain is now
    #: derived from its unit's registered ancestors up to ``top_authority`` (docs/rules.md §2.4).
    authority_levels: list[str] = Field(
        default_factory=list, max_length=10, json_schema_extra={"uniqueItems": True}
    )
    defense: DefensePolicy = Field(default_factory=DefensePolicy)
    blacklist: BlacklistPolicy = Field(default_factory=BlacklistPolicy)
    continuing_education: list[ContinuingEducationRule] = Field(default_factory=list, max_length=50)
    appraisals: AppraisalPolicy = Field(default_factory=AppraisalPolicy)
    #: Mandarin certificate ≥ 三级乙等 for public-institution staff (001 四(一)7 only).
    mandarin_required: bool = False
    #: Seniority counted up to this date (001: 2024-12-31).
    seniority_cutoff: date | None = None
    #: Read by campaigns made before the registry; the quorum now counts the committee's
    #: registered members (docs/rules.md §2.8, §11).
    committee_members: int | None = Field(default=None, ge=1, le=500)
    paper_materials_required: bool = False
    blind_review: bool = False
    #: 审核确认 (40号令) by a reviewer of ``confirming_org`` before the result is announced.
    result_confirmation_required: bool = True
    # ------------------------------------------------------------------ organisations (§11)
    committee_org: str | None = Field(default=None, max_length=100)
    top_authority: str | None = Field(default=None, max_length=100)
    #: Finance offices that record this campaign's fees (default: the committee's own office).
    finance_orgs: list[str] = Field(default_factory=list, max_length=50)
    confirming_org: str | None = Field(default=None, max_length=100)
    #: Series reviewed, their specialties and levels (000 and 001 mix 工程 and 经济).
    series_specialties: dict[str, SeriesSpec] = Field(default_factory=dict, max_length=20)
    routes: dict[Route, RoutePolicy] = Field(default_factory=_directed_only)
    #: Uploaded materials per kind (docs/rules.md §19); none required without a catalogue.
    materials_catalogue: dict[str, MaterialKind] = Field(default_factory=dict, max_length=100)

    @field_validator("continuing_education", mode="before")
    @classmethod
    def _continuing_education_of_older_campaigns(cls, value: Any) -> Any:
        return _older_continuing_education(value)

    def reviewed_series(self) -> dict[str, SeriesSpec]:
        """The series this campaign reviews, with their specialties and levels: its
        ``series_specialties``, or (a campaign made before them) its one ``series``."""
        if self.series_specialties:
            return self.series_specialties
        specialties = self.specialties or [self.series]
        return {self.series: SeriesSpec(specialties=specialties, levels=list(self.levels))}

    def fee_offices(self) -> list[str]:
        """Who records this campaign's fees: ``finance_orgs``, else the committee's office."""
        if self.finance_orgs:
            return list(self.finance_orgs)
        return [self.committee_org] if self.committee_org else []

    @model_validator(mode="after")
    def _consistent(self) -> Campaign:
        for name in CAMPAIGN_INSTANTS:
            value = getattr(self, name)
            if value is not None and not INSTANT_YEARS[0] <= value.year <= INSTANT_YEARS[1]:
                # Far instants overflowed converting to UTC and answered 500 (reliability).
                raise ValueError(f"{name} must fall between the years 2000 and 2100")
        # The rules below compare fields: no schema can state them, so each names its rule.
        if not self.declaration_opens_at < self.declaration_closes_at:
            raise _windows("declaration_opens_at must be before declaration_closes_at")
        if self.review_closes_at is not None and self.review_closes_at < self.declaration_closes_at:
            raise _windows("review_closes_at must not be before declaration_closes_at")
        for name in ("fee_deadline", "materials_deadline"):
            value = getattr(self, name)
            if value is not None and value < self.declaration_closes_at:
                raise _windows(f"{name} must not be before declaration_closes_at")
        missing = [lvl for lvl in self.levels if lvl not in self.fees]
        if missing:
            raise PydanticCustomError(
                "campaign.fee_missing", f"no fee for level(s) {', '.join(missing)}"
            )
        if any(amount is not None and amount <= 0 for amount in self.fees.values()):
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
