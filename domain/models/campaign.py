"""A campaign: one notice (年度评审工作) with its windows, fees and policies (docs/rules.md §1-§7).

Everything that differs between notices is here, as data, never in code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from domain.models.base import Level, Model, Route


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
