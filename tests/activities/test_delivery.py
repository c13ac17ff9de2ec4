"""deliver_outbox against a real local SMTP server, on SQLite and PostgreSQL: addresses are the
ones filed or registered, never guessed (a notification with none is marked so); two senders at
once, or a sender run again, never send a notification twice; a sender that died between
sending and marking is the one case that sends again, after its claim's lease, with the same
Message-ID. docs/rules.md §3 reminders."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from temporalio.testing import ActivityEnvironment

from activities.delivery import DeliveryActivities
from activities.notices import message_id
from domain.models import Notification
from domain.reminders import DeliveryRequest, DeliveryResult
from settings import Settings
from store import delivery
from store.db import Store
from store.outbox import enqueue
from testing.builders import MONDAY, declaration_id
from tools.mailsink import MailSink, serve

SENDER = "职称评审系统 <noreply@pingshen.example.cn>"


def sender(store: Store, port: int, **settings: Any) -> DeliveryActivities:
    return DeliveryActivities(
        store,
        Settings(smtp_url=f"smtp://127.0.0.1:{port}", smtp_from=SENDER, **settings),
    )


def reminder(d: str, *, role: str = "applicant", org: str = "", seq: int = 5) -> Notification:
    return Notification(
        key=f"{d}:{seq}:reminder:x",
        declaration_id=d,
        recipient_role=role,
        recipient_org=org,
        kind="deadline_reminder",
        text=f"提醒：申报 {d} 将于明日截止",
        send_after=MONDAY,
        supersedes=f"{d}:reminder",
    )


def due_rows(store: Store, n: int, *, with_address: bool = True) -> list[str]:
    ids = [declaration_id() for _ in range(n)]
    with store.session() as session:
        for d in ids:
            if with_address:
                delivery.record_applicant_email(session, d, f"{d.lower()}@example.cn")
        enqueue(session, [reminder(d) for d in ids])
    return ids


async def run(acts: DeliveryActivities, **request: Any) -> DeliveryResult:
    request.setdefault("now", MONDAY + timedelta(minutes=1))
    result: DeliveryResult = await ActivityEnvironment().run(
        acts.deliver_outbox, DeliveryRequest(**request)
    )
    return result


def statuses(store: Store) -> dict[str, str]:
    with store.session(readonly=True) as session:
        rows = session.execute(
            sa.select(delivery.DeliveryRow.notification_key, delivery.DeliveryRow.status)  # type: ignore[call-overload]
        ).all()
    return dict(rows)


async def test_a_due_reminder_goes_to_the_address_the_applicant_filed(
    store: Store, sink: tuple[MailSink, int]
) -> None:
    mail, port = sink
    [d] = due_rows(store, 1)
    result = await run(sender(store, port))
    assert (result.dispatched, result.sent, result.failed, result.dead) == (1, 1, 0, 0)
    [message] = mail.messages
    assert mail.recipients == [[f"{d.lower()}@example.cn"]]
    assert str(message["Message-ID"]) == message_id(f"{d}:5:reminder:x", "email", SENDER)
    assert statuses(store) == {f"{d}:5:reminder:x": "sent"}


async def test_nothing_is_sent_before_it_falls_due_on_the_clock_it_is_given(
    store: Store, sink: tuple[MailSink, int]
) -> None:
    mail, port = sink
    due_rows(store, 1)
    result = await run(sender(store, port), now=MONDAY - timedelta(seconds=1))
    assert (result.dispatched, result.sent, mail.count) == (0, 0, 0)
    assert result.next_due == MONDAY


async def test_a_notification_without_an_address_is_marked_so_never_guessed(
    store: Store, sink: tuple[MailSink, int]
) -> None:
    """The applicant gave no e-mail; unit U-009 has none registered; the committee's desk has
    one (a notification naming only the role is sent to the role's address)."""
    mail, port = sink
    applicant, unit, committee = declaration_id(), declaration_id(), declaration_id()
    with store.session() as session:
        delivery.set_org_email(session, "committee", "office@pingshen.example.cn", at=MONDAY)
        enqueue(
            session,
            [
                reminder(applicant),
                reminder(unit, role="unit_reviewer", org="U-009"),
                reminder(committee, role="committee"),
            ],
        )
    result = await run(sender(store, port))
    assert (result.dispatched, result.no_address, result.sent) == (3, 2, 1)
    assert mail.recipients == [["office@pingshen.example.cn"]]
    with store.session(readonly=True) as session:
        rows = {
            r.declaration_id: r
            for r in session.exec(sa.select(delivery.DeliveryRow)).scalars()  # type: ignore[call-overload]
        }
    assert rows[applicant].status == rows[unit].status == "no_address"
    assert "未填写申报人邮箱" in rows[applicant].last_error
    assert "U-009" in rows[unit].last_error


async def test_two_senders_at_once_send_each_notification_exactly_once(
    store: Store, sink: tuple[MailSink, int]
) -> None:
    """Two senders (a retried activity beside its first attempt, or two task queues on one
    store) claim disjoint deliveries: 60 due, batches of 7, both draining until nothing is due."""
    mail, port = sink
    due_rows(store, 60)
    one, two = sender(store, port), sender(store, port)

    async def drain(acts: DeliveryActivities) -> int:
        sent = 0
        while True:
            result = await run(acts, batch_size=7)
            sent += result.sent
            if not result.more and not result.sent:
                return sent

    counts = await asyncio.gather(drain(one), drain(two))
    assert sum(counts) == 60 and mail.count == 60
    keys = [str(m["X-ReviewChain-Key"]) for m in mail.messages]
    assert len(set(keys)) == 60
    assert set(statuses(store).values()) == {"sent"}


async def test_a_sender_run_again_sends_nothing_twice(
    store: Store, sink: tuple[MailSink, int]
) -> None:
    """A restarted worker, or the workflow's next batch, finds nothing left to send."""
    mail, port = sink
    due_rows(store, 5)
    assert (await run(sender(store, port))).sent == 5
    again = await run(sender(store, port), now=MONDAY + timedelta(days=2))
    assert (again.dispatched, again.sent) == (0, 0) and mail.count == 5


async def test_a_sender_that_died_before_marking_is_replaced_after_its_lease_only(
    store: Store, sink: tuple[MailSink, int]
) -> None:
    """The stated limit of the guarantee: a claim never marked (its sender died, perhaps after
    the server accepted the message) holds the delivery until the lease ends; then the delivery
    is sent again, with the same Message-ID, and counts the attempt."""
    mail, port = sink
    [d] = due_rows(store, 1)
    now = MONDAY + timedelta(minutes=1)
    lease = timedelta(minutes=15)
    with store.session() as session:
        delivery.dispatch_due(session, now=now, channels={"email": ""}, limit=10)
        [held] = delivery.claim(session, now=now, token="died", lease=lease, limit=10)
    acts = sender(store, port)
    early = await run(acts, now=now + lease - timedelta(seconds=1))
    assert (early.sent, mail.count) == (0, 0)
    assert early.next_due == now + lease
    late = await run(acts, now=now + lease)
    assert late.sent == 1
    [message] = mail.messages
    assert str(message["Message-ID"]) == message_id(held.key, "email", SENDER)
    with store.session(readonly=True) as session:
        row = session.get(delivery.DeliveryRow, held.id)
        assert row is not None and (row.status, row.attempts) == ("sent", 2)
        # The dead sender's late mark changes nothing: the claim is no longer its own.
        assert delivery.mark_sent(session, [held.id], token="died", at=now) == 0
    assert d in str(message["Subject"])


async def test_a_full_batch_says_there_is_more(store: Store, sink: tuple[MailSink, int]) -> None:
    _, port = sink
    due_rows(store, 5)
    first = await run(sender(store, port), batch_size=3)
    assert first.more and first.sent == 3
    second = await run(sender(store, port), batch_size=3)
    assert second.sent == 2 and not second.more


def test_message_ids_are_stable_and_distinct_per_channel() -> None:
    key = f"D-{uuid.uuid4().hex[:10]}:5:reminder:x"
    assert message_id(key, "email", SENDER) == message_id(key, "email", SENDER)
    assert message_id(key, "email", SENDER) != message_id(key, "webhook", SENDER)
    assert message_id(key, "email", SENDER).endswith("@pingshen.example.cn>")
    assert key not in message_id(key, "email", SENDER)


class SlowSink(MailSink):
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


async def test_every_answer_is_marked_even_while_a_mark_is_being_written(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers keep coming while a mark is written (slowly, here) and the last ones arrive just
    then: the batch still ends with every delivery it claimed marked, none left 'sending' until
    its lease ends."""
    due_rows(store, 40)
    slow = delivery.mark_sent

    def marking_slowly(*args: Any, **kwargs: Any) -> int:
        time.sleep(0.2)
        return slow(*args, **kwargs)

    monkeypatch.setattr(delivery, "mark_sent", marking_slowly)
    async with serve(SlowSink()) as (mail, port):
        result = await run(sender(store, port, delivery_concurrency=1))
    assert result.sent == 40 == mail.count
    assert set(statuses(store).values()) == {"sent"}
