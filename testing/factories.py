"""Builders for campaigns, declarations, actors and the organisations they belong to in tests,
relative to a given instant.

:data:`REGISTRY` is the organisation registry (docs/rules.md §11) every API and console test
imports before it starts: the unit ``U-001`` below ``county-hr`` below ``prefecture-transport``
(the campaign's top authority), so a declaration of ``U-001`` derives the chain
:data:`CHAIN` (``U-999``'s goes through ``other-hr`` instead); the committee ``aks-committee`` with 25 members; the finance office
``aks-finance``; and a second committee, finance office and authority for the wrong-organisation
cases. Workflow-level tests start declarations without the API, so :func:`declaration` still
carries the chain itself (the campaign's ``authority_levels``, as campaigns made before the
registry did)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.identity import check_digit
from domain.models import (
    Actor,
    Applicant,
    Appraisal,
    Campaign,
    ContinuingEducationYear,
    DeclarationInput,
    DeclarationStart,
    MaterialRef,
    Organisation,
)

BJ = ZoneInfo("Asia/Shanghai")

COMMITTEE_ORG = "aks-committee"
FINANCE_ORG = "aks-finance"
TOP_AUTHORITY = "prefecture-transport"
#: 001 三(二): the private-enterprise route's fixed chain (同级公共就业服务机构).
EMPLOYMENT_SERVICE = "aks-employment-service"
#: A unit registered in 乌鲁木齐市 (000 附件2 三(五): its units defend on site).
URUMQI_UNIT = "U-URUMQI"
#: The chain a declaration of ``U-001`` derives up to :data:`TOP_AUTHORITY`.
CHAIN = ["county-hr", "prefecture-transport"]

APPLICANT = Actor(id="applicant-1", role="applicant", org="")
UNIT = Actor(id="unit-reviewer-1", role="unit_reviewer", org="U-001")
OTHER_UNIT = Actor(id="unit-reviewer-9", role="unit_reviewer", org="U-999")
COUNTY = Actor(id="county-reviewer", role="authority_reviewer", org="county-hr")
PREFECTURE = Actor(id="prefecture-reviewer", role="authority_reviewer", org="prefecture-transport")
COMMITTEE = Actor(id="committee-office", role="committee", org=COMMITTEE_ORG)
FINANCE = Actor(id="finance-clerk", role="finance", org=FINANCE_ORG)
ANYONE = Actor(id="citizen-7", role="auditor", org="")
ADMIN = Actor(id="admin-1", role="admin", org="")
OTHER_COMMITTEE = Actor(id="committee-other", role="committee", org="other-committee")
OTHER_FINANCE = Actor(id="finance-other", role="finance", org="other-finance")

_AKSU = {"code": "652900", "name": "阿克苏地区"}
REGISTRY: list[Organisation] = [
    Organisation.model_validate(o)
    for o in (
        {"id": "prefecture-transport", "kind": "authority", "name": "阿克苏地区交通运输局",
         "region": _AKSU},
        {"id": "county-hr", "kind": "authority", "name": "阿克苏市人力资源和社会保障局",
         "region": {"code": "652901", "name": "阿克苏市"}, "parent_id": "prefecture-transport"},
        {"id": "other-hr", "kind": "authority", "name": "库车市人力资源和社会保障局",
         "region": {"code": "652902", "name": "库车市"}, "parent_id": "prefecture-transport"},
        {"id": "U-001", "kind": "unit", "name": "阿克苏市公路管理站", "region": _AKSU,
         "parent_id": "county-hr"},
        {"id": "U-999", "kind": "unit", "name": "库车市运输服务中心", "region": _AKSU,
         "parent_id": "other-hr"},
        {"id": URUMQI_UNIT, "kind": "unit", "name": "乌鲁木齐市公路管理站",
         "region": {"code": "650100", "name": "乌鲁木齐市"}, "parent_id": "county-hr"},
        {"id": EMPLOYMENT_SERVICE, "kind": "authority", "name": "阿克苏地区公共就业服务中心",
         "region": _AKSU},
        {"id": COMMITTEE_ORG, "kind": "committee", "name": "阿克苏地区交通运输局评审委员会",
         "region": _AKSU, "members": 25},
        {"id": FINANCE_ORG, "kind": "finance_office", "name": "地区交通运输局财务审计办公室",
         "region": _AKSU},
        {"id": "other-committee", "kind": "committee", "name": "另一评审委员会", "members": 25},
        {"id": "other-finance", "kind": "finance_office", "name": "另一财务室"},
    )
]  # fmt: skip


def campaign(now: datetime, **overrides: Any) -> Campaign:
    """A campaign in the shape of notice 001 (Aksu 2024) whose window is open at ``now``."""
    data: dict[str, Any] = {
        "id": f"aks-{uuid.uuid4().hex[:8]}",
        "name": "阿克苏地区 工程系列公路、运输专业职称评审 (test)",
        "year": now.year,
        "series": "engineering",
        "specialties": ["highway", "transport"],
        "levels": ["junior", "intermediate", "deputy_senior"],
        "declaration_opens_at": now - timedelta(days=1),
        "declaration_closes_at": now + timedelta(days=60),
        "fees": {"junior": 200, "intermediate": 400, "deputy_senior": 550},
        "authority_levels": ["county-hr", "prefecture-transport"],
        "paper_materials_required": True,
        "blind_review": True,
        "committee_members": 25,
        "committee_org": COMMITTEE_ORG,
        "top_authority": TOP_AUTHORITY,
        "finance_orgs": [FINANCE_ORG],
        "routes": {"directed": {}, "private_enterprise": {"authority_chain": [EMPLOYMENT_SERVICE]}},
        # notice 001's own terminal rules (四(一)1, 一(一)): opt-in since docs/rules.md v3
        "correction_window_days": 2,
        "max_committee_submissions": 3,
        "deadline_applies_to": "committee_arrival",
        "result_confirmation_required": False,
    }
    data.update(overrides)
    return Campaign.model_validate(data)


def campaign_body(c: Campaign) -> dict[str, Any]:
    """``c`` as ``POST /campaigns`` takes it now: without the fields the registry replaced. A
    test that set ``authority_levels`` other than :data:`CHAIN` gets that chain as the directed
    route's fixed chain (``[]``: straight from the unit to the committee)."""
    body = c.model_dump(mode="json")
    if list(c.authority_levels) != CHAIN and "directed" in c.routes:
        body["routes"]["directed"]["authority_chain"] = list(c.authority_levels)
    body["authority_levels"] = []
    body["committee_members"] = None
    return body


def id_number(first17: str | None = None) -> str:
    """A valid 18-character ID number (GB 11643 check digit); random unless ``first17``."""
    digits = first17 or "652901" + f"{uuid.uuid4().int % 10**11:011d}"
    return digits + check_digit(digits)


def applicant(**overrides: Any) -> Applicant:
    data: dict[str, Any] = {
        "name": "张三",
        "id_number": id_number(),
        "affiliation": "阿克苏地区",
        "employer_kind": "public_institution",
        "continuing_education": [
            ContinuingEducationYear(year=y, public_hours=30, professional_hours=60)
            for y in range(2020, 2031)
        ],
        "appraisals": [Appraisal(year=y, result="合格") for y in range(2018, 2031)],
        "mandarin_level": "二级乙等",
    }
    data.update(overrides)
    return Applicant.model_validate(data)


def declaration(c: Campaign, level: str = "deputy_senior", **overrides: Any) -> DeclarationInput:
    data: dict[str, Any] = {
        "campaign_id": c.id,
        "level": level,
        "route": "directed",
        "series": "engineering",
        "specialty": "highway",
        "unit_id": UNIT.org,
        "authority_chain": list(c.authority_levels),
        "applicant": applicant(),
        "masked_items": ["name", "photo", "unit"],
        "materials": [
            MaterialRef(kind="degree", ref="scan://degree.pdf",
                        sha256=hashlib.sha256(b"degree").hexdigest()),
        ],
    }  # fmt: skip
    data.update(overrides)
    return DeclarationInput.model_validate(data)


def declaration_body(c: Campaign, level: str = "deputy_senior", **overrides: Any) -> dict[str, Any]:
    """What an applicant posts (``POST /declarations``): the declaration without the chain and
    region the service derives (unless a test sets ``authority_chain`` to see it refused)."""
    body = declaration(c, level=level, **overrides).model_dump(mode="json")
    if "authority_chain" not in overrides:
        body.pop("authority_chain")
    body.pop("region")
    return body


def start(c: Campaign, d: DeclarationInput, now: datetime) -> DeclarationStart:
    return DeclarationStart(
        declaration_id=f"D-{uuid.uuid4().hex[:10]}",
        campaign=c,
        declaration=d,
        filed_by=APPLICANT,
        created_at=now,
    )
