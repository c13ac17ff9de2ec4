"""The demo played through the HTTP API: wait for it to be ready, import notice 001's organisation
registry, create the demo campaign, file and drive each planned declaration with a token minted
for the acting person, and read back where each ended. When the campaign exists, what an earlier
run loaded is found, not loaded again (the registry import is a no-op when nothing changed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.auth import mint_token
from domain.materials import applicable
from domain.models import Actor, Campaign
from settings import Settings
from tools.demo.data import (
    ADMIN,
    COLLEAGUE,
    DEMO_MAIL_DOMAIN,
    PLANS,
    REGISTRY_FILE,
    UNIT_REVIEWER,
    Plan,
    Step,
    applicant_actor,
    committee_actor,
    declaration_body,
    demo_addresses,
    demo_campaign,
    id_number,
    stored_demo,
)
from tools.demo.report import DemoReport, Loaded, describe_campaign, describe_declarations
from tools.samples import sample_for

__all__ = ["READY_TIMEOUT", "DemoError", "load_demo", "wait_ready"]

READY_TIMEOUT = 60.0


class DemoError(Exception):
    """The demo could not be loaded; the message says why, for the person at the terminal."""


class _Caller:
    """The API as the demo's people: one token per actor, every answer checked."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings
        self._tokens: dict[tuple[str, str, str], str] = {}

    def headers(self, actor: Actor) -> dict[str, str]:
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
        ok: Sequence[int] = (200, 201),
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            answer = await self.http.request(
                method, path, json=body, params=params, headers=self.headers(actor)
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

    async def upload(
        self,
        declaration_id: str,
        actor: Actor,
        kind: str,
        file: tuple[str, bytes, str],
        *,
        masked: bool,
    ) -> None:
        """One material, as the console's form sends it (multipart)."""
        path = f"/declarations/{declaration_id}/materials"
        try:
            answer = await self.http.post(
                path,
                data={"kind": kind, "masked": "true" if masked else "false"},
                files={"file": file},
                headers=self.headers(actor),
            )
        except httpx.HTTPError as err:
            raise DemoError(f"POST {path}: {type(err).__name__}: {err}") from err
        if answer.status_code not in (200, 201):
            raise DemoError(f"POST {path} ({kind}): {answer.status_code} {_detail(answer)}")


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


async def import_registry(caller: _Caller, say: Callable[[str], None]) -> None:
    """Notice 001's organisation registry, as an administrator (POST /organisations/import, all
    or nothing): the units, authorities, committee and finance office the campaign names."""
    answer = await caller.http.request(
        "POST",
        "/organisations/import",
        content=REGISTRY_FILE.read_bytes(),
        headers={**caller.headers(ADMIN), "Content-Type": "application/yaml"},
    )
    if answer.status_code != 200:
        raise DemoError(
            f"POST /organisations/import ({REGISTRY_FILE.name}): {answer.status_code} "
            f"{_detail(answer)}"
        )
    counts = answer.json()["counts"]
    say(
        f"Imported the organisation registry of notice 001 ({REGISTRY_FILE.parent.parent.name}/"
        f"{REGISTRY_FILE.parent.name}/{REGISTRY_FILE.name}): {counts['created']} created, "
        f"{counts['replaced']} replaced, {counts['unchanged']} unchanged."
    )


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


async def _drive(
    caller: _Caller, campaign: Campaign, declaration_id: str, actor: Actor, steps: Sequence[Step]
) -> None:
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
            await caller.json("POST", f"{path}/misconduct", committee_actor(campaign), step.body)
        else:  # pragma: no cover - PLANS only use the kinds above
            raise ValueError(f"unknown step {step.kind}")


async def _upload_required(
    caller: _Caller, campaign: Campaign, declaration_id: str, actor: Actor, plan: Plan
) -> None:
    """The applicant's required materials (docs/rules.md §19) for the plan's level and route,
    sample files, masked where the campaign reviews blind (001 四(一)3), so that the submission
    is complete."""
    for name, kind in applicable(campaign, plan.level, plan.route).items():
        if kind.required and kind.uploader == "applicant":
            await caller.upload(
                declaration_id, actor, name, sample_for(name, kind), masked=campaign.blind_review
            )


async def _load_one(caller: _Caller, campaign: Campaign, number: int, plan: Plan) -> str:
    actor = applicant_actor(number)
    body = declaration_body(campaign, number, plan)
    created = await caller.request("POST", "/declarations", actor, body, ok=(201,))
    declaration_id = str(created.json()["id"])
    if plan.steps:
        await _upload_required(caller, campaign, declaration_id, actor, plan)
    await _drive(caller, campaign, declaration_id, actor, plan.steps)
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
    plans: Sequence[Plan] = PLANS,
) -> DemoReport:
    """Wait for the API, create the demo campaign and load the demo declarations (``plans``)
    through the API, saying what it does; when the campaign exists, report it and load only
    what is missing. ``now`` (default: this machine's clock) places the declaration window."""
    say(f"Waiting for the API at {http.base_url} (GET /readyz, up to {ready_timeout:.0f} s) …")
    await wait_ready(http, ready_timeout)
    caller = _Caller(http, settings)
    await import_registry(caller, say)
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
        demo = stored_demo(Campaign.model_validate(answer.json()), demo.notice)
        found = await _found(caller, demo.campaign.id)
        say(f"The demo campaign {demo.campaign.id} exists already (loaded earlier):")
    for line in describe_campaign(demo, settings.timezone, now):
        say(f"  {line}")
    addresses = demo_addresses(demo.campaign)
    for org, email in addresses.items():
        await caller.request("PUT", f"/notification-addresses/{org}", ADMIN, {"email": email})
    say(
        f"  reminders go to each applicant's own address and to {', '.join(addresses)} at "
        f"@{DEMO_MAIL_DOMAIN} (read them at /console/dev/mail when dev.py runs the mail sink)"
    )

    missing = [n for n in range(1, len(plans) + 1) if id_number(n) not in found]
    if not missing:
        say(
            f"All {len(plans)} demo declarations exist already: nothing loaded twice. "
            "Their states now (the clock runs, so they may have moved on):"
        )
    elif len(missing) < len(plans):
        say(
            f"{len(plans) - len(missing)} demo declarations exist already (not loaded twice); "
            f"loading the {len(missing)} missing through the API …"
        )
    else:
        say(
            f"Loading {len(plans)} declarations through the API, each by its own applicant, "
            "the unit's reviewer and the committee (tokens minted per person, so the audit "
            "trail names them) …"
        )

    ids: dict[int, str] = {
        n: str(found[id_number(n)]["id"]) for n in range(1, len(plans) + 1) if n not in missing
    }
    for n in missing:
        ids[n] = await _load_one(caller, demo.campaign, n, plans[n - 1])

    declarations: list[Loaded] = []
    for n, plan in enumerate(plans, start=1):
        view = await caller.json("GET", f"/declarations/{ids[n]}", ADMIN)
        declarations.append(
            Loaded(
                number=n,
                declaration_id=ids[n],
                name=plan.name,
                level=plan.level,
                expected=plan.expected,
                state=view["state"],
                story=plan.story,
                new=n in missing,
                view=view,
            )
        )
    report = DemoReport(demo.campaign, created, demo.shift, declarations)
    for line in describe_declarations(report, settings.timezone):
        say(line)
    if missing and not await _await_read_model(caller, demo.campaign.id, len(plans), 15.0):
        say("(the list and the inboxes, which read the read model, have not caught up yet)")
    return report
