"""What the demo is: its people, its campaign (notice 001 moved to today) and its thirteen
declarations (twelve on the directed route, one on the private-enterprise route), each with who files it, what is done to it and where it should end.

Data and pure functions only; :mod:`tools.demo.driver` plays them through the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml

from domain.campaign_files import load_campaign_file
from domain.eligibility import continuing_education_years
from domain.identity import check_digit
from domain.models import CAMPAIGN_INSTANTS, Actor, Campaign, Level, Organisation, Route
from domain.organisation_files import load_registry_file
from domain.organisations import derive_chain

__all__ = [
    "ADMIN",
    "APPLICANT",
    "AUDITOR",
    "COLLEAGUE",
    "DEMO_NAME_SUFFIX",
    "DEMO_SUFFIX",
    "DEMO_UNIT",
    "INSTANTS",
    "NOTICE_FILE",
    "NOT_LOADED",
    "PLANS",
    "PRIVATE_UNIT",
    "REGISTRY_FILE",
    "UNIT_REVIEWER",
    "DemoCampaign",
    "Plan",
    "Step",
    "applicant_actor",
    "applicant_email",
    "authority_reviewer",
    "committee_actor",
    "declaration_body",
    "demo_actors",
    "demo_addresses",
    "demo_campaign",
    "demo_chain",
    "demo_registry",
    "finance_actor",
    "id_number",
    "notice_campaign",
    "stored_demo",
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTICE_FILE = EXAMPLES / "campaigns" / "001_aksu_2024.yaml"
#: Notice 001's organisation registry, imported before the campaign (docs/rules.md §11).
REGISTRY_FILE = EXAMPLES / "organisations" / "001_aksu_2024.yaml"
#: The proposed materials catalogue of notice 001 (docs/rules.md §19), used while the campaign
#: file carries none of its own.
CATALOGUE_FILE = EXAMPLES / "catalogues" / NOTICE_FILE.name
DEMO_SUFFIX = "-demo"
DEMO_NAME_SUFFIX = "（演示）"
#: The demo unit (推荐单位) every demo declaration names: a unit of notice 001's registry, below
#: 阿克苏市人社局 below 阿克苏地区交通运输局 (the campaign's top authority).
DEMO_UNIT = "aks-akesu-highway-station"
#: The private enterprise of the 民营企业专项 route's demo declaration (001 二(二)): registered in
#: the prefecture, its files go to the public employment service (001 三(二)).
PRIVATE_UNIT = "aks-private-logistics"

#: The campaign instants the demo moves, all by the same shift.
INSTANTS = CAMPAIGN_INSTANTS

# --------------------------------------------------------------------------- the people

APPLICANT = Actor(id="applicant-demo", role="applicant")
UNIT_REVIEWER = Actor(id="unit-reviewer-demo", role="unit_reviewer", org=DEMO_UNIT)
PRIVATE_UNIT_REVIEWER = Actor(
    id="unit-reviewer-private-demo", role="unit_reviewer", org=PRIVATE_UNIT
)
AUDITOR = Actor(id="auditor-demo", role="auditor")
ADMIN = Actor(id="admin-demo", role="admin")
#: Who lodges the demo objections (any authenticated person may).
COLLEAGUE = Actor(id="colleague-demo", role="applicant")


def authority_reviewer(level: str) -> Actor:
    return Actor(id=f"authority-reviewer-{level}", role="authority_reviewer", org=level)


def applicant_actor(number: int) -> Actor:
    """The applicant who files plan ``number`` (1-based)."""
    return Actor(id=f"applicant-demo-{number:02d}", role="applicant")


def _env_name(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text.upper())


def demo_registry() -> list[Organisation]:
    """Notice 001's example registry (``examples/organisations/001_aksu_2024.yaml``)."""
    parsed = load_registry_file(REGISTRY_FILE)
    if parsed.problems:
        raise ValueError("; ".join(str(p) for p in parsed.problems))
    return parsed.organisations


def demo_chain(campaign: Campaign | None = None) -> list[str]:
    """The authority chain a demo declaration derives (docs/rules.md §2.4): the demo unit's
    registered authorities up to the campaign's top authority."""
    registry = {org.id: org for org in demo_registry()}
    top = (campaign or notice_campaign()).top_authority or ""
    return derive_chain(registry[DEMO_UNIT], registry, top)


def committee_actor(campaign: Campaign) -> Actor:
    """A member of staff of the campaign's committee (its ``committee_org``)."""
    return Actor(id="committee-office-demo", role="committee", org=campaign.committee_org or "")


def finance_actor(campaign: Campaign) -> Actor:
    """A clerk of the office that records the campaign's fees (notice 001 四(六))."""
    return Actor(id="finance-clerk-demo", role="finance", org=campaign.fee_offices()[0])


def demo_actors(campaign: Campaign | None = None) -> dict[str, Actor]:
    """One actor per role of the demo organisations, by the name of its shell variable:
    ``TOKEN_APPLICANT``, ``TOKEN_UNIT_REVIEWER`` (the demo unit), one
    ``TOKEN_AUTHORITY_REVIEWER_<BODY>`` per level of the demo unit's authority chain, of the
    private-enterprise route's fixed chain and for the body that confirms results
    (``confirming_org``), ``TOKEN_UNIT_REVIEWER_PRIVATE`` (the private enterprise),
    ``TOKEN_COMMITTEE``, ``TOKEN_FINANCE`` (of the campaign's committee and finance office),
    ``TOKEN_AUDITOR``, ``TOKEN_ADMIN``."""
    campaign = campaign or notice_campaign()
    private = campaign.routes.get("private_enterprise")
    bodies = [
        *demo_chain(campaign),
        *((private.authority_chain or []) if private else []),
        *([campaign.confirming_org] if campaign.confirming_org else []),
    ]
    actors = {
        "TOKEN_APPLICANT": APPLICANT,
        "TOKEN_UNIT_REVIEWER": UNIT_REVIEWER,
        "TOKEN_UNIT_REVIEWER_PRIVATE": PRIVATE_UNIT_REVIEWER,
    }
    for body in bodies:
        actors[f"TOKEN_AUTHORITY_REVIEWER_{_env_name(body)}"] = authority_reviewer(body)
    actors.update(
        TOKEN_COMMITTEE=committee_actor(campaign),
        TOKEN_FINANCE=finance_actor(campaign),
        TOKEN_AUDITOR=AUDITOR,
        TOKEN_ADMIN=ADMIN,
    )
    return actors


# --------------------------------------------------------------------------- the campaign


def notice_campaign() -> Campaign:
    """Notice 001's campaign, exactly as its file says, with the materials catalogue of
    ``examples/catalogues`` where the file has none."""
    campaign = load_campaign_file(NOTICE_FILE)
    if campaign.materials_catalogue or not CATALOGUE_FILE.exists():
        return campaign
    catalogue = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))["materials_catalogue"]
    return Campaign.model_validate({**campaign.model_dump(), "materials_catalogue": catalogue})


@dataclass(frozen=True)
class DemoCampaign:
    campaign: Campaign
    notice: Campaign
    shift: timedelta


def demo_campaign(
    now: datetime, timezone: str = "Asia/Shanghai", notice: Campaign | None = None
) -> DemoCampaign:
    """Notice 001's campaign moved by whole days so that its declaration window opened today (at
    the notice's time of day, or yesterday if that time is still ahead) and is open at ``now``."""
    notice = notice or notice_campaign()
    tz = ZoneInfo(timezone)
    opens = notice.declaration_opens_at
    shift = timedelta(days=(now.astimezone(tz).date() - opens.astimezone(tz).date()).days)
    if opens + shift > now:
        shift -= timedelta(days=1)
    moved: dict[str, Any] = {
        name: getattr(notice, name) + shift
        for name in INSTANTS
        if getattr(notice, name) is not None
    }
    campaign = Campaign.model_validate(
        {
            **notice.model_dump(),
            **moved,
            "id": notice.id + DEMO_SUFFIX,
            "name": notice.name + DEMO_NAME_SUFFIX,
        }
    )
    return DemoCampaign(campaign=campaign, notice=notice, shift=shift)


def stored_demo(stored: Campaign, notice: Campaign) -> DemoCampaign:
    """The demo campaign an earlier load stored, with the shift it was loaded with."""
    return DemoCampaign(
        campaign=stored,
        notice=notice,
        shift=stored.declaration_opens_at - notice.declaration_opens_at,
    )


# --------------------------------------------------------------------------- the declarations

StepKind = Literal["submit", "decide", "withdraw", "object", "resolve", "misconduct"]


@dataclass(frozen=True)
class Step:
    kind: StepKind
    body: dict[str, Any] = field(default_factory=dict)


def submit() -> Step:
    return Step("submit")


def unit(outcome: str, opinion: str, *reasons: str) -> Step:
    body = {"stage": "unit_review", "outcome": outcome, "opinion": opinion, "reasons": [*reasons]}
    return Step("decide", body)


def withdraw(reason: str) -> Step:
    return Step("withdraw", {"reason": reason})


def objection(text: str) -> Step:
    return Step("object", {"text": text})


def resolve(upheld: bool, opinion: str, outcome: str | None = None) -> Step:
    return Step("resolve", {"upheld": upheld, "opinion": opinion, "outcome": outcome})


def misconduct(finding: str) -> Step:
    return Step("misconduct", {"finding": finding, "unit_at_fault": False})


APPROVE = unit("approve", "材料真实完整，同意推荐，进入单位内部公示")


@dataclass(frozen=True)
class Plan:
    """One demo declaration: who files it, at what level, what is done to it, where it ends."""

    name: str
    level: Level
    expected: str
    story: str
    steps: tuple[Step, ...]
    #: Continuing education short in 2023 (a flag the reviewers see; it blocks nothing).
    short_education: bool = False
    #: The route (docs/rules.md §12) and the unit it is filed through.
    route: Route = "directed"
    unit: str = DEMO_UNIT


PLANS: tuple[Plan, ...] = (
    Plan("李明", "intermediate", "draft",
         "filed, not submitted yet (continuing education short in 2023: flagged)",
         (), short_education=True),
    Plan("王芳", "deputy_senior", "unit_review", "submitted; waits for the unit", (submit(),)),
    Plan("张伟", "deputy_senior", "unit_review",
         "returned by the unit for a missing certificate, corrected and resubmitted",
         (submit(), unit("return", "缺少职称外语合格证书扫描件", "missing_material"), submit())),
    Plan("刘洋", "deputy_senior", "unit_publicity", "approved by the unit; publicity running",
         (submit(), APPROVE)),
    Plan("陈静", "intermediate", "unit_publicity",
         "approved; an objection is open, so the publicity holds until the unit resolves it",
         (submit(), APPROVE, objection("业绩材料中的项目并非本人主持，请核实"))),
    Plan("杨帆", "junior", "unit_publicity",
         "approved; an objection was lodged and dismissed, the publicity runs on",
         (submit(), APPROVE, objection("学历证书存疑"), resolve(False, "经核实学历证书真实，异议不成立"))),
    Plan("赵磊", "intermediate", "returned",
         "returned by the unit (unclear scans); the 2-day correction window is open",
         (submit(), unit("return", "毕业证书扫描件不清晰，请重新上传", "unclear_scan"))),
    Plan("黄丽", "deputy_senior", "returned",
         "objection upheld during the publicity, returned for correction",
         (submit(), APPROVE, objection("任职年限计算有误"),
          resolve(True, "经核实任职年限计算有误，退回修改", "return"))),
    Plan("周强", "junior", "rejected", "rejected by the unit (not eligible)",
         (submit(), unit("reject", "不符合申报条件：专业不对口", "eligibility"))),
    Plan("吴敏", "intermediate", "rejected",
         "objection upheld during the publicity, not recommended",
         (submit(), APPROVE, objection("论文为他人代写"),
          resolve(True, "经调查异议属实，不予推荐", "reject"))),
    Plan("徐涛", "deputy_senior", "withdrawn", "withdrawn by the applicant during the unit review",
         (submit(), withdraw("个人原因，明年再申报"))),
    Plan("孙悦", "deputy_senior", "disqualified",
         "misconduct found by the committee during the publicity (材料造假)",
         (submit(), APPROVE, misconduct("获奖证书系伪造"))),
    Plan("马超", "intermediate", "unit_review",
         "民营企业专项 route (001 二(二)): submitted through the private enterprise "
         f"{PRIVATE_UNIT}; after its publicity the public employment service reviews it "
         "(001 三(二)), not the county",
         (submit(),), route="private_enterprise", unit=PRIVATE_UNIT),
)  # fmt: skip

#: States no demo declaration is in, and why: what has to happen on a real clock first.
NOT_LOADED: tuple[tuple[str, str], ...] = (
    ("unit_recommendation, authority_review, committee_formal_review, fee_pending, "
     "materials_pending, defense_pending, committee_review, result_publicity, "
     "result_confirmation, certified, not_approved, defense_failed, revoked",
     "every path to them passes the unit publicity of {publicity} working days (notice 001 "
     "四(二)); the result publicity adds {result} more before certified"),
    ("not_accepted",
     "an expired 2-day correction window (or a committee refusal, after the publicity)"),
    ("abandoned", "the declaration deadline passing before the committee has the declaration"),
)  # fmt: skip


def id_number(number: int) -> str:
    """The fixed id number of plan ``number`` (1-based): how a rerun recognises it (with its
    GB 11643 check digit)."""
    first17 = f"652901198501010{number:02d}"
    return first17 + check_digit(first17)


#: Where the demo's people are reached: a reserved domain (RFC 2606), so that no demo mail could
#: ever reach anyone, even were the development sink replaced by a real relay.
DEMO_MAIL_DOMAIN = "demo.example"


def applicant_email(number: int) -> str:
    return f"applicant-{number:02d}@{DEMO_MAIL_DOMAIN}"


def demo_addresses(campaign: Campaign) -> dict[str, str]:
    """Where each body the demo involves is reached: the registry's organisations, the campaign's
    committee, fee offices and confirming body."""
    orgs = [org.id for org in demo_registry()]
    orgs += [campaign.committee_org or "", *campaign.fee_offices(), campaign.confirming_org or ""]
    return {org: f"{org.lower()}@{DEMO_MAIL_DOMAIN}" for org in dict.fromkeys(orgs) if org}


def declaration_body(campaign: Campaign, number: int, plan: Plan) -> dict[str, Any]:
    """What the applicant of plan ``number`` files (POST /declarations)."""
    education = [
        {
            "year": year,
            "public_hours": 30,
            "professional_hours": 40 if plan.short_education and year == 2023 else 60,
        }
        for year in continuing_education_years(campaign, plan.level) or [campaign.year]
    ]
    appraisals = [
        {"year": year, "result": "合格"} for year in range(campaign.year - 4, campaign.year)
    ]
    return {
        "campaign_id": campaign.id,
        "level": plan.level,
        "route": plan.route,
        "series": "engineering",
        "specialty": "highway",
        "unit_id": plan.unit,
        "applicant": {
            "name": plan.name,
            "id_number": id_number(number),
            "email": applicant_email(number),
            "employer_kind": (
                "private_enterprise" if plan.route == "private_enterprise" else "public_institution"
            ),
            "categories": [],
            "continuing_education": education,
            "appraisals": appraisals,
            "mandarin_level": "二级乙等",
        },
        "masked_items": ["name", "photo", "unit"],
        "materials": [
            {
                "kind": "degree",
                "ref": f"demo://{id_number(number)}/degree.pdf",
                "sha256": f"{number:064x}",
            },
        ],
    }
