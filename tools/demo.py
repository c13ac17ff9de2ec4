"""Demo data for a living local system: ``python cli.py tokens demo`` and ``python cli.py demo load``.

**The demo campaign** is notice 001's (``examples/campaigns/001_aksu_2024.yaml``: fees, windows,
policies) with every instant moved by the same whole number of days, so that its declaration
window opens today (at the notice's own time of day) and keeps its length, and the review, fee
and materials deadlines keep their place after it (the campaign would be refused otherwise).
Nothing else changes, except that its id ends in ``-demo`` (:data:`DEMO_SUFFIX`) and its name in
"（演示）", so the real notice can be loaded beside it. The campaign year (2024), the seniority
cutoff and the continuing-education years stay the notice's.

**The demo declarations**: a dozen (:data:`PLANS`), each filed by its own applicant and driven
through the HTTP API with tokens minted for the acting person, so the audit trail names who did
what exactly as in production. They cover every state reachable on a real clock without waiting:
on a real clock everything past the unit publicity (five working days, notice 001 四(二)) is days
away, and so are the expiries of the correction window and of the declaration deadline;
:data:`NOT_LOADED` says which states need what.

**Idempotent**: the campaign id is fixed. When the campaign exists, the declarations already in it
(recognised by the applicant's id number, which is fixed per plan) are reported as they are now and
nothing is loaded twice; only plans missing from an interrupted earlier run are loaded. To start
afresh, stop the system and delete ``var/`` (the SQLite store and Temporal's own database).

The functions take an ``httpx.AsyncClient`` (a real one, or one on ``httpx.ASGITransport`` in tests)
and the :class:`settings.Settings` whose ``jwt_secret`` signs the tokens.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx

from api.auth import mint_token
from domain.campaign_files import load_campaign_file
from domain.models import Actor, Campaign
from settings import Settings

__all__ = [
    "DEMO_SUFFIX",
    "DEMO_UNIT",
    "NOTICE_FILE",
    "NOT_LOADED",
    "PLANS",
    "DemoCampaign",
    "DemoError",
    "DemoReport",
    "Loaded",
    "Plan",
    "demo_actors",
    "demo_campaign",
    "load_demo",
    "notice_campaign",
    "token_exports",
    "wait_ready",
]

NOTICE_FILE = (
    Path(__file__).resolve().parent.parent / "examples" / "campaigns" / "001_aksu_2024.yaml"
)
DEMO_SUFFIX = "-demo"
DEMO_NAME_SUFFIX = "（演示）"
#: The demo unit (推荐单位) every demo declaration names.
DEMO_UNIT = "U-001"
READY_TIMEOUT = 60.0

#: The campaign instants the demo moves, all by the same shift.
INSTANTS = (
    "declaration_opens_at",
    "declaration_closes_at",
    "review_closes_at",
    "fee_deadline",
    "materials_deadline",
)

APPLICANT = Actor(id="applicant-demo", role="applicant")
UNIT_REVIEWER = Actor(id="unit-reviewer-demo", role="unit_reviewer", org=DEMO_UNIT)
COMMITTEE = Actor(id="committee-office-demo", role="committee")
FINANCE = Actor(id="finance-clerk-demo", role="finance")
AUDITOR = Actor(id="auditor-demo", role="auditor")
ADMIN = Actor(id="admin-demo", role="admin")
#: Who lodges the demo objections (any authenticated person may, api.md §3).
COLLEAGUE = Actor(id="colleague-demo", role="applicant")


class DemoError(Exception):
    """The demo could not be loaded; the message says why, for the person at the terminal."""


# --------------------------------------------------------------------------- actors and tokens


def authority_reviewer(level: str) -> Actor:
    return Actor(id=f"authority-reviewer-{level}", role="authority_reviewer", org=level)


def _env_name(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text.upper())


def demo_actors(campaign: Campaign | None = None) -> dict[str, Actor]:
    """One actor per role of the demo organisations, by the name of its shell variable:
    ``TOKEN_APPLICANT``, ``TOKEN_UNIT_REVIEWER`` (the demo unit), one
    ``TOKEN_AUTHORITY_REVIEWER_<LEVEL>`` per authority level of the demo campaign,
    ``TOKEN_COMMITTEE``, ``TOKEN_FINANCE``, ``TOKEN_AUDITOR``, ``TOKEN_ADMIN``."""
    levels = (campaign or notice_campaign()).authority_levels
    actors = {"TOKEN_APPLICANT": APPLICANT, "TOKEN_UNIT_REVIEWER": UNIT_REVIEWER}
    for level in levels:
        actors[f"TOKEN_AUTHORITY_REVIEWER_{_env_name(level)}"] = authority_reviewer(level)
    actors.update(
        TOKEN_COMMITTEE=COMMITTEE, TOKEN_FINANCE=FINANCE, TOKEN_AUDITOR=AUDITOR, TOKEN_ADMIN=ADMIN
    )
    return actors


def token_exports(settings: Settings, ttl: timedelta = timedelta(hours=12)) -> str:
    """Shell ``export`` lines, one token per demo actor, for ``eval "$(python cli.py tokens
    demo)"``; each preceded by a comment naming the person."""
    expiry = f"expire in {_duration(ttl)}"
    lines = [f"# Review Chain demo tokens (HS256, REVIEWCHAIN_JWT_SECRET); they {expiry}."]
    for name, actor in demo_actors().items():
        token = mint_token(settings, actor.id, actor.role, actor.org, ttl=ttl)
        org = f", org {actor.org}" if actor.org else ""
        lines.append(f"# {actor.role}: sub {actor.id}{org}")
        lines.append(f"export {name}={shlex.quote(token)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the campaign


def notice_campaign() -> Campaign:
    """Notice 001's campaign, exactly as its file says."""
    return load_campaign_file(NOTICE_FILE)


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


def _stored_demo(stored: Campaign, notice: Campaign) -> DemoCampaign:
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
    level: str
    expected: str
    story: str
    steps: tuple[Step, ...]
    #: Continuing education short in 2023 (a flag the reviewers see; it blocks nothing).
    short_education: bool = False


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
)  # fmt: skip

#: States no demo declaration is in, and why: what has to happen on a real clock first.
NOT_LOADED: tuple[tuple[str, str], ...] = (
    ("unit_recommendation, authority_review, committee_formal_review, fee_pending, "
     "materials_pending, defense_pending, committee_review, result_publicity, certified, "
     "not_approved, defense_failed, revoked",
     "every path to them passes the unit publicity of {publicity} working days (notice 001 "
     "四(二)); the result publicity adds {result} more before certified"),
    ("not_accepted",
     "an expired 2-day correction window (or a committee refusal, after the publicity)"),
    ("abandoned", "the declaration deadline passing before the committee has the declaration"),
    ("result_confirmation", "not configured: notice 001 has result_confirmation_required: false"),
)  # fmt: skip


def applicant_actor(number: int) -> Actor:
    return Actor(id=f"applicant-demo-{number:02d}", role="applicant")


def id_number(number: int) -> str:
    """The fixed id number of plan ``number`` (1-based): how a rerun recognises it."""
    return f"65290119850101{number:04d}"


def declaration_body(campaign: Campaign, number: int, plan: Plan) -> dict[str, Any]:
    """What the applicant of plan ``number`` files (POST /declarations)."""
    education = [
        {"year": year, "public_hours": 30,
         "professional_hours": 40 if plan.short_education and year == 2023 else 60}
        for year in campaign.continuing_education.default_years or [campaign.year]
    ]  # fmt: skip
    appraisals = [
        {"year": year, "result": "合格"} for year in range(campaign.year - 4, campaign.year)
    ]
    return {
        "campaign_id": campaign.id,
        "level": plan.level,
        "route": "directed",
        "unit_id": DEMO_UNIT,
        "authority_chain": list(campaign.authority_levels),
        "applicant": {
            "name": plan.name,
            "id_number": id_number(number),
            "affiliation": "阿克苏地区",
            "employer_kind": "public_institution",
            "categories": [],
            "continuing_education": education,
            "appraisals": appraisals,
            "mandarin_level": "二级乙等",
        },
        "masked_items": ["name", "photo", "unit"],
        "materials": [
            {"kind": "degree", "ref": f"demo://{id_number(number)}/degree.pdf",
             "sha256": f"{number:064x}"},
        ],
    }  # fmt: skip


# --------------------------------------------------------------------------- HTTP


class _Caller:
    """The API as the demo's people: one token per actor, every answer checked."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings
        self._tokens: dict[tuple[str, str, str], str] = {}

    def _headers(self, actor: Actor) -> dict[str, str]:
        key = (actor.id, actor.role, actor.org)
        if key not in self._tokens:
            self._tokens[key] = mint_token(
                self.settings, actor.id, actor.role, actor.org, ttl=timedelta(hours=1)
            )
        return {"Authorization": f"Bearer {self._tokens[key]}"}

    async def request(
        self,
        method: str,
        path: str,
        actor: Actor,
        body: Any = None,
        *,
        ok: Sequence[int] = (200,),
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            answer = await self.http.request(
                method, path, json=body, params=params, headers=self._headers(actor)
            )
        except httpx.HTTPError as err:
            raise DemoError(f"{method} {path}: {type(err).__name__}: {err}") from err
        if answer.status_code not in ok:
            raise DemoError(
                f"{method} {path} as {actor.role} {actor.id}: {answer.status_code} "
                f"{_detail(answer)}"
            )
        return answer

    async def json(self, method: str, path: str, actor: Actor, body: Any = None) -> Any:
        return (await self.request(method, path, actor, body)).json()


def _detail(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("detail", answer.text))[:500]
    except (ValueError, AttributeError):
        return answer.text[:500]


async def wait_ready(
    http: httpx.AsyncClient,
    within: float = READY_TIMEOUT,
    interval: float = 0.5,
) -> None:
    """Until ``GET /readyz`` answers 200 (Temporal and the database answer), for up to
    ``within`` seconds; :class:`DemoError` with the last answer otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last = "no answer"
    while True:
        try:
            answer = await http.get("/readyz")
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:300]}"
        except httpx.HTTPError as err:
            last = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        if loop.time() >= deadline:
            raise DemoError(
                f"the API at {http.base_url} is not ready after {within:.0f} s "
                f"(GET /readyz: {last}); is `python3 dev.py run` running?"
            )
        await asyncio.sleep(min(interval, max(0.0, deadline - loop.time())))


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Loaded:
    """One demo declaration after the run: as loaded now, or as found from an earlier run."""

    number: int
    declaration_id: str
    name: str
    level: str
    expected: str
    state: str
    story: str
    new: bool
    view: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class DemoReport:
    campaign: Campaign
    created: bool
    shift: timedelta
    declarations: list[Loaded]

    @property
    def campaign_id(self) -> str:
        return self.campaign.id

    @property
    def loaded(self) -> list[Loaded]:
        return [d for d in self.declarations if d.new]

    @property
    def mismatched(self) -> list[Loaded]:
        """Declarations loaded now that did not end where planned (found ones may have moved
        on since: the clock runs)."""
        return [d for d in self.loaded if d.state != d.expected]


async def _found(caller: _Caller, campaign_id: str) -> dict[str, dict[str, Any]]:
    """The campaign's declarations already in the read model, by applicant id number."""
    found: dict[str, dict[str, Any]] = {}
    page = 1
    while True:
        answer = await caller.json(
            "GET", f"/declarations?campaign_id={campaign_id}&page_size=200&page={page}", ADMIN
        )
        for item in answer["items"]:
            found[item["applicant"]["id_number"]] = item
        if page * answer["page_size"] >= answer["total"]:
            return found
        page += 1


async def _drive(caller: _Caller, declaration_id: str, actor: Actor, steps: Sequence[Step]) -> None:
    path = f"/declarations/{declaration_id}"
    objection_id = ""
    for step in steps:
        if step.kind == "submit":
            await caller.json("POST", f"{path}/submit", actor)
        elif step.kind == "withdraw":
            await caller.json("POST", f"{path}/withdraw", actor, step.body)
        elif step.kind == "decide":
            await caller.json("POST", f"{path}/decisions", UNIT_REVIEWER, step.body)
        elif step.kind == "object":
            lodged = await caller.json("POST", f"{path}/objections", COLLEAGUE, step.body)
            objection_id = lodged["objection_id"]
        elif step.kind == "resolve":
            resolution = f"{path}/objections/{objection_id}/resolution"
            await caller.json("POST", resolution, UNIT_REVIEWER, step.body)
        elif step.kind == "misconduct":
            await caller.json("POST", f"{path}/misconduct", COMMITTEE, step.body)
        else:  # pragma: no cover - PLANS only use the kinds above
            raise ValueError(f"unknown step {step.kind}")


async def _load_one(caller: _Caller, campaign: Campaign, number: int, plan: Plan) -> str:
    actor = applicant_actor(number)
    body = declaration_body(campaign, number, plan)
    created = await caller.request("POST", "/declarations", actor, body, ok=(201,))
    declaration_id = str(created.json()["id"])
    await _drive(caller, declaration_id, actor, plan.steps)
    return declaration_id


async def _await_read_model(caller: _Caller, campaign_id: str, count: int, within: float) -> bool:
    """Until the list (the read model, which the inbox and the console read) shows ``count``
    declarations of the campaign."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        found = await _found(caller, campaign_id)
        if len(found) >= count:
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.2)


async def load_demo(
    http: httpx.AsyncClient,
    settings: Settings,
    *,
    now: datetime | None = None,
    say: Callable[[str], None] = print,
    ready_timeout: float = READY_TIMEOUT,
) -> DemoReport:
    """Wait for the API, create the demo campaign and load the demo declarations through the
    API, saying what it does; when the campaign exists, report it and load only what is
    missing. ``now`` (default: this machine's clock) places the declaration window."""
    say(f"Waiting for the API at {http.base_url} (GET /readyz, up to {ready_timeout:.0f} s) …")
    await wait_ready(http, ready_timeout)
    caller = _Caller(http, settings)
    now = now or datetime.now(UTC)
    demo = demo_campaign(now, settings.timezone)
    path = f"/campaigns/{demo.campaign.id}"
    answer = await caller.request("GET", path, ADMIN, ok=(200, 404))
    created = answer.status_code == 404
    if created:
        await caller.request(
            "POST", "/campaigns", ADMIN, demo.campaign.model_dump(mode="json"), ok=(201,)
        )
        found: dict[str, dict[str, Any]] = {}
        say(f"Created the demo campaign {demo.campaign.id}:")
    else:
        demo = _stored_demo(Campaign.model_validate(answer.json()), demo.notice)
        found = await _found(caller, demo.campaign.id)
        say(f"The demo campaign {demo.campaign.id} exists already (loaded earlier):")
    for line in describe_campaign(demo, settings.timezone, now):
        say(f"  {line}")

    missing = [n for n in range(1, len(PLANS) + 1) if id_number(n) not in found]
    if not missing:
        say(f"All {len(PLANS)} demo declarations exist already: nothing loaded twice. "
            "Their states now (the clock runs, so they may have moved on):")  # fmt: skip
    elif len(missing) < len(PLANS):
        say(f"{len(PLANS) - len(missing)} demo declarations exist already (not loaded twice); "
            f"loading the {len(missing)} missing through the API …")  # fmt: skip
    else:
        say(f"Loading {len(PLANS)} declarations through the API, each by its own applicant, "
            "the unit's reviewer and the committee (tokens minted per person, so the audit "
            "trail names them) …")  # fmt: skip

    ids: dict[int, str] = {
        n: str(found[id_number(n)]["id"]) for n in range(1, len(PLANS) + 1) if n not in missing
    }
    for n in missing:
        ids[n] = await _load_one(caller, demo.campaign, n, PLANS[n - 1])

    declarations: list[Loaded] = []
    for n, plan in enumerate(PLANS, start=1):
        view = await caller.json("GET", f"/declarations/{ids[n]}", ADMIN)
        declarations.append(
            Loaded(number=n, declaration_id=ids[n], name=plan.name, level=plan.level,
                   expected=plan.expected, state=view["state"], story=plan.story,
                   new=n in missing, view=view)
        )  # fmt: skip
    report = DemoReport(demo.campaign, created, demo.shift, declarations)
    for line in describe_declarations(report, settings.timezone):
        say(line)
    if missing and not await _await_read_model(caller, demo.campaign.id, len(PLANS), 15.0):
        say("(the list and the inboxes, which read the read model, have not caught up yet)")
    return report


# --------------------------------------------------------------------------- words


def _duration(delta: timedelta) -> str:
    days, seconds = delta.days, delta.seconds
    hours, minutes = divmod(seconds // 60, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    return " ".join(parts) or "0 min"


def _local(instant: datetime | str | None, timezone: str) -> str:
    if instant is None:
        return "none"
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def describe_campaign(demo: DemoCampaign, timezone: str, now: datetime) -> list[str]:
    """What the demo campaign is and how it differs from the notice, in a few lines."""
    c, n = demo.campaign, demo.notice
    if now < c.declaration_opens_at:
        status = "not open yet"
    elif now < c.declaration_closes_at:
        status = "open now"
    else:
        status = "CLOSED now; to load a fresh demo, stop the system and delete var/"
    window = c.declaration_closes_at - c.declaration_opens_at
    fees = ", ".join(f"{level} {amount}" for level, amount in c.fees.items())
    moved = ", ".join(
        f"{name} {_local(getattr(c, name), timezone)}"
        for name in INSTANTS[2:]
        if getattr(c, name) is not None
    )
    return [
        f"notice 001 ({NOTICE_FILE.parent.parent.name}/{NOTICE_FILE.parent.name}/"
        f"{NOTICE_FILE.name}) with its declaration window SHIFTED by {demo.shift.days} days "
        f"to open on the day the demo was loaded ({status}):",
        f"  declaration window {_local(c.declaration_opens_at, timezone)} → "
        f"{_local(c.declaration_closes_at, timezone)} ({timezone}), "
        f"{_duration(window)} as in the notice ({_local(n.declaration_opens_at, timezone)} → "
        f"{_local(n.declaration_closes_at, timezone)})",
        f"  moved by the same {demo.shift.days} days, to stay after the window: {moved}",
        f"  every other value is the notice's: fees {fees} CNY; "
        f"{c.correction_window_days}-day correction window; at most "
        f"{c.max_committee_submissions} committee submissions; publicities of "
        f"{c.unit_publicity_working_days} working days; authorities "
        f"{' → '.join(c.authority_levels)}; blind review {_yes(c.blind_review)}; paper "
        f"materials {_yes(c.paper_materials_required)}; campaign year {c.year}",
        f'  only the id ("{DEMO_SUFFIX}") and the name ("{DEMO_NAME_SUFFIX}") are marked as the demo',
    ]


def describe_declarations(report: DemoReport, timezone: str) -> list[str]:
    lines: list[str] = []
    width = max(len(d.state) for d in report.declarations)
    for d in report.declarations:
        mark = "" if not d.new or d.state == d.expected else f"  (!! planned: {d.expected})"
        found = "" if d.new else "  [found]"
        lines.append(
            f"  {d.declaration_id}  {d.state:<{width}}  {d.name} ({d.level}): {d.story}"
            f"{found}{mark}"
        )
    if report.mismatched:
        lines.append(f"!! {len(report.mismatched)} declarations did not end where planned")
    lines.extend(_clock_notes(report, timezone))
    return lines


def _clock_notes(report: DemoReport, timezone: str) -> list[str]:
    """What the clock will do to the demo, and what the demo cannot show yet."""
    lines: list[str] = []
    publicity = [d for d in report.declarations if d.state == "unit_publicity"]
    ends = sorted({str(d.view["deadlines"]["publicity_ends"]) for d in publicity
                   if d.view.get("deadlines", {}).get("publicity_ends")})  # fmt: skip
    if publicity and ends:
        sample = next(d for d in publicity if d.view["deadlines"].get("publicity_ends"))
        why = sample.view.get("deadline_explanations", {}).get("publicity_ends", "")
        lines.append(
            f"The unit publicity of the {len(publicity)} in unit_publicity ends at "
            f"{' / '.join(_local(e, timezone) for e in ends)} ({timezone}): {why}"
        )
        lines.append(
            "  From then on, each without an open objection moves to unit_recommendation by "
            "itself (the workflow's own timer); the unit then recommends and the authorities "
            "and the committee take it on (README: Drive one declaration by hand)."
        )
    returned = [d for d in report.declarations if d.state == "returned"]
    corrections = sorted({str(d.view["deadlines"]["correction"]) for d in returned
                          if d.view.get("deadlines", {}).get("correction")})  # fmt: skip
    if corrections:
        lines.append(
            f"The {len(returned)} returned ones may be corrected and resubmitted until "
            f"{' / '.join(_local(e, timezone) for e in corrections)}; after that the workflow "
            "ends them as not_accepted by itself."
        )
    c = report.campaign
    lines.append("Not loaded, because on a real clock they need time to pass first:")
    for states, why in NOT_LOADED:
        words = why.format(
            publicity=c.unit_publicity_working_days, result=c.result_publicity_working_days
        )
        lines.append(f"  {states}: {words}")
    return lines
