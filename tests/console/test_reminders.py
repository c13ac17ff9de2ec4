"""Reminders in the console (docs/rules.md §3), with the worker delivering to a real local SMTP
sink that keeps a Maildir, as ``python3 dev.py run`` runs it: each person's reminders beside
their inbox, the committee's delivery view of a campaign with sending again, and the
development mailbox page listing what the sink received."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.models import Actor
from settings import Settings
from testing import factories as f
from testing.api import Api
from testing.eventually import eventually
from tests.api.test_reminders import EMAIL, file_with_email
from tests.console.helpers import Console
from tests.helpers_servers import mail_settings
from tools.mailsink import MailSink


@pytest.fixture
def settings(tmp_path: Path, sink: tuple[MailSink, int]) -> Settings:
    return mail_settings(tmp_path, sink[1])


async def returned(api: Api) -> tuple[str, str]:
    c = await api.campaign()
    d = await file_with_email(api, c)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    await api.decide(
        d, f.UNIT, "unit_review", "return", opinion="扫描件不清晰", reasons=["unclear_scan"]
    )
    return c.id, d


def aside(html: str) -> str:
    found = re.search(r'<aside class="card reminders".*?</aside>', html, re.S)
    assert found, "no reminders beside the inbox"
    return found.group(0)


async def test_the_inbox_shows_the_persons_reminders_beside_it(
    api: Api, console: Console, sink: tuple[MailSink, int]
) -> None:
    mail, _ = sink
    _, d = await returned(api)
    await eventually(lambda: mail.by_subject(f"【结果】申报 {d}"))
    applicant = await console.sign_in(f.APPLICANT)
    html = aside((await applicant.get("/console/inbox")).text)
    assert "提醒 reminders" in html and d in html
    assert "截止提醒 <code>deadline_reminder</code>" in html and "scheduled" in html  # 24 h before
    other = await console.sign_in(Actor(id="applicant-x", role="applicant"))
    assert d not in aside((await other.get("/console/inbox")).text)


async def test_the_committee_sees_deliveries_per_campaign_and_sends_again(
    api: Api, console: Console, sink: tuple[MailSink, int]
) -> None:
    """The unit had no address: listed as such; once registered, 重新发送 delivers it."""
    mail, _ = sink
    campaign, d = await returned(api)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)  # corrected: the unit must act
    committee = await console.sign_in(f.COMMITTEE)
    page = f"/console/campaigns/{campaign}/reminders"

    async def listed() -> str | None:
        html = (await committee.get(page)).text
        return html if "无地址 no address" in html and "U-001" in html else None

    html = await eventually(listed)
    assert d in html
    await api.call("PUT", "/notification-addresses/U-001", f.ADMIN, {"email": "hr@u001.example.cn"})
    answer = await committee.post(page, f"{page}/retry", {}, expect=200)
    assert "已重新排队 queued again" in answer.text
    await eventually(lambda: [r for r in mail.recipients if r == ["hr@u001.example.cn"]])
    applicant = await console.sign_in(f.APPLICANT)
    await applicant.get(page, expect=403)


async def test_the_development_mailbox_lists_what_the_sink_received(
    api: Api, console: Console, sink: tuple[MailSink, int]
) -> None:
    mail, _ = sink
    _, d = await returned(api)
    await eventually(lambda: mail.by_subject(f"【结果】申报 {d}"))
    person = await console.sign_in(f.APPLICANT)
    html = (await person.get("/console/dev/mail")).text
    assert f"【结果】申报 {d}" in html and EMAIL in html and "Development only" in html
    services = console.app.state.services
    services.settings = services.settings.model_copy(update={"dev_mailbox": ""})
    await person.get("/console/dev/mail", expect=404)  # only where a development sink runs
