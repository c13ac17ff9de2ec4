"""The console over HTTP (no browser): signing in keeps the API's JWT in an HttpOnly cookie and
verifies it as the API does; every page needs it; inboxes keep the API's order; a form goes down
the API's own path, so a refusal shows the workflow's reason (the same text the API answers) and
is audited the same way; a wrong role gets the API's 403, audited under the API's action name."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

from fastapi import FastAPI

from api.auth import mint_token
from domain.models import Actor
from settings import Settings
from testing import factories as f
from testing.api import DEEP_REVIEWER, DEEP_UNIT, Api, audit_rows, deep_registry
from tests.api.test_inbox import pick_deadline
from tests.console.helpers import Console


def rows_of(html: str, declaration_id: str) -> list[str]:
    """The table rows of a page that name a declaration."""
    return [r for r in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S) if declaration_id in r]


async def test_sign_in_keeps_the_token_in_an_httponly_cookie_verified_as_the_api_does(
    console: Console, settings: Settings
) -> None:
    http = console.client()
    page = await http.get("/console/login")
    assert page.status_code == 200 and 'for="token"' in page.text

    forged = mint_token(Settings(jwt_secret="another-secret-just-as-long-0123456789abcd"),
                        f.UNIT.id, f.UNIT.role, f.UNIT.org)  # fmt: skip
    expired = mint_token(settings, f.UNIT.id, f.UNIT.role, f.UNIT.org, ttl=timedelta(hours=-1))
    for bad in (forged, expired, "not.a.jwt", ""):
        refused = await http.post("/console/login", data={"token": bad})
        assert refused.status_code == 401 and "令牌无效" in refused.text
        assert "set-cookie" not in refused.headers

    token = mint_token(settings, f.UNIT.id, f.UNIT.role, f.UNIT.org)
    signed_in = await http.post("/console/login", data={"token": f"Bearer {token}"})
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/console/inbox"
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    inbox = await http.get("/console/inbox")
    assert inbox.status_code == 200 and f.UNIT.id in inbox.text and "用人单位审核人" in inbox.text

    # A signed-in committee member lands on the campaigns; `next` is honoured, only in the console.
    committee = mint_token(settings, f.COMMITTEE.id, "committee", "")
    landed = await http.post("/console/login", data={"token": committee})
    assert landed.headers["location"] == "/console/campaigns"
    back = await http.post("/console/login", data={"token": committee, "next": "/console/audit"})
    assert back.headers["location"] == "/console/audit"
    away = await http.post("/console/login", data={"token": committee, "next": "https://x.test/"})
    assert away.headers["location"] == "/console/campaigns"

    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', (await http.get("/console/audit")).text)
    assert csrf
    out = await http.post("/console/logout", data={"csrf": csrf.group(1)})
    assert out.status_code == 303 and (await http.get("/console/inbox")).status_code == 303


async def test_every_page_needs_a_valid_cookie_and_a_401_is_never_audited(
    api: Api, console: Console, settings: Settings
) -> None:
    """No cookie, or one whose token has expired: the browser is sent to the sign-in page
    (with where it was going); nothing is decided and nothing audited (no identity)."""
    c = await api.campaign()
    d = await api.file(c)
    trail = await asyncio.to_thread(audit_rows, settings, d)
    http = console.client()
    for path in ("/console", "/console/inbox", f"/console/declarations/{d}", "/console/audit",
                 f"/console/campaigns/{c.id}", f"/console/audit/declarations/{d}/dossier"):  # fmt: skip
        response = await http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/login?next=%2Fconsole")
    posted = await http.post(f"/console/declarations/{d}/submit", data={"csrf": "x"})
    assert posted.status_code == 303 and posted.headers["location"].startswith("/console/login")

    expired = mint_token(settings, f.APPLICANT.id, "applicant", "", ttl=timedelta(hours=-1))
    http.cookies.set("reviewchain_console", expired, domain="console.test", path="/console")
    response = await http.get(f"/console/declarations/{d}")
    assert response.status_code == 303 and "expired=1" in response.headers["location"]
    assert "reviewchain_console=" in response.headers["set-cookie"]  # cleared

    assert await asyncio.to_thread(audit_rows, settings, d) == trail
    assert (await api.view(d))["state"] == "draft"
    assert await asyncio.to_thread(audit_rows, settings, "api:access") == []


async def test_inbox_is_the_apis_order_with_at_risk_highlighted(api: Api, console: Console) -> None:
    """§10.2 and GET /inbox: soonest deadline first, at risk first among equals; the at-risk row
    is highlighted. A reviewer of another unit sees none of them."""
    await api.register(deep_registry())
    now = await api.now()
    t = pick_deadline(now)
    soon = await api.campaign(declaration_closes_at=t - timedelta(hours=2), top_authority="A0")
    later = await api.campaign(declaration_closes_at=t, top_authority="A9")  # ten levels
    same = await api.campaign(declaration_closes_at=t, top_authority="A0")  # one level
    d_soon = await api.file(soon, unit_id=DEEP_UNIT)
    d_risk = await api.file(later, unit_id=DEEP_UNIT)
    d_same = await api.file(same, applicant=Actor(id="applicant-2", role="applicant"),
                            unit_id=DEEP_UNIT)  # fmt: skip
    await api.post(f"/declarations/{d_same}/submit", Actor(id="applicant-2", role="applicant"))
    for d in (d_risk, d_soon):
        await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    order = [i["id"] for i in (await api.get("/inbox", DEEP_REVIEWER))["items"]]
    assert order == [d_soon, d_risk, d_same]

    unit = await console.sign_in(DEEP_REVIEWER)
    html = (await unit.get("/console/inbox")).text
    assert [html.index(d) for d in order] == sorted(html.index(d) for d in order)
    (risky,) = rows_of(html, d_risk)
    assert 'class="at-risk"' in risky and "有风险 at risk" in risky
    (calm,) = rows_of(html, d_soon)
    assert "at-risk" not in calm
    assert "单位审核 <code>unit_review</code>" in calm  # Chinese label beside the API's id

    other = await console.sign_in(f.OTHER_UNIT)
    elsewhere = (await other.get("/console/inbox")).text
    assert not any(d in elsewhere for d in order)


async def test_a_refused_decision_shows_the_workflows_reason_and_is_audited(
    api: Api, console: Console, settings: Settings, app: FastAPI
) -> None:
    """docs/rules.md §2, §16: a decision that does not fit the state is refused with 409 and a
    message a reviewer understands: the console shows exactly the API's text, changes nothing,
    and the workflow audits it (action ``decide``), as for the API. Both doors refuse the same
    command, so the API's repeat falls in the console refusal's window (api/refusals.py): it is
    counted there, and the window's summary records it once it closes."""
    c = await api.campaign()
    d = await api.file(c)
    unit = await console.sign_in(f.UNIT)
    body = {"stage": "unit_review", "outcome": "approve", "opinion": "同意"}
    page = await unit.act(d, "decisions", body, expect=409)
    refused = await api.decide(d, f.UNIT, "unit_review", expect=409, opinion="同意")
    assert refused["detail"] and refused["detail"] in page.text.replace("&#34;", '"')
    assert 'role="alert"' in page.text and "未执行 refused" in page.text
    assert (await api.view(d))["state"] == "draft"
    await app.state.services.refusal_windows.flush()
    rows = await api.recorded(d, at_least=3)
    decided = [r for r in rows if r["action"] == "decide" and r["outcome"] == "refused"]
    assert [r["actor_id"] for r in decided] == [f.UNIT.id, f.UNIT.id]
    summary = json.loads(decided[1]["detail"])
    assert decided[0]["opinion"] == refused["detail"]
    assert json.loads(decided[0]["detail"])["command"]["opinion"] == "同意"  # what was typed
    assert summary["repeated"] == 1 and "又重复 1 次" in decided[1]["opinion"]


async def test_a_role_the_api_refuses_gets_the_apis_403_audited_under_its_action(
    api: Api, console: Console, settings: Settings
) -> None:
    """The console's gates are the API routes' own: an applicant may not decide (403, audited on
    the declaration as ``decide``); another unit's reviewer is refused by the API's
    organisation check; finance may not open the auditor's pages."""
    c = await api.campaign()
    d = await api.file(c)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    applicant = await console.sign_in(f.APPLICANT)
    body = {"stage": "unit_review", "outcome": "approve"}
    page = await applicant.act(d, "decisions", body, expect=403)
    assert "角色 applicant 无权执行此操作" in page.text
    other = await console.sign_in(f.OTHER_UNIT)
    page = await other.get(f"/console/declarations/{d}", expect=403)
    assert "无权查看该申报" in page.text
    unknown = await other.get("/console/declarations/D-unknown", expect=404)
    assert "没有编号为 D-unknown 的申报" in unknown.text
    finance = await console.sign_in(f.FINANCE)
    page = await finance.get("/console/audit", expect=403)
    assert "角色 finance 无权执行此操作" in page.text

    rows = await api.recorded(d, at_least=4)
    refused = [(r["actor_id"], r["action"]) for r in rows if r["outcome"] == "refused"]
    assert (f.APPLICANT.id, "decide") in refused
    assert (f.OTHER_UNIT.id, "get_declaration") in refused
    assert (await api.view(d))["state"] == "unit_review"
    access = await asyncio.to_thread(audit_rows, settings, "api:access")
    assert [(r["actor_id"], r["action"]) for r in access] == [(f.FINANCE.id, "audit_console")]


async def test_a_form_without_the_pages_csrf_token_is_refused_and_changes_nothing(
    api: Api, console: Console, settings: Settings
) -> None:
    c = await api.campaign()
    d = await api.file(c)
    applicant = await console.sign_in(f.APPLICANT)
    trail = await asyncio.to_thread(audit_rows, settings, d)
    for csrf in ("", "0" * 64):
        forged = await applicant.http.post(f"/console/declarations/{d}/submit",
                                           data={"csrf": csrf})  # fmt: skip
        assert forged.status_code == 403 and "表单已失效" in forged.text
    assert (await api.view(d))["state"] == "draft"
    assert await asyncio.to_thread(audit_rows, settings, d) == trail


async def test_forms_move_the_declaration_and_the_page_draws_its_chain(
    api: Api, console: Console
) -> None:
    """Submit and approve through the console: each answers with the page (post/redirect/get)
    showing the new state, who decided, and the publicity deadline with its explanation."""
    c = await api.campaign()
    d = await api.file(c)
    applicant = await console.sign_in(f.APPLICANT)
    done = await applicant.act(d, "submit")
    assert done.headers["location"] == f"/console/declarations/{d}?done=submit"
    page = (await applicant.get(done.headers["location"])).text
    assert "已提交" in page and "单位审核 <code>unit_review</code>" in page

    unit = await console.sign_in(f.UNIT)
    invalid = await unit.act(d, "decisions", {"stage": "unit_review", "outcome": "maybe"},
                             expect=422)  # fmt: skip
    assert "outcome" in invalid.text and (await api.view(d))["state"] == "unit_review"
    await unit.act(d, "decisions", {"stage": "unit_review", "outcome": "approve",
                                    "opinion": "材料真实完整<script>alert(1)</script>"})  # fmt: skip
    view = await api.view(d)
    assert view["state"] == "unit_publicity"
    page = (await unit.get(f"/console/declarations/{d}")).text
    assert "材料真实完整&lt;script&gt;" in page and "<script>alert" not in page  # escaped
    assert f.UNIT.id in page
    assert 'class="step done"' in page and 'class="step current"' in page
    assert "000-004 单位内部公示不少于5个工作日" in page  # the deadline explains itself
    assert view["deadline_explanations"]["publicity_ends"] in page


async def test_blind_review_masks_the_committees_pages_as_the_api_does(
    api: Api, console: Console
) -> None:
    c = await api.campaign()
    d = await api.file(c)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    name = (await api.view(d))["applicant"]["name"]
    unit = await console.sign_in(f.UNIT)
    assert name in (await unit.get(f"/console/declarations/{d}")).text
    committee = await console.sign_in(f.COMMITTEE)
    page = (await committee.get(f"/console/declarations/{d}")).text
    assert name not in page and "***" in page
    assert f.UNIT.org not in page and f.APPLICANT.id not in page


async def test_committee_meeting_records_each_tally_and_shows_each_refusal(
    api: Api, console: Console, settings: Settings
) -> None:
    """§2.8, §10.3 through POST /campaigns/{id}/meetings's own service: one meeting, a tally per
    declaration; the quorum counts those present, and a recusal (回避) only leaves that
    declaration's vote: 17 present of 25 with one recused is a valid vote of 16. A tally that
    counts the recused member is refused with the workflow's reason (and audited) without
    stopping the other; the passed one then appears in the result publicity list."""
    c = await api.campaign()
    first = await api.file(c)
    second = await api.file(c, applicant=Actor(id="applicant-2", role="applicant"))
    await api.to_committee(first)
    await api.to_committee(second, applicant=Actor(id="applicant-2", role="applicant"))
    await api.to_committee_review(first, receipt="R-1")
    await api.to_committee_review(second, receipt="R-2")

    committee = await console.sign_in(f.COMMITTEE)
    meeting = f"/console/campaigns/{c.id}/meeting"
    listed = (await committee.get(meeting)).text
    assert first in listed and second in listed
    present = ", ".join(f"E{n:02d}" for n in range(1, 18))  # 17 of 25: quorum, just
    page = await committee.post(meeting, meeting, [
        ("meeting_id", "M-console-1"), ("held_at", "2024-09-20T09:30"),
        ("members_present", present),
        ("declaration", first), (f"in_favor-{first}", 12), (f"against-{first}", 3),
        (f"abstain-{first}", 1), (f"recused-{first}", "E17"),  # 16 vote: 12 ≥ 2/3, passes
        ("declaration", second), (f"in_favor-{second}", 12), (f"against-{second}", 3),
        (f"abstain-{second}", 2), (f"recused-{second}", "E17"),  # 17 ballots from 16 voting
    ], expect=200)  # fmt: skip
    assert "通过 passed" in page.text and "16 人不符" in page.text
    assert (await api.view(first))["state"] == "result_publicity"
    assert (await api.view(first))["vote"]["attending"] == 17
    assert (await api.view(second))["state"] == "committee_review"
    rows = await api.recorded(second, at_least=1)
    assert any(r["outcome"] == "refused" and r["action"] == "record_vote" for r in rows)

    invalid = await committee.post(meeting, meeting, [
        ("meeting_id", "M-console-2"), ("held_at", "2024-09-20T09:30"),
        ("members_present", "E01, E02"),
        ("declaration", second), (f"in_favor-{second}", 1), (f"against-{second}", 0),
        (f"abstain-{second}", 0), (f"recused-{second}", "E99"),
    ], expect=422)  # fmt: skip
    assert "E99" in invalid.text and "E01, E02" in invalid.text  # what was typed is kept

    publicity = (await committee.get(f"/console/campaigns/{c.id}/publicity")).text
    assert first in publicity and second not in publicity
    dashboard = (await committee.get(f"/console/campaigns/{c.id}")).text
    assert "评审结果公示 <code>result_publicity</code>" in dashboard
    assert "评审会议 <code>committee_review</code>" in dashboard
    # §12: a row per route the campaign opens, the empty one included
    assert "定向评价 <code>directed</code></td><td>2</td>" in dashboard
    assert "民营企业专项 <code>private_enterprise</code></td><td>0</td>" in dashboard


async def test_the_deadline_form_moves_the_campaign_and_rearms_open_declarations(
    api: Api, console: Console
) -> None:
    """POST /campaigns/{id}/deadlines's own path: the campaign's declaration deadline is
    extended, the page follows the change to every open declaration, whose view then shows the
    new instant."""
    c = await api.campaign()
    d = await api.file(c)
    committee = await console.sign_in(f.COMMITTEE)
    page = f"/console/campaigns/{c.id}/deadlines"
    later = (c.declaration_closes_at + timedelta(days=7)).astimezone(f.BJ).replace(second=0,
                                                                                microsecond=0)  # fmt: skip
    answer = await committee.post(page, page, {
        "declaration_closes_at": later.strftime("%Y-%m-%dT%H:%M")}, expect=200)  # fmt: skip
    assert "1 件未结束的申报将按新期限重新计时" in answer.text
    change = re.search(r'href="\?change=([^"]+)"|change_id <code>([^<]+)</code>', answer.text)
    assert change
    change_id = change.group(1) or change.group(2)
    campaign = await api.get(f"/campaigns/{c.id}", f.ADMIN)
    assert campaign["declaration_closes_at"] == later.isoformat()
    for _ in range(200):
        progress = (await committee.get(page, change=change_id)).text
        if "已完成 finished" in progress:
            break
        await asyncio.sleep(0.05)
    assert "已处理 1 / 1 件 · 已重新计时 updated 1" in progress
    assert (await api.view(d))["deadlines"]["declaration"] == later.isoformat()
    nothing = await committee.post(page, page, {}, expect=422)
    assert "没有修改任何期限" in nothing.text
    unit = await console.sign_in(f.UNIT)
    refused = await unit.get(page, expect=403)
    assert "角色 unit_reviewer 无权执行此操作" in refused.text


async def test_auditor_verifies_exports_and_downloads_the_dossier(
    api: Api, console: Console, settings: Settings
) -> None:
    """§8, §10.5: the trail with its verification badge, CSV and JSONL exports (store.export),
    the dossier (store.dossier), and everything one reviewer decided across declarations."""
    c = await api.campaign()
    first = await api.file(c)
    second = await api.file(c, applicant=Actor(id="applicant-2", role="applicant"))
    await api.post(f"/declarations/{first}/submit", f.APPLICANT)
    await api.post(f"/declarations/{second}/submit", Actor(id="applicant-2", role="applicant"))
    await api.decide(first, f.UNIT, "unit_review", opinion="同意")
    await api.decide(second, f.UNIT, "unit_review", "return", opinion="缺学历证明",
                     reasons=["missing_material"])  # fmt: skip

    auditor = await console.sign_in(Actor(id="auditor-1", role="auditor"))
    page = (await auditor.get(f"/console/audit/campaigns/{c.id}")).text
    assert "审计链校验通过 verified" in page and first in page and second in page
    page = (await auditor.get(f"/console/audit/declarations/{first}")).text
    assert "审计链校验通过 verified" in page and "prev <code>" in page

    events = (await api.get(f"/declarations/{first}/history", f.ADMIN))["events"]
    csv = await auditor.get("/console/audit/export", declaration_id=first, format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert len(csv.text.strip().splitlines()) == len(events) + 1
    jsonl = await auditor.get("/console/audit/export", campaign_id=c.id, format="jsonl")
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert {row["declaration_id"] for row in lines} >= {first, second}
    await auditor.get("/console/audit/export", format="csv", expect=422)
    blank = await auditor.get("/console/audit/export", declaration_id=first, campaign_id="")
    assert blank.text == csv.text  # an empty scope field is no scope

    dossier = await auditor.get(f"/console/audit/declarations/{first}/dossier")
    built = dossier.json()
    assert built["declaration_id"] == first and built["proof"]["store_check"]["ok"]
    assert len(built["timeline"]) == len(events)
    await auditor.get("/console/audit/declarations/D-unknown/dossier", expect=404)

    mine = (await auditor.get("/console/audit/actors", actor_id=f.UNIT.id)).text
    assert first in mine and second in mine and "缺学历证明" in mine and "missing_material" in mine
    refused = (await auditor.get("/console/audit/actors", outcome="refused",
                                 campaign_id=c.id)).text  # fmt: skip
    assert "共 0 条记录" in refused
