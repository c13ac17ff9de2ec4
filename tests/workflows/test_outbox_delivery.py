"""Reminders reach people (docs/rules.md §3: 24 hours before each deadline, a notification goes
to whoever must act): a declaration driven on Temporal (time-skipping) to a deadline, with the
worker that ``build_worker`` returns, delivers its reminder to a real local SMTP server and to a
real local webhook at the instant workflow time reaches it, and not a minute before; a 延期
cancels the reminder of the old instant and sends the new one."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities.channels import SIGNATURE_HEADER, signature
from domain.models import CampaignDeadlines, DeadlineChangeCommand
from gateway.outbox import outbox_progress, outbox_workflow_id
from settings import Settings
from store.db import Store
from store.delivery import record_applicant_email
from testing import factories as f
from testing.declarations import Declaration, after, create, now, skip_to
from testing.eventually import eventually
from tests.helpers_servers import WebhookServer, webhook_server
from tests.workflows.helpers import HISTORIES, without_stack_traces
from tools.mailsink import MailSink
from workflows.outbox import OutboxDeliveryWorkflow

EMAIL = "zhang.san@example.cn"
SECRET = "s3cret-for-tests"


@pytest.fixture
async def hook() -> AsyncIterator[WebhookServer]:
    async with webhook_server() as server:
        yield server


def _settings(tmp_path: Path, **channels: Any) -> Settings:
    return Settings(
        database_url=f"sqlite:///{(tmp_path / 'store.sqlite3').as_posix()}",
        task_queue=f"review-chain-test-{uuid.uuid4().hex[:8]}",
        log_format="console",
        log_level="WARNING",
        console_url="https://pingshen.example.cn",
        **channels,
    )


async def sender_wakes_at(client: Client, task_queue: str, at: datetime) -> None:
    """Wait until the sender's next wake is ``at`` (it knows of the reminder and has sent what
    was due before), so that skipping time cannot pass the reminder before it knows of it."""
    await eventually(
        lambda: outbox_progress(client, task_queue),
        lambda progress: progress.wake_at == at,
        what="the sender to plan its wake for the reminder",
        retry_on=(Exception,),  # not started yet
    )


async def returned_declaration(
    env: WorkflowEnvironment, client: Client, task_queue: str
) -> tuple[Declaration, datetime]:
    """A declaration returned by its unit, with the instant its reminder falls due."""
    start = await now(env)
    c = f.campaign(start)
    d = await create(
        client,
        task_queue,
        start,
        campaign=c,
        decl=f.declaration(c, applicant=f.applicant(email=EMAIL)),
    )
    await d.submit()
    view = await d.decide(
        f.UNIT, "unit_review", "return", opinion="扫描件不清晰", reasons=["unclear_scan"]
    )
    assert view.state == "returned" and view.deadlines.correction is not None
    return d, after(view.deadlines.correction, hours=-24)


async def test_the_reminder_reaches_a_real_smtp_server_when_workflow_time_reaches_it(
    time_skipping: WorkflowEnvironment, sink: tuple[MailSink, int], tmp_path: Path
) -> None:
    """§3 reminders (001 四(一)1 退回后2日内补正): 24 hours before the correction window closes,
    the applicant is reminded by e-mail at the address they filed; the subject names the
    declaration and the deadline's kind, the body explains the deadline."""
    env, (mail, port) = time_skipping, sink
    settings = _settings(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
    async with build(env, settings) as worker:
        d, reminder_at = await returned_declaration(env, env.client, worker.task_queue)
        outcome = await eventually(lambda: mail.by_subject(f"【结果】申报 {d.id}"))
        assert outcome[0]["To"] == EMAIL  # the return itself is told at once
        await sender_wakes_at(env.client, worker.task_queue, reminder_at)
        await skip_to(env, reminder_at - timedelta(minutes=1))
        await asyncio.sleep(0.5)
        assert not mail.by_subject("【提醒】")
        await skip_to(env, reminder_at + timedelta(minutes=1))
        reminders = await eventually(lambda: mail.by_subject("【提醒】"))
        await record_sender_history(env.client, worker.task_queue, "reminder_sent")
    [reminder] = reminders
    subject = str(reminder["Subject"])
    assert d.id in subject and "补正期限" in subject and "(correction)" in subject
    assert reminder["To"] == EMAIL
    assert reminder["Date"].datetime == reminder_at.replace(microsecond=0)
    body = reminder.get_body().get_content()
    assert body.index("补正期限") < body.index("correction window")  # Chinese first
    assert "民法典" in body  # the deadline's own explanation
    assert f"https://pingshen.example.cn/console/declarations/{d.id}" in body
    ids = [str(m["Message-ID"]) for m in mail.messages]
    assert len(ids) == len(set(ids)), "a notification was sent twice"
    # Told once of the return, although the chain wrote the notices again when the correction
    # window was computed (the same stay in ``returned``).
    assert len(mail.by_subject(f"【结果】申报 {d.id}")) == 1
    assert len(mail.by_subject(f"【待办】申报 {d.id}")) == 1


async def test_a_return_is_mailed_at_once_on_either_server(
    env: WorkflowEnvironment, sink: tuple[MailSink, int], tmp_path: Path
) -> None:
    """§2 returns and §3: the applicant hears of the return and of what to do at once, on the
    time-skipping server and on a dev server with a real clock alike."""
    mail, port = sink
    settings = _settings(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
    async with build(env, settings) as worker:
        d, _ = await returned_declaration(env, env.client, worker.task_queue)
        [outcome] = await eventually(lambda: mail.by_subject(f"【结果】申报 {d.id}"))
        [action] = await eventually(lambda: mail.by_subject(f"【待办】申报 {d.id}"))
    assert outcome["To"] == action["To"] == EMAIL
    assert "退回修改" in str(outcome["Subject"]) and "returned" in str(outcome["Subject"])


async def test_the_reminder_reaches_a_real_webhook_signed(
    time_skipping: WorkflowEnvironment, hook: WebhookServer, tmp_path: Path
) -> None:
    """§3 reminders by webhook (政务 gateways, WeCom/DingTalk bots): JSON, HMAC-SHA256 of the
    body in X-ReviewChain-Signature, at the reminder's instant."""
    env = time_skipping
    settings = _settings(tmp_path, webhook_url=hook.url, webhook_secret=SECRET)
    async with build(env, settings) as worker:
        d, reminder_at = await returned_declaration(env, env.client, worker.task_queue)
        await sender_wakes_at(env.client, worker.task_queue, reminder_at)
        await skip_to(env, reminder_at - timedelta(minutes=1))
        await asyncio.sleep(0.5)
        assert not hook.of_kind("deadline_reminder")
        await skip_to(env, reminder_at + timedelta(minutes=1))
        [(headers, body)] = await eventually(lambda: hook.of_kind("deadline_reminder"))
    assert headers[SIGNATURE_HEADER.lower()] == signature(SECRET, body)
    payload = json.loads(body)
    notification = payload["notification"]
    assert notification["declaration_id"] == d.id
    assert notification["recipient"]["role"] == "applicant"
    assert notification["deadline"]["kind"] == "correction"
    assert datetime.fromisoformat(notification["deadline"]["at"]) == reminder_at + timedelta(
        hours=24
    )
    assert payload["msgtype"] == "text" and d.id in payload["text"]["content"]


async def test_a_deadline_change_cancels_the_old_reminder_and_sends_the_new_one(
    time_skipping: WorkflowEnvironment, sink: tuple[MailSink, int], tmp_path: Path
) -> None:
    """§3 延期: the declaration deadline moved later re-arms the reminder; the reminder of the
    old instant never goes out, the one of the new instant does (004 申报时间; a draft)."""
    env, (mail, port) = time_skipping, sink
    settings = _settings(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
    async with build(env, settings) as worker:
        start = await now(env)
        closes = start + timedelta(days=3)
        c = f.campaign(start, declaration_closes_at=closes)
        d = await create(
            env.client,
            worker.task_queue,
            start,
            campaign=c,
            decl=f.declaration(c, applicant=f.applicant(email=EMAIL)),
        )
        # A draft is registered by POST /declarations, with the applicant's address (this test
        # starts the workflow itself; submitting would register it in screening).
        await asyncio.to_thread(keep_address, settings, d.id)
        await sender_wakes_at(env.client, worker.task_queue, closes - timedelta(hours=24))
        later = closes + timedelta(days=5)
        await d.send(
            "change_deadlines",
            DeadlineChangeCommand(
                actor=f.ADMIN,
                deadlines=CampaignDeadlines(declaration_closes_at=later),
                changed_at=start,
            ),
        )
        await skip_to(env, closes - timedelta(hours=23))
        await asyncio.sleep(0.5)
        assert not mail.by_subject("【提醒】"), "the reminder of the old deadline went out"
        await sender_wakes_at(env.client, worker.task_queue, later - timedelta(hours=24))
        await skip_to(env, later - timedelta(hours=23))
        [reminder] = await eventually(lambda: mail.by_subject("【提醒】"))
    assert d.id in str(reminder["Subject"]) and "申报截止" in str(reminder["Subject"])
    assert reminder["Date"].datetime == (later - timedelta(hours=24)).replace(microsecond=0)


OUTBOX_HISTORIES = HISTORIES / "outbox"


async def record_sender_history(client: Client, task_queue: str, name: str) -> None:
    """With REVIEWCHAIN_RECORD_HISTORIES=1, store the sender's history for the replay test."""
    if os.environ.get("REVIEWCHAIN_RECORD_HISTORIES") != "1":
        return
    history = await client.get_workflow_handle(outbox_workflow_id(task_queue)).fetch_history()
    OUTBOX_HISTORIES.mkdir(parents=True, exist_ok=True)
    text = without_stack_traces(history.to_json())
    await asyncio.to_thread((OUTBOX_HISTORIES / f"{name}.json").write_text, text)


def _sender_histories() -> list[Path]:
    return sorted(OUTBOX_HISTORIES.glob("*.json"))


@pytest.mark.parametrize("path", _sender_histories(), ids=lambda p: p.stem)
async def test_stored_sender_histories_replay_with_the_current_code(path: Path) -> None:
    """Determinism: the sender's stored runs (a reminder on its timer; retries at their
    backoff, a dead letter and a wake to send again) replay without a non-determinism error.
    Refresh them with REVIEWCHAIN_RECORD_HISTORIES=1 after a deliberate, patched change."""
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    await Replayer(
        workflows=[OutboxDeliveryWorkflow], data_converter=pydantic_data_converter
    ).replay_workflow(history)


def test_there_are_stored_sender_histories_to_replay() -> None:
    assert len(_sender_histories()) >= 2, "no stored histories of the sender"


def keep_address(settings: Settings, declaration_id: str) -> None:
    store = Store(settings.database_url)
    try:
        with store.session() as session:
            record_applicant_email(session, declaration_id, EMAIL)
    finally:
        store.dispose()


class build:
    """The production worker (``build_worker``) with these settings, for one block."""

    def __init__(self, env: WorkflowEnvironment, settings: Settings) -> None:
        from worker import build_worker

        self.worker: Worker = build_worker(env.client, settings)

    async def __aenter__(self) -> Worker:
        await self.worker.__aenter__()
        return self.worker

    async def __aexit__(self, *exc: Any) -> None:
        await self.worker.__aexit__(*exc)
