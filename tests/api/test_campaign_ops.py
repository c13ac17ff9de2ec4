"""Campaign-wide operations over HTTP (and the campaign CLI): configuration checked at the edge,
deadline changes (延期) and calendar years fanned out durably, the review meeting in bulk, the
defense schedule, the result publicity list, the announcement, certificates as PDF, the at-risk
inbox and the campaign report (docs/rules.md §2-§10, §15)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from reportlab.lib.rl_accel import escapePDF
from sqlalchemy import text
from typer.testing import CliRunner

from api.app import create_app
from api.auth import mint_token
from domain.campaign_checks import consistency_problems
from domain.campaign_files import load_campaign_file
from domain.defense import remote_sample_drawn
from domain.models import Actor, Campaign
from settings import Settings, get_settings
from store.campaigns import add_campaign, get_campaign
from store.db import Store
from testing import factories as f
from testing.api import (
    AUDITOR,
    DEEP_REVIEWER,
    DEEP_UNIT,
    Api,
    audit_rows,
    deep_registry,
    refused_by,
)
from testing.declarations import skip_to
from testing.eventually import eventually
from tests.api.test_inbox import pick_deadline
from tools.campaigns import campaigns_app
from tools.organisations import orgs_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"
AKSU = EXAMPLES / "001_aksu_2024.yaml"
#: The organisations notice 001's campaign names (docs/rules.md §11), registered first.
AKSU_REGISTRY = EXAMPLES.parent / "organisations" / "001_aksu_2024.yaml"
OTHER_APPLICANT = Actor(id="applicant-other", role="applicant")
MEMBERS = [f"M{i:02d}" for i in range(1, 21)]  # 20 of the 25 members present


def history(settings: Settings, declaration_id: str) -> list[dict[str, Any]]:
    rows = audit_rows(settings, declaration_id)
    for row in rows:
        row["detail"] = json.loads(row["detail"])
    return rows


def actions(rows: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["action"] == action]


async def to_committee_review(
    api: Api, c: Campaign, n: int, level: str = "intermediate", **file_kw: Any
) -> list[str]:
    """``n`` declarations of a campaign without authority levels, paper or defense at this
    level, driven to ``committee_review`` (one unit publicity skipped for all)."""
    ids = [await api.file(c, level=level, **file_kw) for _ in range(n)]
    view: dict[str, Any] = {}
    for d in ids:
        await api.post(f"/declarations/{d}/submit", f.APPLICANT)
        view = await api.decide(d, f.UNIT, "unit_review", opinion="材料真实完整")
    await api.skip_past(view["deadlines"]["publicity_ends"])  # the last one ends last
    for d in ids:
        await api.wait_state(d, "unit_recommendation")
        await api.decide(d, f.UNIT, "unit_recommendation", opinion="同意推荐",
                         publicity_result_ref="公示结果")  # fmt: skip
        view = await api.decide(d, f.COMMITTEE, "committee_formal_review")
        await api.post(f"/declarations/{d}/payments", f.FINANCE,
                       {"amount": view["fee"]["due"], "receipt_no": f"R-{d}"})  # fmt: skip
    return ids


async def simple_campaign(api: Api, **overrides: Any) -> Campaign:
    data: dict[str, Any] = {"authority_levels": [], "paper_materials_required": False}
    data.update(overrides)
    return await api.campaign(**data)


def vote(d: str, in_favor: int, against: int = 0, abstain: int = 0, recused: int = 0) -> dict:
    return {"declaration_id": d, "in_favor": in_favor, "against": against, "abstain": abstain,
            "recused": MEMBERS[:recused]}  # fmt: skip


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"defense": {"required_levels": ["senior"], "onsite_affiliations": ["乌鲁木齐市"]}},
         "onsite_affiliations"),
        ({"defense": {"required_levels": [], "remote_selection": "sample",
                      "remote_sample_rate": 0.3}}, "remote_selection"),
        ({"defense": {"remote_selection": "all", "remote_sample_rate": 0.3}},
         "remote_sample_rate"),
        ({"paper_materials_required": False, "materials_deadline": "+70d"}, "materials_deadline"),
        ({"authority_levels": ["county-hr", "county-hr"]}, "authority_levels"),
        ({"route_fees": {"private_enterprise": {"junior": 0}}}, "route_fees"),
    ],
)  # fmt: skip
async def test_a_campaign_that_would_silently_ignore_a_setting_is_refused(
    api: Api, change: dict[str, Any], field: str
) -> None:
    """Configuration is data, validated at the edge (docs/rules.md, "Sources"): besides the windows
    and the fees (docs/rules.md §15), a setting the campaign would never use is refused with 422
    naming it (§5 venue or draw without a defending level, a rate without a sample; §3 a materials
    deadline without paper; 逐级提交 an authority twice; §4 a non-positive fee)."""
    body = f.campaign(await api.now()).model_dump(mode="json")
    for key, value in change.items():
        if value == "+70d":
            value = (datetime.fromisoformat(body["declaration_closes_at"]) +
                     timedelta(days=10)).isoformat()  # fmt: skip
        body[key] = {**body[key], **value} if key == "defense" else value
    answer = await api.post("/campaigns", f.ADMIN, body, expect=422)
    assert any(field in e["loc"] for e in answer["errors"]), answer


async def test_a_deadline_change_is_refused_only_for_what_it_introduces(
    api: Api, settings: Settings
) -> None:
    """§3 延期 and the edge checks: a change that adds a materials deadline to a campaign without
    paper is refused (422); a campaign stored before a check existed still moves its deadlines."""
    c = await simple_campaign(api)
    later = (c.declaration_closes_at + timedelta(days=20)).isoformat()
    answer = await api.post(f"/campaigns/{c.id}/deadlines", f.ADMIN,
                            {"materials_deadline": later}, expect=422)  # fmt: skip
    assert answer["errors"][0]["loc"] == ["body", "materials_deadline"]

    old = f.campaign(await api.now(), authority_levels=["a", "a"])  # stored before the check
    assert consistency_problems(old)

    def store_directly() -> None:
        db = Store(settings.database_url)
        try:
            with db.session() as session:
                add_campaign(session, old, at=old.declaration_opens_at)
        finally:
            db.dispose()

    await asyncio.to_thread(store_directly)
    moved = await api.post(f"/campaigns/{old.id}/deadlines", f.ADMIN,
                           {"declaration_closes_at": later})  # fmt: skip
    assert moved["finished"] is True and moved["declarations"] == 0


def test_every_example_campaign_passes_the_edge_checks() -> None:
    """The five notices' campaign files (examples/campaigns) are consistent as they stand."""
    for path in sorted(EXAMPLES.glob("*.yaml")):
        assert consistency_problems(load_campaign_file(path)) == [], path.name


@pytest.fixture
def cli_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    settings = Settings(
        database_url=f"sqlite:///{(tmp_path / 'cli.sqlite3').as_posix()}",
        log_format="console",
        log_level="WARNING",
    )
    monkeypatch.setenv("REVIEWCHAIN_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()  # the process's one Settings now names this store
    yield settings
    get_settings.cache_clear()


def stored_campaign(settings: Settings, campaign_id: str) -> Campaign | None:
    db = Store(settings.database_url)
    try:
        db.migrate()
        with db.session(readonly=True) as session:
            return get_campaign(session, campaign_id)
    finally:
        db.dispose()


def test_cli_imports_a_campaign_file_into_the_store_once(cli_settings: Settings) -> None:
    """``campaigns import FILE --database-url``: notice 001's file is validated and stored as is
    (the schema migrated first), once the bodies it names are registered (docs/rules.md §11:
    refused before); importing it again is refused and changes nothing."""
    runner = CliRunner()
    url = cli_settings.database_url
    early = runner.invoke(campaigns_app, ["import", str(AKSU), "--database-url", url])
    assert (
        early.exit_code == 1
        and "committee_org" in early.output
        and "not registered" in early.output
    )
    assert stored_campaign(cli_settings, "aks-2024-transport") is None
    registered = runner.invoke(orgs_app, ["import", str(AKSU_REGISTRY), "--database-url", url])
    assert registered.exit_code == 0, registered.output
    first = runner.invoke(campaigns_app, ["import", str(AKSU), "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "imported campaign aks-2024-transport" in first.output
    assert stored_campaign(cli_settings, "aks-2024-transport") == load_campaign_file(AKSU)
    again = runner.invoke(campaigns_app, ["import", str(AKSU), "--database-url", url])
    assert again.exit_code == 1 and "exists already" in again.output
    # Without --database-url: the settings' store (REVIEWCHAIN_DATABASE_URL).
    other = EXAMPLES / "000_transport_2020.yaml"
    its_registry = AKSU_REGISTRY.with_name("000_transport_2020.yaml")
    assert runner.invoke(orgs_app, ["import", str(its_registry)]).exit_code == 0
    assert runner.invoke(campaigns_app, ["import", str(other)]).exit_code == 0
    assert stored_campaign(cli_settings, "xj-2020-highway") is not None


def test_cli_refuses_an_invalid_or_inconsistent_file_and_wrong_usage(
    cli_settings: Settings, tmp_path: Path
) -> None:
    """Campaign files go through the same validation as POST /campaigns: a level without a fee,
    or a setting the campaign would ignore, is refused naming the file (exit 1); --api without a
    token, or both targets, is wrong usage (exit 2)."""
    runner = CliRunner()
    text_ = AKSU.read_text(encoding="utf-8")
    nofee = tmp_path / "nofee.yaml"
    nofee.write_text(re.sub(r"\n  junior: 200\b[^\n]*", "", text_), encoding="utf-8")
    result = runner.invoke(campaigns_app, ["import", str(nofee)])
    assert result.exit_code == 1 and "no fee for level" in result.output
    assert "nofee.yaml" in result.output
    ignored = tmp_path / "ignored.json"
    body = load_campaign_file(AKSU).model_dump(mode="json")
    body["defense"]["remote_sample_rate"] = 0.3  # with remote_selection: all
    ignored.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(campaigns_app, ["check", str(ignored)])
    assert result.exit_code == 1 and "remote_sample_rate" in result.output
    assert stored_campaign(cli_settings, "aks-2024-transport") is None
    ok = runner.invoke(campaigns_app, ["check", str(AKSU)])
    assert ok.exit_code == 0 and "ok: aks-2024-transport" in ok.output
    usage = runner.invoke(campaigns_app, ["import", str(AKSU), "--api", "http://x"])
    assert usage.exit_code == 2
    both = runner.invoke(campaigns_app, ["import", str(AKSU), "--api", "http://x", "--token", "t",
                                         "--database-url", cli_settings.database_url])  # fmt: skip
    assert both.exit_code == 2


@pytest.fixture
def api_server(cli_settings: Settings) -> Iterator[str]:
    """The app served over real HTTP on a free local port (uvicorn in a thread, no lifespan:
    storing a campaign needs no Temporal); yields its base URL."""
    app = create_app(cli_settings)
    Store(cli_settings.database_url).migrate()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_cli_imports_through_the_api_as_an_administrator(
    cli_settings: Settings, api_server: str
) -> None:
    """``campaigns import FILE --api URL --token T`` posts the file to POST /campaigns: 201 as
    an administrator; a second time 409 (exit 1); a non-admin token is refused (403, exit 1);
    an API that cannot be reached is exit 1."""
    admin = mint_token(cli_settings, "admin-1", "admin")
    runner = CliRunner()
    registry = ["import", str(AKSU_REGISTRY), "--api", api_server, "--token", admin]
    registered = runner.invoke(orgs_app, registry)
    assert registered.exit_code == 0, registered.output
    args = ["import", str(AKSU), "--api", api_server, "--token", admin]
    created = runner.invoke(campaigns_app, args)
    assert created.exit_code == 0, created.output
    assert f"imported campaign aks-2024-transport through {api_server}" in created.output
    assert stored_campaign(cli_settings, "aks-2024-transport") == load_campaign_file(AKSU)
    again = runner.invoke(campaigns_app, args)
    assert again.exit_code == 1 and "refused (409)" in again.output
    unit = mint_token(cli_settings, "unit-1", "unit_reviewer", "U-001")
    refused = runner.invoke(campaigns_app, ["import", str(AKSU), "--api", api_server],
                            env={"REVIEWCHAIN_TOKEN": unit})  # fmt: skip
    assert refused.exit_code == 1 and "refused (403)" in refused.output
    gone = runner.invoke(campaigns_app, ["import", str(AKSU), "--api", "http://127.0.0.1:9",
                                         "--token", admin])  # fmt: skip
    assert gone.exit_code == 1 and "cannot reach the API" in gone.output


# --------------------------------------------------------------------------- deadline changes


async def test_deadline_change_answers_202_and_reports_progress_until_every_one_is_rearmed(
    api: Api, settings: Settings
) -> None:
    """§3 延期, durably (docs/rules.md §15: 200/202): with ``wait=0`` the call answers 202 with the
    change id and how many open declarations it addresses; its progress reaches ``finished`` with
    every one updated, each re-armed to the new instant with one ``deadlines.changed`` event; an
    unknown change is 404."""
    c = await api.campaign()
    ids = [await api.file(c) for _ in range(4)]
    await api.post(f"/declarations/{ids[0]}/withdraw", f.APPLICANT)  # ended: not addressed
    later = c.declaration_closes_at + timedelta(days=15)
    response = await api.call("POST", f"/campaigns/{c.id}/deadlines", f.COMMITTEE,
                              {"declaration_closes_at": later.isoformat()}, expect=202,
                              wait=0)  # fmt: skip
    accepted = response.json()
    assert accepted["declarations"] == 3 and accepted["finished"] is False
    path = accepted["progress"]
    assert path == f"/campaigns/{c.id}/deadline-changes/{accepted['change_id']}"
    loop = asyncio.get_running_loop()
    until = loop.time() + 30
    while not (progress := await api.get(path, AUDITOR))["finished"]:
        assert loop.time() < until, progress
        await asyncio.sleep(0.1)
    assert (progress["total"], progress["done"], progress["updated"]) == (3, 3, 3)
    assert progress["failed"] == [] and progress["kind"] == "deadlines"
    for d in ids[1:]:
        assert datetime.fromisoformat((await api.view(d))["deadlines"]["declaration"]) == later
        assert len(actions(await asyncio.to_thread(history, settings, d), "deadlines.changed")) == 1
    await api.get(f"/campaigns/{c.id}/deadline-changes/nothing-like-it", f.ADMIN, expect=404)
    await api.get(path, f.UNIT, expect=403)


# --------------------------------------------------------------------------- calendar 2027


async def test_loading_2027_recomputes_provisional_deadlines_and_explains_each(
    api: Api, settings: Settings
) -> None:
    """§7 (a year the packaged data does not cover, 2027): a unit publicity and a correction
    window counted provisionally (weekends and statutory holidays off, no 调休) are recomputed
    when the year's official data is loaded; each declaration's trail records
    ``calendar.changed`` and, per deadline, ``deadline.<kind>.recomputed`` (moved, with before,
    after and the explanation naming the calendar version) or ``.confirmed``."""
    if not api.env.supports_time_skipping:
        pytest.skip("needs the time-skipping test server (the clock moves to 2027)")
    await skip_to(api.env, datetime(2027, 3, 1, 10, 0, tzinfo=f.BJ))  # Monday
    c = await api.campaign()
    publicity = await api.file(c)
    await api.post(f"/declarations/{publicity}/submit", f.APPLICANT)
    view = await api.decide(publicity, f.UNIT, "unit_review", opinion="同意")
    # Tue 3-2 … Fri 3-5, Mon 3-8: five working days, ends Tuesday 3-9 00:00 (provisional).
    assert view["deadlines"]["publicity_ends"] == "2027-03-09T00:00:00+08:00"
    assert "publicity_ends" in view["provisional_deadlines"]
    await skip_to(api.env, datetime(2027, 3, 4, 10, 0, tzinfo=f.BJ))  # Thursday
    returned = await api.file(c)
    await api.post(f"/declarations/{returned}/submit", f.APPLICANT)
    view = await api.decide(returned, f.UNIT, "unit_review", "return", opinion="缺学历证书",
                            reasons=["missing_material"])  # fmt: skip
    # Two days: Fri 3-5, Sat 3-6 (off) → the next working day, Monday 3-8, at 24:00.
    assert view["deadlines"]["correction"] == "2027-03-09T00:00:00+08:00"

    version = "国办发明电〔2026〕 (test)"
    loaded = await api.call("PUT", "/calendar/2027", f.ADMIN, {
        "version": version, "holidays": ["2027-01-01", "2027-03-03", "2027-03-05"],
        "workdays": ["2027-03-06"]})  # fmt: skip
    answer = loaded.json()
    assert (answer["changed"], answer["declarations"], answer["updated"]) == (True, 2, 2)
    assert answer["failed"] == [] and answer["finished"] is True

    moved = await api.view(publicity)
    # Tue 3-2, Thu 3-4, Sat 3-6 (worked), Mon 3-8, Tue 3-9: ends Wednesday 3-10 00:00.
    assert moved["deadlines"]["publicity_ends"] == "2027-03-10T00:00:00+08:00"
    assert moved["provisional_deadlines"] == []
    rows = await asyncio.to_thread(history, settings, publicity)
    (changed,) = actions(rows, "calendar.changed")
    assert changed["detail"]["year"] == 2027 and changed["detail"]["version"] == version
    assert changed["detail"]["recomputing"] == ["at_risk_from", "publicity_ends"]
    (recomputed,) = actions(rows, "deadline.publicity_ends.recomputed")
    assert recomputed["seq"] > changed["seq"]
    assert recomputed["detail"]["before"] == "2027-03-09T00:00:00+08:00"
    assert recomputed["detail"]["after"] == "2027-03-10T00:00:00+08:00"
    explanation = recomputed["detail"]["explanation"]
    assert explanation["provisional"] is False and version in explanation["calendar_version"]
    assert actions(rows, "deadline.at_risk_from.confirmed") + actions(
        rows, "deadline.at_risk_from.recomputed")  # fmt: skip

    corrected = await api.view(returned)
    # Fri 3-5 (off), Sat 3-6 (worked): the second day is a working day, ends at its 24:00.
    assert corrected["deadlines"]["correction"] == "2027-03-07T00:00:00+08:00"
    rows = await asyncio.to_thread(history, settings, returned)
    (changed,) = actions(rows, "calendar.changed")
    assert changed["detail"]["recomputing"] == ["at_risk_from", "correction"]
    (recomputed,) = actions(rows, "deadline.correction.recomputed")
    assert (recomputed["detail"]["before"], recomputed["detail"]["after"]) == (
        "2027-03-09T00:00:00+08:00", "2027-03-07T00:00:00+08:00")  # fmt: skip
    assert version in recomputed["detail"]["explanation"]["calendar_version"]

    again = (await api.call("PUT", "/calendar/2027", f.ADMIN, {
        "version": version, "holidays": ["2027-01-01", "2027-03-03", "2027-03-05"],
        "workdays": ["2027-03-06"]})).json()  # fmt: skip
    assert (again["changed"], again["declarations"]) == (False, 0)
    assert len(actions(await asyncio.to_thread(history, settings, returned),
                       "calendar.changed")) == 1  # fmt: skip


# --------------------------------------------------------------------------- review meeting


async def test_a_meeting_records_each_declarations_own_vote_quorum_and_recusals(
    api: Api, settings: Settings
) -> None:
    """§2.8 (40号令) and §10.3 in bulk: each declaration gets its own ``record_vote``; the quorum
    counts the members present, and those recused for a declaration only leave its vote, so the
    2/3 rule is decided per declaration on those voting; refusals carry the workflow's reason
    and are audited; the meeting keeps counts only. The same meeting again answers from the store (200, no second
    vote); the same id with other content is 409."""
    c = await simple_campaign(api)
    a, b, q, n = await to_committee_review(api, c, 4)
    waiting = await api.file(c, level="intermediate")  # still a draft
    other = await simple_campaign(api)
    elsewhere = await api.file(other, level="intermediate")
    body = {
        "meeting_id": "M-2027-1",
        "held_at": (await api.now()).isoformat(),
        "members_present": MEMBERS,
        "votes": [
            vote(a, 16, 2, 2),  # 20 attend: passes
            vote(b, 12, 4, 2, recused=2),  # 20 present, 18 vote (2 recused): 12 = 2/3 of 18
            vote(q, 20, 0, 0, recused=4),  # 16 vote, 20 ballots counted: refused
            vote(n, 10, 8, 2),  # 10 of 20 in favour: not passed
            vote(waiting, 20),
            vote(elsewhere, 20),
        ],
    }
    answer = await api.post(f"/campaigns/{c.id}/meetings", f.COMMITTEE, body, expect=201)
    results = {r["declaration_id"]: r for r in answer["results"]}
    assert [r["declaration_id"] for r in answer["results"]] == [a, b, q, n, waiting, elsewhere]
    assert answer["summary"] == {"passed": 2, "not_passed": 1, "refused": 3}
    assert answer["members_present"] == 20
    assert (results[a]["outcome"], results[a]["attending"], results[a]["state"]) == (
        "passed", 20, "result_publicity")  # fmt: skip
    assert (results[b]["outcome"], results[b]["attending"], results[b]["recused"]) == (
        "passed", 20, MEMBERS[:2])  # fmt: skip
    assert results[q]["outcome"] == "refused" and results[q]["quorum_met"] is True
    assert "16" in results[q]["reason"]
    assert (results[n]["outcome"], results[n]["state"]) == ("not_passed", "not_approved")
    assert "draft" in results[waiting]["reason"]
    assert "not in this campaign" in results[elsewhere]["reason"]

    view = await api.view(b)
    assert view["vote"] == {"members": 25, "attending": 20, "in_favor": 12, "against": 4,
                            "abstain": 2, "recused": MEMBERS[:2], "quorum_met": True,
                            "passed": True}  # fmt: skip
    rows = await asyncio.to_thread(history, settings, b)
    (recorded,) = actions(rows, "vote.recorded")
    assert recorded["detail"]["meeting_id"] == "M-2027-1"
    assert await refused_by(settings, q, f.COMMITTEE.id)  # the quorum refusal is audited
    assert await refused_by(settings, elsewhere, f.COMMITTEE.id)
    assert (await api.view(q))["state"] == "committee_review"

    again = await api.post(f"/campaigns/{c.id}/meetings", f.COMMITTEE, body, expect=200)
    assert again["results"] == answer["results"]
    assert len(actions(await asyncio.to_thread(history, settings, a), "vote.recorded")) == 1
    changed = {**body, "votes": [vote(q, 15, 0, 1)]}
    await api.post(f"/campaigns/{c.id}/meetings", f.COMMITTEE, changed, expect=409)
    assert await refused_by(settings, f"campaign:{c.id}", f.COMMITTEE.id)

    def stored_columns() -> set[str]:
        db = Store(settings.database_url)
        try:
            with db.session(readonly=True) as session:
                rows_ = session.execute(text("SELECT * FROM committee_meeting_vote")).mappings()
                return set(next(iter(rows_)).keys())
        finally:
            db.dispose()

    columns = await asyncio.to_thread(stored_columns)
    assert {"in_favor", "against", "abstain", "recused"} <= columns
    assert not any("ballot" in name or "member_vote" in name for name in columns)


async def test_a_meeting_with_a_recused_member_not_present_is_422(api: Api) -> None:
    """§10.3 回避 concerns members present; a member listed twice or a declaration voted on twice
    is malformed too (422, nothing sent)."""
    c = await simple_campaign(api)
    absent = {**vote("D-x", 20), "recused": ["M99"]}
    body: dict[str, Any] = {"meeting_id": "M-1", "held_at": (await api.now()).isoformat(),
                            "members_present": MEMBERS, "votes": [absent]}  # fmt: skip
    await api.post(f"/campaigns/{c.id}/meetings", f.COMMITTEE, body, expect=422)
    twice = {**body, "votes": [vote("D-x", 20), vote("D-x", 20)]}
    await api.post(f"/campaigns/{c.id}/meetings", f.COMMITTEE, twice, expect=422)
    repeated = {**body, "members_present": [*MEMBERS, "M01"], "votes": [vote("D-x", 20)]}
    await api.post(f"/campaigns/{c.id}/meetings", f.COMMITTEE, repeated, expect=422)
    await api.post("/campaigns/nope/meetings", f.COMMITTEE,
                   {**body, "votes": [vote("D-x", 20)]}, expect=404)  # fmt: skip


# --------------------------------------------------------------------------- defense schedule


async def test_defense_schedule_shows_venue_and_draw_and_the_trail_records_the_draw(
    api: Api, settings: Settings
) -> None:
    """§5 (000, 002): on site for the named affiliations, the others drawn at random to defend
    remotely; GET /campaigns/{id}/defenses lists who defends where (masked under blind review),
    and each declaration's trail records the draw with its seed, which reproduces it."""
    defense = {"required_levels": ["deputy_senior"], "onsite_affiliations": ["乌鲁木齐市"],
               "remote_selection": "sample", "remote_sample_rate": 0.5}  # fmt: skip
    c = await simple_campaign(api, defense=defense)
    ids = await past_the_fee(api, c)
    schedule = await api.get(f"/campaigns/{c.id}/defenses", f.COMMITTEE)
    items = {i["declaration_id"]: i for i in schedule["declarations"]}
    assert set(items) == set(ids)
    assert schedule["remote_sample_rate"] == 0.5
    first = items[ids[0]]
    assert (first["venue"], first["defends"], first["drawn"]) == ("onsite", True, None)
    assert first["applicant"]["name"] == "***"  # blind review (§9)
    for d in ids[1:]:
        drawn = remote_sample_drawn(c.id, d, 0.5)
        assert items[d]["drawn"] is drawn
        assert items[d]["venue"] == ("remote" if drawn else None)
        assert items[d]["state"] == ("defense_pending" if drawn else "committee_review")
        rows = await asyncio.to_thread(history, settings, d)
        (paid,) = actions(rows, "payment.recorded")
        assert paid["detail"]["drawn"] is drawn
        seed = paid["detail"]["draw"]["seed"]
        assert seed == f"{c.id}:{d}"
        campaign_id, declaration_id = seed.split(":", 1)
        rate = paid["detail"]["draw"]["rate"]
        assert remote_sample_drawn(campaign_id, declaration_id, rate) is drawn
    assert schedule["summary"]["onsite"] == 1
    assert schedule["summary"]["drawn"] + schedule["summary"]["not_drawn"] == len(ids) - 1
    assert schedule["declarations"][0]["declaration_id"] == ids[0]  # on site first
    await api.get(f"/campaigns/{c.id}/defenses", f.ADMIN, expect=403)


async def file_from(api: Api, c: Campaign, unit_id: str) -> str:
    """A declaration of ``unit_id``: its affiliation is the unit's registered region (§5, §11)."""
    body = f.declaration_body(c, unit_id=unit_id)
    created = await api.post("/declarations", f.APPLICANT, body, 201)
    await api.recorded(created["id"])
    return str(created["id"])


async def past_the_fee(api: Api, c: Campaign) -> list[str]:
    """One deputy-senior declaration from 乌鲁木齐市 and four from elsewhere, past their fee."""
    urumqi = Actor(id="unit-reviewer-urumqi", role="unit_reviewer", org=f.URUMQI_UNIT)
    ids = [await file_from(api, c, f.URUMQI_UNIT)]
    ids += [await api.file(c) for _ in range(4)]
    unit = {d: urumqi if d == ids[0] else f.UNIT for d in ids}
    view: dict[str, Any] = {}
    for d in ids:
        await api.post(f"/declarations/{d}/submit", f.APPLICANT)
        view = await api.decide(d, unit[d], "unit_review", opinion="同意")
    await api.skip_past(view["deadlines"]["publicity_ends"])
    for d in ids:
        await api.wait_state(d, "unit_recommendation")
        await api.decide(d, unit[d], "unit_recommendation", opinion="同意推荐",
                         publicity_result_ref="公示结果")  # fmt: skip
        await api.decide(d, f.COMMITTEE, "committee_formal_review")
        await api.post(f"/declarations/{d}/payments", f.FINANCE,
                       {"amount": 550, "receipt_no": f"R-{d}"})  # fmt: skip
    return ids


# --------------------------------------------------------------------------- results


@pytest.mark.parametrize("scoped", [False, True], ids=["unrestricted", "directed_scope_001"])
async def test_publicity_list_announcement_and_certificate_pdf(
    api: Api, settings: Settings, scoped: bool
) -> None:
    """§2.9 公示名单 (public: name, unit, level, series, first and last day), §2.10 结果公布 (the
    certified with their numbers) and the electronic certificate as a PDF carrying its
    verification code and the public check's path, for its holder, the committee and admins
    only; a revoked certificate is not issued (409) and checks as revoked (§10.6). The check
    and the PDF state the specialty and, where the campaign's directed route is scoped (001
    定向评价、定向使用), the scope: the region of the campaign's committee."""
    routes = {"directed": {"scoped": scoped}}
    c = await simple_campaign(api, routes=routes)
    (d,) = await to_committee_review(api, c, 1)
    voted_at = await api.now()  # the clock only moves when the test skips it
    await api.post(f"/campaigns/{c.id}/meetings", f.COMMITTEE, {
        "meeting_id": "M-1", "held_at": voted_at.isoformat(),
        "members_present": MEMBERS, "votes": [vote(d, 18, 1, 1)]}, expect=201)  # fmt: skip
    listed = await api.get(f"/campaigns/{c.id}/publicity-list", f.OTHER_UNIT)
    (entry,) = listed["declarations"]
    view = await api.view(d)
    assert entry["name"] == "张三" and entry["unit_id"] == f.UNIT.org  # not masked: public
    assert (entry["level"], entry["series"]) == ("intermediate", "engineering")
    assert "id_number" not in json.dumps(listed)
    ends = datetime.fromisoformat(view["deadlines"]["publicity_ends"]).astimezone(f.BJ)
    assert entry["last_day"] == (ends - timedelta(days=1)).date().isoformat()
    # 公示时间从…起: the day the vote was taken does not count (§7).
    assert entry["first_day"] == (voted_at.date() + timedelta(days=1)).isoformat()
    assert (await api.post(f"/campaigns/{c.id}/announcement", f.ADMIN))["certified"] == []

    await api.skip_past(view["deadlines"]["publicity_ends"])
    view = await api.wait_state(d, "certified")
    number = view["result"]["certificate_no"]
    assert (await api.get(f"/campaigns/{c.id}/publicity-list", f.APPLICANT))["count"] == 0
    announced = await api.post(f"/campaigns/{c.id}/announcement", f.COMMITTEE)
    (cert,) = announced["certified"]
    assert (cert["declaration_id"], cert["certificate_no"]) == (d, number)
    assert cert["check"] == f"/certificates/{number}" and cert["name"] == "张三"
    await api.post(f"/campaigns/{c.id}/announcement", f.UNIT, expect=403)

    check = await api.get(f"/certificates/{number}", None)
    assert check["specialty"] == "highway"
    region = "阿克苏地区"  # the committee's registered region (f.REGISTRY)
    assert check["scope"] == ({"kind": "directed", "region": region} if scoped else None)
    code = await asyncio.to_thread(verification_code, settings, number)
    for actor in (f.APPLICANT, f.COMMITTEE, f.ADMIN):
        pdf = await api.call("GET", f"/certificates/{number}/pdf", actor)
        assert pdf.headers["content-type"] == "application/pdf"
        body = pdf.content
        assert body.startswith(b"%PDF") and number.encode() in body and code.encode() in body
        assert f"/certificates/{number}".encode() in body and b"STSong-Light" in body
        assert check["issued_on"].encode() in body
        assert (cjk_text("定向评价") in body) is scoped and cjk_text("highway") in body
    await api.call("GET", f"/certificates/{number}/pdf", OTHER_APPLICANT, expect=403)
    assert await refused_by(settings, d, OTHER_APPLICANT.id)
    await api.call("GET", "/certificates/RC-none-000009/pdf", f.ADMIN, expect=404)

    await api.post(f"/declarations/{d}/misconduct", f.COMMITTEE, {"finding": "论文抄袭"})
    await api.wait_state(d, "revoked")
    await eventually(
        lambda: api.get(f"/certificates/{number}", None),
        lambda check: check["status"] == "revoked",
        what=f"{number} to check as revoked",
    )
    await api.call("GET", f"/certificates/{number}/pdf", f.APPLICANT, expect=409)
    assert (await api.post(f"/campaigns/{c.id}/announcement", f.ADMIN))["certified"] == []


def cjk_text(text: str) -> bytes:
    """``text`` as the certificate's CJK font writes it into the PDF (UTF-16BE, escaped)."""
    return escapePDF(text.encode("utf-16-be")).encode("latin-1")


def verification_code(settings: Settings, number: str) -> str:
    db = Store(settings.database_url)
    try:
        with db.session(readonly=True) as session:
            row = session.execute(
                text("SELECT verification_code FROM certificate WHERE certificate_no = :n"),
                {"n": number},
            ).one()
            return str(row[0])
    finally:
        db.dispose()


# --------------------------------------------------------------------------- risk and report


async def test_inbox_lists_the_declarations_at_risk_beside_the_page(api: Api) -> None:
    """§10.2: a declaration whose remaining working days before the declaration deadline are
    fewer than the chain still needs is listed under ``at_risk`` (with when it became so), for
    its reviewers; the page itself is unchanged (docs/rules.md §15 ``GET /inbox``)."""
    await api.register(deep_registry())
    now = await api.now()
    t = pick_deadline(now)
    deep = await api.campaign(declaration_closes_at=t, top_authority="A9")
    shallow = await api.campaign(declaration_closes_at=t, top_authority="A0")
    risky = await api.file(deep, unit_id=DEEP_UNIT)  # ten authority levels to go
    calm = await api.file(shallow, unit_id=DEEP_UNIT)  # one
    for d in (risky, calm):
        await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    inbox = await api.get("/inbox", DEEP_REVIEWER)
    assert {i["id"] for i in inbox["items"]} == {risky, calm} and inbox["total"] == 2
    assert [e["id"] for e in inbox["at_risk"]] == [risky] and inbox["at_risk_total"] == 1
    (entry,) = inbox["at_risk"]
    view = await api.view(risky)
    assert entry["at_risk_from"] == view["at_risk_from"]
    assert (entry["state"], entry["action"]) == ("unit_review", "unit_review")
    assert entry["declaration_deadline"] == view["deadlines"]["declaration"]
    assert (await api.get("/inbox", f.OTHER_UNIT))["at_risk"] == []


async def test_campaign_report_counts_returns_per_unit_reason_and_stage(api: Api) -> None:
    """§10.4 return reasons as codes: returns counted per reason code, per unit of the
    declaration and per stage (an uncoded return counts as ``uncoded``; an objection upheld in
    the unit publicity with outcome return as ``objection_upheld``), beside the states."""
    c = await api.campaign()
    a = await api.file(c)
    b = await api.file(c)
    e = await api.file(c, unit_id=f.OTHER_UNIT.org)
    await api.file(c)  # a draft
    for d in (a, b, e):
        await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    await api.decide(a, f.UNIT, "unit_review", "return", opinion="缺材料",
                     reasons=["missing_material", "unclear_scan"])  # fmt: skip
    await api.post(f"/declarations/{a}/submit", f.APPLICANT)
    await api.decide(a, f.UNIT, "unit_review", "return", opinion="仍缺材料",
                     reasons=["missing_material"])  # fmt: skip
    await api.decide(e, f.OTHER_UNIT, "unit_review", "return", opinion="请补充说明")
    await api.decide(b, f.UNIT, "unit_review", opinion="同意")
    lodged = await api.post(
        f"/declarations/{b}/objections", AUDITOR, {"text": "学历存疑"}, expect=201
    )
    await api.post(f"/declarations/{b}/objections/{lodged['objection_id']}/resolution", f.UNIT,
                   {"upheld": True, "opinion": "属实", "outcome": "return"})  # fmt: skip

    report = await api.get(f"/campaigns/{c.id}/report", AUDITOR)
    assert report["declarations"] == 4
    assert report["states"] == {"draft": 1, "returned": 3}
    returns = report["returns"]
    assert returns["total"] == 4
    assert returns["by_reason"] == {"missing_material": 2, "objection_upheld": 1,
                                    "unclear_scan": 1, "uncoded": 1}  # fmt: skip
    assert returns["by_unit"] == {
        f.UNIT.org: {"total": 3, "by_reason": {"missing_material": 2, "objection_upheld": 1,
                                               "unclear_scan": 1}},
        f.OTHER_UNIT.org: {"total": 1, "by_reason": {"uncoded": 1}},
    }  # fmt: skip
    assert returns["by_stage"] == {"unit_publicity": 1, "unit_review": 3}
    assert report["routes"] == {
        "directed": {"declarations": 4, "states": {"draft": 1, "returned": 3}},
        "private_enterprise": {"declarations": 0, "states": {}},
    }
    await api.get(f"/campaigns/{c.id}/report", f.COMMITTEE)
    await api.get(f"/campaigns/{c.id}/report", f.UNIT, expect=403)
    await api.get("/campaigns/nope/report", f.ADMIN, expect=404)


async def test_campaign_report_has_a_row_per_route(api: Api) -> None:
    """§12 routes: the report counts each route's declarations and their states, one row for
    every route the campaign opens (a route nobody filed on shows zero)."""
    c = await api.campaign()
    await api.file(c)
    private = await api.file(c, route="private_enterprise")
    await api.post(f"/declarations/{private}/submit", f.APPLICANT)

    report = await api.get(f"/campaigns/{c.id}/report", AUDITOR)
    assert report["declarations"] == 2
    assert report["routes"] == {
        "directed": {"declarations": 1, "states": {"draft": 1}},
        "private_enterprise": {"declarations": 1, "states": {"unit_review": 1}},
    }
