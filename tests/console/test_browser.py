"""One declaration through its whole chain in a real browser (Debian's chromium, driven by
Playwright), every decision a click on the console: each role signs in with a minted token, finds
the declaration in its inbox and uses the form of the current stage. Time is skipped on the
Temporal test server where a publicity must end. Screenshots land in test-artifacts/console/.

The app is served by uvicorn inside the test's own event loop (as a task), around the same
Temporal time-skipping environment and worker as every API test. Skipped, with the reason, where
there is no chromium at /usr/bin/chromium (CI installs it: .ci/run).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from api.auth import mint_token
from domain.models import Actor
from settings import Settings
from testing import factories as f
from testing.api import Api

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AUDITOR = Actor(id="auditor-1", role="auditor")

if not CHROMIUM.exists():
    pytest.skip(
        "no chromium at /usr/bin/chromium: install it with `apt-get install chromium` "
        "(.ci/run does) to run the browser test",
        allow_module_level=True,
    )
playwright = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is a dev extra: pip install -e '.[dev]'"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app on 127.0.0.1:<free port>, served from this event loop."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@pytest.fixture
async def browser_page(tmp_path: Path) -> AsyncIterator[Any]:
    """A headless chromium with a fresh profile; Playwright's own browser download is not used."""
    async with playwright.async_playwright() as driver:
        context = await driver.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            page.set_default_timeout(20_000)
            # Assertions wait as long as actions: a decision that runs an activity (the fee's
            # ledger write) may take seconds on a loaded two-core machine.
            playwright.expect.set_options(timeout=20_000)
            yield page
        finally:
            await context.close()


class Clicks:
    """The browser as each person uses it."""

    def __init__(self, page: Any, base: str, settings: Settings) -> None:
        for old in ARTIFACTS.glob("*.png"):
            old.unlink()
        self.page = page
        self.base = base
        self.settings = settings
        self.shots: list[str] = []

    async def sign_in(self, actor: Actor, *, shot: str = "") -> None:
        page = self.page
        await page.goto(f"{self.base}/console/login")
        token = mint_token(self.settings, actor.id, actor.role, actor.org)
        await page.get_by_label("访问令牌 access token (JWT)").fill(token)
        if shot:
            await self.shot(shot)
        await page.get_by_role("button", name="登录 sign in").click()
        await page.wait_for_url(re.compile(r"/console/(inbox|campaigns|audit)"))
        await playwright.expect(page.locator("header .who")).to_contain_text(actor.id)

    async def open_from_inbox(self, declaration_id: str) -> None:
        page = self.page
        await page.get_by_role("link", name="待办 inbox").click()
        row = page.get_by_role("row").filter(has_text=declaration_id)
        await playwright.expect(row).to_have_count(1)
        await row.get_by_role("link", name=declaration_id).click()
        await page.wait_for_url(f"**/console/declarations/{declaration_id}*")

    async def decide(self, outcome: str, opinion: str = "", **fields: str) -> None:
        page = self.page
        form = page.get_by_role("form", name="审核决定 decision")
        await form.get_by_label(outcome).check()
        for label, value in fields.items():
            await form.get_by_label(label).fill(value)
        if opinion:
            await form.get_by_label("审核意见 opinion").fill(opinion)
        await form.get_by_role("button", name="提交决定 submit decision").click()

    async def expect_state(self, state: str) -> None:
        heading = self.page.get_by_role("heading", level=1)
        await playwright.expect(heading.locator("code").last).to_have_text(state)

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{len(self.shots) + 1:02d}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path.name)


async def test_one_declaration_through_the_whole_chain_by_clicks(
    api: Api, served: str, browser_page: Any, settings: Settings
) -> None:
    """docs/rules.md §2 end to end in the console: submit, unit review, unit publicity (time
    skipped), recommendation, two authority levels, formal review, paper materials, fee,
    defense, a refused meeting tally (its reason shown) and the valid one, result publicity
    (time skipped), certified; then the auditor's verified trail, dossier and reviewer view."""
    expect = playwright.expect
    c = await api.campaign()
    d = await api.file(c)  # filing a declaration is the applicant's JSON form, not a console page
    # Two more in the campaign, so that the inbox and the dashboard have company.
    others = [Actor(id=f"applicant-{n}", role="applicant") for n in (2, 3)]
    for n, other in enumerate(others):
        filed = await api.file(c, applicant=other, level="intermediate")
        if n == 0:
            await api.post(f"/declarations/{filed}/submit", other)
    ui = Clicks(browser_page, served, settings)
    page = browser_page

    # The committee extends the declaration deadline (延期) before the chain starts.
    await ui.sign_in(f.COMMITTEE, shot="sign-in")
    await page.get_by_role("link", name=c.id).click()
    await page.get_by_role("link", name="调整期限 deadlines").click()
    later = (
        (c.declaration_closes_at + timedelta(days=7)).astimezone(f.BJ).strftime("%Y-%m-%dT%H:%M")
    )
    await page.get_by_label("申报截止 declaration_closes_at").fill(later)
    await page.get_by_role("button", name="保存并通知 save and re-arm timers").click()
    await expect(page.get_by_role("status")).to_contain_text("3 件未结束的申报将按新期限重新计时")
    progress = page.get_by_role("region", name="重新计时进度 progress")
    for _ in range(100):  # the change is a durable fan-out: follow it until it has finished
        if "已完成 finished" in await progress.inner_text():
            break
        await asyncio.sleep(0.1)
        await progress.get_by_role("link", name="刷新 refresh").click()
    await expect(progress).to_contain_text("已处理 3 / 3 件")
    await ui.shot("committee-deadline-change")

    # Applicant: submit.
    await ui.sign_in(f.APPLICANT)
    await ui.open_from_inbox(d)
    await ui.shot("applicant-draft")
    await page.get_by_role("button", name="提交申报 submit").click()
    await expect(page.get_by_role("status")).to_contain_text("已提交")
    await ui.expect_state("unit_review")

    # Unit: approve; the unit publicity starts and explains its end.
    await ui.sign_in(f.UNIT)
    await ui.shot("unit-inbox")
    await ui.open_from_inbox(d)
    await ui.decide("同意 approve", "材料真实、完整、有效")
    await ui.expect_state("unit_publicity")
    await expect(page.get_by_role("region", name="期限 deadlines")).to_contain_text(
        "单位内部公示不少于5个工作日"
    )
    await ui.shot("unit-publicity")
    await api.skip_past((await api.view(d))["deadlines"]["publicity_ends"])
    await api.wait_state(d, "unit_recommendation")

    # Unit: recommend, citing the publicity result.
    await page.reload()
    await ui.decide("同意推荐 approve", "本单位已对申报材料逐一审核，同意推荐",
                    **{"公示结果证明 publicity_result_ref": "公示结果-2024-017"})  # fmt: skip
    await ui.expect_state("authority_review")

    # Two authority levels, each from its own inbox.
    for reviewer in (f.COUNTY, f.PREFECTURE):
        await ui.sign_in(reviewer)
        await ui.open_from_inbox(d)
        await ui.decide("同意 approve", f"{reviewer.org} 审核同意")
    await ui.expect_state("committee_formal_review")

    # Committee: formal review, then the paper materials arrive before the fee.
    await ui.sign_in(f.COMMITTEE)
    await ui.open_from_inbox(d)
    await expect(page.get_by_text("***").first).to_be_visible()  # blind review
    await ui.shot("committee-formal-review")
    await ui.decide("通过形式审核 approve", "材料齐全，通过形式审核")
    await ui.expect_state("fee_pending")
    await page.get_by_role("button", name="登记收到纸质材料 record materials").click()
    await expect(page.get_by_role("status")).to_contain_text("纸质材料已登记")

    # Finance: the fee.
    await ui.sign_in(f.FINANCE)
    await ui.open_from_inbox(d)
    await page.get_by_label("收据号 receipt_no").fill("R-2024-0001")
    await ui.shot("finance-fee")
    await page.get_by_role("button", name="确认缴费 record payment").click()
    await ui.expect_state("defense_pending")

    # Committee: the defense, by video.
    await ui.sign_in(f.COMMITTEE)
    await ui.open_from_inbox(d)
    await page.get_by_label("答辩合格 passed").check()
    await page.get_by_label("答辩方式 mode").select_option("video")
    await page.get_by_label("答辩意见 defense opinion").fill("答辩合格")
    await page.get_by_role("button", name="登记答辩结果 record defense").click()
    await ui.expect_state("committee_review")

    # The review meeting: 16 members present (no quorum of 25) are refused with the workflow's
    # reason; the meeting with 20 present records the vote.
    await page.get_by_role("link", name="评审工作 campaigns").click()
    await page.get_by_role("link", name="评审会议 meeting").first.click()
    members = page.get_by_label("到会专家 members_present")
    await members.fill(", ".join(f"E{n:02d}" for n in range(1, 17)))
    await page.get_by_label(f"同意 in_favor {d}").fill("12")
    await page.get_by_label(f"反对 against {d}").fill("3")
    await page.get_by_label(f"弃权 abstain {d}").fill("1")
    await page.get_by_role("button", name="登记会议表决 record meeting votes").click()
    await expect(page.get_by_role("alert")).to_contain_text("出席专家不足评审委员会人数的2/3")
    await ui.shot("meeting-refused")
    await members.fill(", ".join(f"E{n:02d}" for n in range(1, 21)))
    await expect(page.get_by_text("到会 20 人")).to_be_visible()
    await page.get_by_label(f"同意 in_favor {d}").fill("15")
    await page.get_by_label(f"反对 against {d}").fill("2")
    await page.get_by_label(f"弃权 abstain {d}").fill("2")
    await page.get_by_label(f"回避 recused {d}").fill("E20")
    await ui.shot("meeting-form")
    await page.get_by_role("button", name="登记会议表决 record meeting votes").click()
    results = page.get_by_role("region", name="登记结果 results")
    await expect(results).to_contain_text("通过 passed")
    await expect(results).to_contain_text("result_publicity")
    await ui.shot("meeting-recorded")
    await page.get_by_role("link", name="结果公示 publicity").click()
    await expect(page.get_by_role("table", name="公示名单 publicity list")).to_contain_text(d)
    await ui.shot("result-publicity-list")
    await page.get_by_role("link", name="概览 dashboard").click()
    await ui.shot("committee-dashboard")

    await api.skip_past((await api.view(d))["deadlines"]["publicity_ends"])
    await api.wait_state(d, "certified")

    # The auditor: verified trail, everything the unit reviewer decided, the dossier.
    await ui.sign_in(AUDITOR)
    await page.get_by_role("link", name=c.id).click()
    await expect(page.get_by_role("status")).to_contain_text("审计链校验通过 verified")
    row = page.get_by_role("row").filter(has_text=d)
    await row.get_by_role("link", name="审计链 trail").click()
    await expect(page.get_by_role("status")).to_contain_text("审计链校验通过 verified")
    await ui.shot("auditor-trail")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="下载案卷 dossier").click()
    download = await download_info.value
    assert download.suggested_filename == f"dossier-{d}.json"
    await page.get_by_role("link", name="审计 audit").first.click()
    await page.get_by_label("操作人账号 actor_id").fill(f.UNIT.id)
    await page.get_by_role("button", name="查询 search").click()
    events = page.get_by_role("table", name="操作记录 events")
    await expect(events).to_contain_text("本单位已对申报材料逐一审核，同意推荐")
    await expect(events).to_contain_text("unit_recommendation.approve")
    await ui.shot("auditor-reviewer-decisions")
    await page.goto(f"{served}/console/declarations/{d}")
    await ui.expect_state("certified")
    await expect(page.get_by_role("region", name="当前 now")).to_contain_text("RC-")
    await ui.shot("certified-declaration")

    assert (await api.view(d))["state"] == "certified"
