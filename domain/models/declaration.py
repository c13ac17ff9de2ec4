"""What an applicant files: the applicant, the declaration, and the record of its filing."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field, field_validator

from domain.models.base import EMAIL, Actor, EmployerKind, Level, Model, Route
from domain.models.campaign import Campaign, CampaignDeadlines
from domain.models.organisations import Region


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
    #: 公民身份号码, normalised (trimmed, upper-case ``X``) so that ``…x`` and ``…X`` are one person;
    #: the GB 11643 check digit is checked where a declaration is filed (``domain.identity``).
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
    #: Where reminders reach the applicant (optional).
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)

    @field_validator("id_number", mode="before")
    @classmethod
    def _normalised(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class MaterialRef(Model):
    kind: str = Field(min_length=1, max_length=50)
    ref: str = Field(min_length=1, max_length=500)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Attachment(Model):
    """A document referenced by its location and hash (e.g. 委托评审函, docs/rules.md §12)."""

    ref: str = Field(min_length=1, max_length=500)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ServiceYear(Model):
    """A year of grassroots service claimed for 直接认定 (004 附件2 三(二))."""

    year: int = Field(ge=1990, le=2100)
    place: str = Field(min_length=1, max_length=200)


class DeclarationInput(Model):
    """What the applicant files (POST /declarations), with what the service derived for it when
    it was created: the authority chain and the region come from the organisation registry
    (docs/rules.md §2.4, §11), never from the applicant."""

    campaign_id: str
    level: Level
    route: Route = "directed"
    #: 系列 and 专业 (docs/rules.md §1); declarations filed before they were asked carry none.
    series: str | None = Field(default=None, max_length=100)
    specialty: str | None = Field(default=None, max_length=100)
    unit_id: str = Field(min_length=1, max_length=100)
    authority_chain: list[str] = Field(default_factory=list, max_length=10)
    #: The unit's registered region (docs/rules.md §5 venue, §9 masked under blind review).
    region: Region | None = None
    applicant: Applicant
    masked_items: list[Literal["name", "photo", "unit", "secret_material"]] = Field(
        default_factory=list
    )
    materials: list[MaterialRef] = Field(default_factory=list, max_length=100)
    #: 委托评审函 (route ``entrusted``, 002 五(四)).
    entrustment: Attachment | None = None
    #: Years of grassroots service (route ``direct_recognition``, 004 附件2 三(二)).
    service_years: list[ServiceYear] = Field(default_factory=list, max_length=10)

    def series_in(self, campaign: Campaign) -> str:
        """The series applied for (one filed before declarations named theirs: the campaign's)."""
        return self.series or campaign.series


class Reopening(Model):
    """An extension (延期) announced after a deadline ended the declaration reopens it
    (docs/rules.md §3): the declaration continues, in a new run under the same workflow id, from
    the state it was in when that deadline ended it, with its history and audit chain."""

    actor: Actor
    at: AwareDatetime
    change_id: str = Field(max_length=100)
    #: The audit action of the deadline that ended it (``timer.declaration_deadline`` …).
    ended_by: str = Field(max_length=100)
    #: The state it was in when it ended.
    resume: str = Field(max_length=50)
    deadlines: CampaignDeadlines


class DeclarationStart(Model):
    """The workflow's input: the campaign as it stood when the declaration was created, and the
    declaration itself. ``carried`` is set only on continue-as-new."""

    declaration_id: str
    campaign: Campaign
    declaration: DeclarationInput
    filed_by: Actor
    created_at: AwareDatetime
    carried: dict[str, Any] | None = None
    #: Set when an extension reopens an ended declaration (``carried`` is then its last state).
    reopen: Reopening | None = None
    #: Set by the starter once the custom search attributes exist on the namespace.
    search_attributes: bool = False
    #: ``"local_activity"`` keeps this declaration on the audit write from before the
    #: ``audit-write-in-history`` patch (a local activity inside the workflow task, with the
    #: store's reconciliation of rows a task that never completed wrote): for the benchmark
    #: that compares the two (bench/RESULTS.md). ``None``: the current way.
    audit_write: Literal["local_activity"] | None = None
