"""Builders for campaigns, declarations and actors in tests, relative to a given instant."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.models import (
    Actor,
    Applicant,
    Appraisal,
    Campaign,
    ContinuingEducationYear,
    DeclarationInput,
    DeclarationStart,
    MaterialRef,
)

BJ = ZoneInfo("Asia/Shanghai")

APPLICANT = Actor(id="applicant-1", role="applicant", org="")
UNIT = Actor(id="unit-reviewer-1", role="unit_reviewer", org="U-001")
OTHER_UNIT = Actor(id="unit-reviewer-9", role="unit_reviewer", org="U-999")
COUNTY = Actor(id="county-reviewer", role="authority_reviewer", org="county-hr")
PREFECTURE = Actor(id="prefecture-reviewer", role="authority_reviewer", org="prefecture-transport")
COMMITTEE = Actor(id="committee-office", role="committee", org="")
FINANCE = Actor(id="finance-clerk", role="finance", org="")
ANYONE = Actor(id="citizen-7", role="auditor", org="")
ADMIN = Actor(id="admin-1", role="admin", org="")


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
        # notice 001's own terminal rules (四(一)1, 一(一)): opt-in since docs/rules.md v3
        "correction_window_days": 2,
        "max_committee_submissions": 3,
        "deadline_applies_to": "committee_arrival",
        "result_confirmation_required": False,
    }
    data.update(overrides)
    return Campaign.model_validate(data)


def applicant(**overrides: Any) -> Applicant:
    data: dict[str, Any] = {
        "name": "张三",
        "id_number": "65290119800101" + uuid.uuid4().hex[:4].upper(),
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


def start(c: Campaign, d: DeclarationInput, now: datetime) -> DeclarationStart:
    return DeclarationStart(
        declaration_id=f"D-{uuid.uuid4().hex[:10]}",
        campaign=c,
        declaration=d,
        filed_by=APPLICANT,
        created_at=now,
    )
