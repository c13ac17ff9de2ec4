"""What an applicant files: the applicant, the declaration, and the record of its filing."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from domain.models.base import Actor, EmployerKind, Level, Model, Route
from domain.models.campaign import Campaign


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
