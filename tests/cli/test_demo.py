"""``cli.py tokens …`` and ``cli.py demo load`` (tools/demo/): the demo is loaded through the
app built around the Temporal test environment, exactly as docs/rules.md §13 says, over ASGI."""

from __future__ import annotations

import asyncio
import re
import shlex
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner

from api.app import create_app
from api.auth import authenticate_token, mint_token
from cli import app as cli_app
from settings import Settings, get_settings
from tools import demo

runner = CliRunner()

BASE = "http://api.test"


@pytest.fixture
def api_app(env: WorkflowEnvironment, worker: Worker, settings: Settings) -> FastAPI:
    """As tests/api/conftest.py: the API's clock is the Temporal server's."""
    application = create_app(settings, temporal_client=env.client)

    async def server_clock() -> datetime:
        return await env.get_current_time()

    application.state.services.clock = server_clock
    return application


@pytest.fixture
async def http(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


def admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(settings, 'admin-test', 'admin')}"}


async def load(
    http: httpx.AsyncClient,
    settings: Settings,
    env: WorkflowEnvironment,
    plans: Sequence[demo.Plan] = demo.PLANS,
) -> tuple[demo.DemoReport, list[str]]:
    said: list[str] = []
    now = await env.get_current_time()
    report = await demo.load_demo(http, settings, now=now, say=said.append, plans=plans)
    return report, said


# --------------------------------------------------------------------------- demo load


async def test_demo_load_builds_its_declarations_in_their_planned_states(
    http: httpx.AsyncClient, settings: Settings, env: WorkflowEnvironment
) -> None:
    report, said = await load(http, settings, env)
    assert report.created and not report.mismatched
    assert len(report.declarations) == len(demo.PLANS) == 13

    # Every declaration, read back over HTTP, is where its plan says.
    states: Counter[str] = Counter()
    for d, plan in zip(report.declarations, demo.PLANS, strict=True):
        view = (await http.get(f"/declarations/{d.declaration_id}", headers=admin(settings))).json()
        assert view["state"] == plan.expected == d.state, (plan.name, view["state"])
        assert view["campaign_id"] == "aks-2024-transport-demo"
        states[view["state"]] += 1
    assert states == {
        "draft": 1, "unit_review": 3, "unit_publicity": 3, "returned": 2, "rejected": 2,
        "withdrawn": 1, "disqualified": 1,
    }  # fmt: skip

    # The list (read model) shows them all; the publicity and correction instants are set.
    listed = (
        await http.get(
            "/declarations",
            params={"campaign_id": report.campaign_id, "page_size": 50},
            headers=admin(settings),
        )
    ).json()
    assert listed["total"] == 13
    # docs/rules.md §12: the private-enterprise route goes through its fixed chain (001 三(二)).
    private = report.declarations[-1].view
    assert (private["route"], private["unit_id"]) == ("private_enterprise", demo.PRIVATE_UNIT)
    assert private["authority_chain"] == ["aks-employment-service"]
    by_state = {d.state: d.view for d in report.declarations}
    assert by_state["unit_publicity"]["deadlines"]["publicity_ends"]
    assert by_state["returned"]["deadlines"]["correction"]
    flagged = report.declarations[0].view
    assert flagged["state"] == "draft" and "continuing_education_short" in flagged["flags"]

    # The audit trail is real: each person acted with their own token, and it verifies.
    history = (
        await http.get(
            f"/declarations/{report.declarations[2].declaration_id}/history",
            headers=admin(settings),
        )
    ).json()["events"]
    actions = [(e["action"], e["actor_id"], e["outcome"]) for e in history]
    assert ("unit_review.return", "unit-reviewer-demo", "accepted") in actions
    assert ("resubmit", "applicant-demo-03", "accepted") in actions
    check = (
        await http.get(
            "/audit/verify", params={"campaign_id": report.campaign_id}, headers=admin(settings)
        )
    ).json()
    assert check["ok"] and check["checked"] > 12

    # The output says what it did, and what a real clock cannot show yet.
    text = "\n".join(said)
    registered = len(demo.demo_registry())
    assert "Imported the organisation registry of notice 001" in text
    assert f"{registered} created, 0 replaced, 0 unchanged" in text
    assert "SHIFTED by" in text and "39 d 18 h as in the notice" in text
    assert "every other value is the notice's" in text
    assert "files on the private-enterprise route (001 二(二)) through its fixed chain" in text
    assert "Not loaded, because on a real clock" in text and "certified" in text
    assert "unit publicity of the 3 in unit_publicity ends at" in text


async def test_the_demo_campaign_is_notice_001_with_its_window_moved_to_now(
    http: httpx.AsyncClient, settings: Settings, env: WorkflowEnvironment
) -> None:
    now = await env.get_current_time()
    report, _ = await load(http, settings, env)
    stored = (await http.get(f"/campaigns/{report.campaign_id}", headers=admin(settings))).json()
    notice = demo.notice_campaign()
    assert datetime.fromisoformat(stored["declaration_opens_at"]) <= now
    assert now < datetime.fromisoformat(stored["declaration_closes_at"])
    assert report.shift.days > 0 and report.shift % timedelta(days=1) == timedelta(0)
    for name in demo.INSTANTS:
        assert datetime.fromisoformat(stored[name]) == getattr(notice, name) + report.shift
    same = notice.model_dump(mode="json", exclude={"id", "name", *demo.INSTANTS})
    assert {k: stored[k] for k in same} == same
    assert stored["id"] == notice.id + "-demo" and stored["name"].startswith(notice.name)


async def test_a_second_load_reports_the_demo_and_loads_nothing_twice(
    http: httpx.AsyncClient, settings: Settings, env: WorkflowEnvironment
) -> None:
    first, _ = await load(http, settings, env)
    second, said = await load(http, settings, env)
    assert not second.created and second.loaded == []
    assert [d.declaration_id for d in second.declarations] == [
        d.declaration_id for d in first.declarations
    ]
    assert [d.state for d in second.declarations] == [d.state for d in first.declarations]
    text = "\n".join(said)
    assert "exists already" in text and "nothing loaded twice" in text
    # docs/rules.md §11: the registry import is all or nothing and a repeat changes nothing.
    assert f"0 created, 0 replaced, {len(demo.demo_registry())} unchanged" in text
    listed = (
        await http.get(
            "/declarations", params={"campaign_id": first.campaign_id}, headers=admin(settings)
        )
    ).json()
    assert listed["total"] == 13
    # Nothing was attempted twice, so nothing was refused.
    trail = await http.get(
        "/audit/export",
        params={"campaign_id": first.campaign_id, "format": "jsonl"},
        headers=admin(settings),
    )
    assert '"outcome": "refused"' not in trail.text


async def test_a_load_after_an_interrupted_one_loads_only_what_is_missing(
    http: httpx.AsyncClient, settings: Settings, env: WorkflowEnvironment
) -> None:
    first, _ = await load(http, settings, env, demo.PLANS[:3])  # as if it stopped after three
    assert len(first.declarations) == 3
    second, said = await load(http, settings, env)
    assert not second.created and not second.mismatched
    assert [d.new for d in second.declarations] == [False] * 3 + [True] * (len(demo.PLANS) - 3)
    assert [d.declaration_id for d in second.declarations[:3]] == [
        d.declaration_id for d in first.declarations
    ]
    assert [d.state for d in second.declarations] == [p.expected for p in demo.PLANS]
    assert "3 demo declarations exist already (not loaded twice)" in "\n".join(said)


async def test_wait_ready_gives_up_after_the_timeout_naming_the_last_answer() -> None:
    calls: list[str] = []

    def not_ready(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503, json={"ready": False, "failed": ["temporal"]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(not_ready), base_url=BASE) as c:
        with pytest.raises(demo.DemoError, match=r"not ready after 0 s .*503"):
            await demo.wait_ready(c, within=0.3, interval=0.05)
    assert len(calls) >= 2 and set(calls) == {"/readyz"}


async def test_wait_ready_returns_once_ready() -> None:
    answers = iter([503, 503, 200])

    def readyz(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), json={})

    async with httpx.AsyncClient(transport=httpx.MockTransport(readyz), base_url=BASE) as c:
        await asyncio.wait_for(demo.wait_ready(c, within=5, interval=0.01), 5)


def test_demo_load_exits_1_when_no_api_answers() -> None:
    result = runner.invoke(cli_app, ["demo", "load", "--api", "http://127.0.0.1:9", "--wait", "0"])
    assert result.exit_code == 1
    assert "not ready after 0 s" in result.output


# --------------------------------------------------------------------------- tokens


@pytest.fixture
def cli_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("REVIEWCHAIN_JWT_SECRET", "test-secret-for-the-cli-0123456789abcdef")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_tokens_mint_signs_the_claims_asked_for(cli_settings: Settings) -> None:
    before = datetime.now(UTC)
    result = runner.invoke(
        cli_app,
        ["tokens", "mint", "--role", "committee", "--sub", "c-9", "--org", "", "--ttl-hours", "2"],
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    claims = jwt.decode(token, cli_settings.jwt_secret, algorithms=["HS256"])
    assert (claims["sub"], claims["role"], claims["org"]) == ("c-9", "committee", "")
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    assert before + timedelta(hours=2) - timedelta(minutes=1) < expires
    assert expires < before + timedelta(hours=2, minutes=1)
    actor = authenticate_token(token, cli_settings)
    assert (actor.id, actor.role) == ("c-9", "committee")


def test_tokens_mint_defaults_and_every_token_expires(cli_settings: Settings) -> None:
    """Identity: ``exp`` is required and at most REVIEWCHAIN_JWT_MAX_LIFETIME (12 h) away, so
    the CLI mints no token without one, nor one the service would refuse as too long-lived."""
    result = runner.invoke(cli_app, ["tokens", "mint", "--role", "auditor"])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.stdout.strip(), cli_settings.jwt_secret, algorithms=["HS256"])
    named = {k: claims[k] for k in ("sub", "role", "org")}
    assert named == {"sub": "local-auditor", "role": "auditor", "org": ""}
    assert claims["exp"] - claims["iat"] == 12 * 3600 and claims["jti"]
    for ttl in ("0", "13"):
        refused = runner.invoke(
            cli_app, ["tokens", "mint", "--role", "auditor", "--ttl-hours", ttl]
        )
        assert refused.exit_code == 2, (ttl, refused.output)


def test_tokens_mint_refuses_an_unknown_role(cli_settings: Settings) -> None:
    result = runner.invoke(cli_app, ["tokens", "mint", "--role", "mayor"])
    assert result.exit_code == 2
    assert "mayor" in result.output


def test_tokens_demo_prints_one_export_per_demo_role(cli_settings: Settings) -> None:
    result = runner.invoke(cli_app, ["tokens", "demo"])
    assert result.exit_code == 0, result.output
    exports: dict[str, str] = {}
    for line in result.stdout.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"export (TOKEN_[A-Z0-9_]+)=(\S+)", line)
        assert match, line
        exports[match[1]] = match[2]
    actors = {
        name: authenticate_token(shlex.split(token)[0], cli_settings)
        for name, token in exports.items()
    }
    assert {name: (a.role, a.org) for name, a in actors.items()} == {
        "TOKEN_APPLICANT": ("applicant", ""),
        "TOKEN_UNIT_REVIEWER": ("unit_reviewer", "aks-akesu-highway-station"),
        "TOKEN_UNIT_REVIEWER_PRIVATE": ("unit_reviewer", "aks-private-logistics"),
        "TOKEN_AUTHORITY_REVIEWER_AKS_EMPLOYMENT_SERVICE": (
            "authority_reviewer", "aks-employment-service",
        ),
        "TOKEN_AUTHORITY_REVIEWER_AKS_AKESU_HR": ("authority_reviewer", "aks-akesu-hr"),
        "TOKEN_AUTHORITY_REVIEWER_AKS_TRANSPORT_BUREAU": (
            "authority_reviewer", "aks-transport-bureau",
        ),
        "TOKEN_AUTHORITY_REVIEWER_AKS_HRSS": ("authority_reviewer", "aks-hrss"),
        "TOKEN_COMMITTEE": ("committee", "aks-transport-committee"),
        "TOKEN_FINANCE": ("finance", "aks-transport-finance"),
        "TOKEN_AUDITOR": ("auditor", ""),
        "TOKEN_ADMIN": ("admin", ""),
    }  # fmt: skip
