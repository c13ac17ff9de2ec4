"""The sender against servers that misbehave on purpose, on Temporal's clock (time-skipping): an
SMTP server that refuses, one that is down, one that refuses the address, a webhook that answers
500 and one that hangs. Each delivery is retried at its backoff instants, then dead-lettered and
shown as such; nothing is lost (sent once the committee asks again and the server is back) and
nothing is sent twice. docs/rules.md §3 reminders."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope, Session
from temporalio.testing import WorkflowEnvironment

from domain.models import Notification
from gateway.outbox import outbox_progress, wake_outbox
from settings import Settings
from store.db import Store
from store.delivery import record_applicant_email, requeue
from store.outbox import enqueue
from testing.eventually import eventually
from tests.helpers_servers import webhook_server
from tests.workflows.test_outbox_delivery import build, record_sender_history
from tools.mailsink import MailSink, free_port, serve

pytestmark = pytest.mark.usefixtures("time_skipping")

CAMPAIGN = "aks-faults"
ATTEMPTS = 3
BACKOFF = 60.0


def _settings(tmp_path: Path, **channels: Any) -> Settings:
    return Settings(
        database_url=f"sqlite:///{(tmp_path / 'store.sqlite3').as_posix()}",
        task_queue=f"review-chain-test-{uuid.uuid4().hex[:8]}",
        log_format="console",
        log_level="ERROR",
        delivery_max_attempts=ATTEMPTS,
        delivery_backoff_seconds=BACKOFF,
        **channels,
    )


def outbox_rows(settings: Settings, at: datetime, n: int = 1) -> list[str]:
    """``n`` reminders due at ``at``, each of a registered declaration with an applicant
    address, written as the audit step writes them."""
    store = Store(settings.database_url)
    store.migrate()
    keys = []
    with store.session() as session:
        for _ in range(n):
            d = f"D-{uuid.uuid4().hex[:10]}"
            session.execute(
                sa.text(
                    "INSERT INTO declaration_registry (declaration_id, campaign_id, year, series,"
                    " level, route, id_number, unit_id, live, state, created_at) VALUES (:d, :c,"
                    " 2026, 'engineering', 'junior', 'directed', :d, 'U-001', 1, 'returned', :at)"
                ),
                {"d": d, "c": CAMPAIGN, "at": at.replace(tzinfo=None)},
            )
            record_applicant_email(session, d, f"{d.lower()}@example.cn")
            key = f"{d}:5:reminder:x"
            enqueue(
                session,
                [
                    Notification(
                        key=key,
                        declaration_id=d,
                        recipient_role="applicant",
                        recipient_id="applicant-1",
                        kind="deadline_reminder",
                        text=f"提醒：申报 {d} 的退回修改将于明日截止",
                        send_after=at,
                        supersedes=f"{d}:reminder",
                    )
                ],
            )
            keys.append(key)
    store.dispose()
    return keys


def deliveries(settings: Settings) -> list[dict[str, Any]]:
    store = Store(settings.database_url)
    with store.session(readonly=True) as session:
        rows = (
            session.execute(
                sa.text(
                    "SELECT notification_key, channel, status, attempts, last_error, "
                    "next_attempt_at FROM notification_delivery ORDER BY id"
                )
            )
            .mappings()
            .all()
        )
    store.dispose()
    return [dict(r) for r in rows]


def send_again(settings: Settings, at: datetime) -> dict[str, int]:
    store = Store(settings.database_url)
    with store.session() as session:
        counts = requeue(session, campaign_id=CAMPAIGN, now=at, statuses=["dead", "no_address"])
    store.dispose()
    return counts


async def next_wake(env: WorkflowEnvironment, task_queue: str) -> timedelta:
    """How long after its first batch the sender plans to wake, once it has planned it."""
    progress = await eventually(
        lambda: outbox_progress(env.client, task_queue),
        lambda p: p.wake_at is not None and p.last_batch_at and p.totals.batches,
        what="the sender to plan a wake",
    )
    return progress.wake_at - progress.last_batch_at


async def until_all(settings: Settings, status: str, env: WorkflowEnvironment) -> list[dict]:
    """Skip Temporal's clock a backoff at a time until every delivery has ``status``."""

    def done() -> list[dict[str, Any]] | None:
        rows = deliveries(settings)
        return rows if rows and all(r["status"] == status for r in rows) else None

    await eventually(lambda: deliveries(settings))  # the sender has run its first batch
    for _ in range(4 * ATTEMPTS):
        found = done()
        if found:
            return found
        await env.sleep(BACKOFF * 2**ATTEMPTS)
        await asyncio.sleep(0.3)  # the batch the timer started
    result: list[dict[str, Any]] = await eventually(done)
    return result


async def test_a_refusing_smtp_server_is_retried_then_dead_lettered_then_sent_once(
    time_skipping: WorkflowEnvironment, tmp_path: Path
) -> None:
    """451 (try later) on every message: tried at its backoff instants, dead after the last
    attempt with the server's answer; sent once when asked again and the server accepts."""
    env = time_skipping
    async with serve(MailSink(refuse="451 4.3.0 Try again later")) as (sink, port):
        settings = _settings(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
        start = await env.get_current_time()
        [key] = outbox_rows(settings, start)
        async with build(env, settings) as worker:
            await eventually(lambda: sink.refused == 1)
            # The next attempt waits BACKOFF on Temporal's clock (then 2×BACKOFF, …).
            waits = await next_wake(env, worker.task_queue)
            assert BACKOFF <= waits.total_seconds() < BACKOFF + 1
            [dead] = await until_all(settings, "dead", env)
            assert dead["attempts"] == ATTEMPTS and "451" in dead["last_error"]
            assert sink.refused == ATTEMPTS and sink.count == 0
            sink.refuse = None  # the server is fixed
            assert send_again(settings, await env.get_current_time()) == {
                "queued": 1,
                "no_address": 0,
            }
            await wake_outbox(env.client, settings, await env.get_current_time())
            await until_all(settings, "sent", env)
            await asyncio.sleep(0.5)
            await record_sender_history(env.client, worker.task_queue, "refused_dead_resent")
    assert sink.count == 1 and str(sink.messages[0]["X-ReviewChain-Key"]) == key


async def test_an_smtp_server_that_is_down_is_retried_then_dead_lettered_then_sent_once(
    time_skipping: WorkflowEnvironment, tmp_path: Path
) -> None:
    """Nothing listens: each attempt fails to connect (one connection attempt per batch, the
    rest of the batch is not tried against a server that is down); dead after the last
    attempt; each sent once when the server is up and the committee asks again."""
    env = time_skipping
    port = free_port()
    settings = _settings(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
    start = await env.get_current_time()
    outbox_rows(settings, start, n=3)
    async with build(env, settings):
        dead = await until_all(settings, "dead", env)
        assert [r["attempts"] for r in dead] == [ATTEMPTS] * 3
        assert all("onnect" in r["last_error"] for r in dead), dead
        async with serve(MailSink(), port=port) as (sink, _):
            send_again(settings, await env.get_current_time())
            await wake_outbox(env.client, settings, await env.get_current_time())
            await until_all(settings, "sent", env)
            await asyncio.sleep(0.5)
            assert sink.count == 3
            assert len({str(m["Message-ID"]) for m in sink.messages}) == 3


class RefusesRecipients(MailSink):
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return "550 5.1.1 No such user here"


async def test_a_refused_address_is_dead_at_once(
    time_skipping: WorkflowEnvironment, tmp_path: Path
) -> None:
    """550 to RCPT: the address itself is refused; no retry can help, so it is dead after one
    attempt, with the server's answer for the committee."""
    env = time_skipping
    async with serve(RefusesRecipients()) as (sink, port):
        settings = _settings(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
        outbox_rows(settings, await env.get_current_time())
        async with build(env, settings):
            [dead] = await until_all(settings, "dead", env)
    assert dead["attempts"] == 1 and "550" in dead["last_error"] and sink.count == 0


async def test_a_webhook_answering_500_is_retried_and_sent_once_when_it_recovers(
    time_skipping: WorkflowEnvironment, tmp_path: Path
) -> None:
    """500 twice, then 200: the third attempt delivers; exactly one request was accepted."""
    env = time_skipping
    async with webhook_server(fail_first=ATTEMPTS - 1) as hook:
        settings = _settings(tmp_path, webhook_url=hook.url, webhook_secret="k")
        outbox_rows(settings, await env.get_current_time())
        async with build(env, settings):
            [sent] = await until_all(settings, "sent", env)
    assert sent["attempts"] == ATTEMPTS
    assert len(hook.requests) == ATTEMPTS and hook.answered_ok() == 1
    assert len({body for _, body in hook.requests}) == 1, "every attempt carries the same bytes"


async def test_a_webhook_answering_500_for_good_is_dead_lettered(
    time_skipping: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping
    async with webhook_server(status=500) as hook:
        settings = _settings(tmp_path, webhook_url=hook.url, webhook_secret="k")
        outbox_rows(settings, await env.get_current_time())
        async with build(env, settings):
            [dead] = await until_all(settings, "dead", env)
    assert dead["attempts"] == ATTEMPTS and "HTTP 500" in dead["last_error"]
    assert len(hook.requests) == ATTEMPTS


async def test_a_webhook_that_hangs_times_out_and_is_dead_lettered(
    time_skipping: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The server reads the request and never answers: each attempt ends at the webhook
    timeout, is retried, and the delivery is dead after the last (never stuck in sending)."""
    env = time_skipping
    async with webhook_server(hang=True) as hook:
        settings = _settings(
            tmp_path, webhook_url=hook.url, webhook_secret="k", webhook_timeout_seconds=0.3
        )
        outbox_rows(settings, await env.get_current_time(), n=2)
        async with build(env, settings):
            dead = await until_all(settings, "dead", env)
    assert [r["attempts"] for r in dead] == [ATTEMPTS, ATTEMPTS]
    assert all("Timeout" in r["last_error"] for r in dead), dead
