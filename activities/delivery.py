"""Delivering the outbox (docs/rules.md §3 reminders): the ``deliver_outbox`` activity that the
``outbox-delivery`` workflow runs whenever something falls due on Temporal's clock.

One call: dispatch the notifications due at ``request.now`` (one delivery per channel, with its
address), claim up to a batch of deliveries that may be tried, compose each message, send them
(e-mail and webhook at once, a few connections each), and mark each as its answer comes (every
quarter second), then report what falls due next. ``store.delivery`` says what is and is not
guaranteed about sending twice.

Metrics (the worker's SDK metrics endpoint, ``sdk_metrics_bind_address``):
``reviewchain_notifications_sent``, ``…_failed`` (an attempt failed, to be retried),
``…_dead`` (given up) and ``…_no_address`` by channel, and ``reviewchain_notification_lag``, the
seconds between when a notification fell due and when it was sent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

import structlog
from temporalio import activity

from activities.channels import Mail, Outcome, Post, SmtpChannel, SmtpTarget, WebhookChannel
from activities.notices import Composer
from activities.support import MAX_MESSAGE
from domain.models import DeclarationView
from domain.reminders import DeliveryRequest, DeliveryResult
from settings import Settings
from store import delivery
from store.db import Store

__all__ = ["DeliveryActivities"]

log = structlog.get_logger()

#: How often answers are written back while a batch is being sent.
MARK_EVERY = 0.25
HEARTBEAT_EVERY = 5.0


class DeliveryActivities:
    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._policy = delivery.RetryPolicy(
            max_attempts=settings.delivery_max_attempts,
            base=timedelta(seconds=settings.delivery_backoff_seconds),
            cap=timedelta(seconds=settings.delivery_backoff_max_seconds),
        )
        self._composer = Composer(
            sender=settings.smtp_from, console_url=settings.console_url or settings.public_origin
        )
        self._smtp = (
            SmtpChannel(
                SmtpTarget.parse(settings.smtp_url),
                sender=settings.smtp_from,
                timeout=settings.smtp_timeout_seconds,
                connections=settings.delivery_concurrency,
            )
            if settings.smtp_url
            else None
        )
        self._webhook = (
            WebhookChannel(
                settings.webhook_url,
                secret=settings.webhook_secret,
                timeout=settings.webhook_timeout_seconds,
                connections=settings.delivery_concurrency,
            )
            if settings.webhook_url
            else None
        )
        #: Channel → its fixed address ("" for e-mail: addressed per recipient).
        self._channels: dict[str, str] = {}
        if self._smtp is not None:
            self._channels["email"] = ""
        if self._webhook is not None:
            self._channels["webhook"] = settings.webhook_url

    @activity.defn(name="deliver_outbox")
    async def deliver_outbox(self, request: DeliveryRequest) -> DeliveryResult:
        """Deliver what is due at ``request.now``; ``more`` when a full batch was claimed."""
        if not self._channels:
            log.warning("outbox.no_channel")
            return DeliveryResult()
        info = activity.info()
        token = f"{info.workflow_id}/{info.activity_id}/{info.attempt}/{uuid.uuid4().hex[:8]}"
        with structlog.contextvars.bound_contextvars(
            activity=info.activity_type, attempt=info.attempt
        ):
            async with _heartbeating():
                return await _Batch(self, request, token).run()


class _heartbeating:
    """Heartbeat while a batch is sent, so a lost worker is noticed within the heartbeat
    timeout and the activity retried elsewhere."""

    async def __aenter__(self) -> None:
        async def beat() -> None:
            while True:
                activity.heartbeat()
                await asyncio.sleep(HEARTBEAT_EVERY)

        self._task = asyncio.create_task(beat())

    async def __aexit__(self, *exc: object) -> None:
        self._task.cancel()


class _Batch:
    """One call of ``deliver_outbox``."""

    def __init__(self, owner: DeliveryActivities, request: DeliveryRequest, token: str) -> None:
        self.owner = owner
        self.store = owner._store
        self.request = request
        self.token = token
        self.started = time.monotonic()
        self.sent: list[int] = []
        self.failures: list[delivery.Failure] = []
        self.result = DeliveryResult()
        self.claimed: dict[int, delivery.Claimed] = {}
        self.lags: list[tuple[str, float]] = []
        self.phases: dict[str, float] = {}
        self._lap = self.started

    def now(self) -> datetime:
        """Workflow time as this batch goes on: the request's instant plus the time spent."""
        return self.request.now + timedelta(seconds=time.monotonic() - self.started)

    def lap(self, phase: str) -> None:
        """Record how long ``phase`` took (in the batch's log event)."""
        at = time.monotonic()
        self.phases[f"{phase}_s"] = round(at - self._lap, 3)
        self._lap = at

    async def run(self) -> DeliveryResult:
        request, result = self.request, self.result
        self._lap = time.monotonic()
        dispatched = await asyncio.to_thread(self._dispatch)
        result.dispatched, result.no_address = dispatched.notifications, dispatched.no_address
        self.lap("dispatch")
        claimed = await asyncio.to_thread(self._claim)
        self.claimed = {c.id: c for c in claimed}
        result.more = len(claimed) >= request.batch_size or (
            dispatched.notifications >= request.batch_size
        )
        self.lap("claim")
        if claimed:
            await self._send(claimed)
        result.next_due = await asyncio.to_thread(self._next_due)
        self.lap("next_due")
        self._record_metrics()
        log.info(
            "outbox.delivered",
            dispatched=result.dispatched,
            no_address=result.no_address,
            claimed=len(claimed),
            sent=result.sent,
            failed=result.failed,
            dead=result.dead,
            more=result.more,
            next_due=result.next_due.isoformat() if result.next_due else None,
            seconds=round(time.monotonic() - self.started, 3),
            **self.phases,
        )
        return result

    # ---------------------------------------------------------------- store steps (threads)

    def _dispatch(self) -> delivery.Dispatched:
        with self.store.session() as session:
            return delivery.dispatch_due(
                session,
                now=self.request.now,
                channels=self.owner._channels,
                limit=self.request.batch_size,
            )

    def _claim(self) -> list[delivery.Claimed]:
        with self.store.session() as session:
            return delivery.claim(
                session,
                now=self.request.now,
                token=self.token,
                lease=timedelta(seconds=self.request.lease_seconds),
                limit=self.request.batch_size,
            )

    def _contexts(
        self, claimed: list[delivery.Claimed]
    ) -> tuple[dict[str, DeclarationView], delivery.MessageContext]:
        with self.store.session(readonly=True) as session:
            context = delivery.message_context(session, claimed)
        views = {}
        for declaration_id, text in context.views.items():
            try:
                views[declaration_id] = DeclarationView.model_validate_json(text)
            except ValueError:  # a view of an older shape: the message says less, and goes
                log.warning("outbox.view_unreadable", declaration_id=declaration_id)
        return views, context

    def _mark(self, sent: list[int], failures: list[delivery.Failure], at: datetime) -> None:
        with self.store.session() as session:
            delivery.mark_sent(session, sent, token=self.token, at=at)
            counts = delivery.mark_failed(
                session, failures, token=self.token, now=at, policy=self.owner._policy
            )
        self.result.sent += len(sent)
        self.result.failed += counts["retrying"]
        self.result.dead += counts["dead"]

    def _next_due(self) -> datetime | None:
        with self.store.session(readonly=True) as session:
            return delivery.next_due(session)

    # ---------------------------------------------------------------- sending

    async def _send(self, claimed: list[delivery.Claimed]) -> None:
        views, context = await asyncio.to_thread(self._contexts, claimed)
        self.lap("context")
        composer = self.owner._composer
        mails: list[Mail] = []
        posts: list[Post] = []
        for c in claimed:
            view = views.get(c.declaration_id)
            try:
                message = composer.compose(
                    c,
                    view,
                    campaign_name=context.campaign_names.get(c.declaration_id, ""),
                    state=context.states.get(c.key),
                )
                if c.channel == "email":
                    mails.append(Mail(c.id, c.address, composer.email(c, message)))
                else:
                    posts.append(Post(c.id, c.key, composer.webhook_body(c, message, view)))
            except Exception as err:  # a message that cannot be composed is retried later
                log.exception("outbox.compose_failed", key=c.key)
                self._report(Outcome(c.id, False, f"compose: {err}"[:MAX_MESSAGE]))
        self.lap("compose")
        jobs: list[Any] = []
        if mails and self.owner._smtp is not None:
            jobs.append(self.owner._smtp.send(mails, self._report))
        if posts and self.owner._webhook is not None:
            jobs.append(self.owner._webhook.send(posts, self._report))
        done = asyncio.Event()
        marker = asyncio.create_task(self._mark_until(done))
        try:
            await asyncio.gather(*jobs)
        finally:
            done.set()
            await marker
        self.lap("send")

    def _report(self, outcome: Outcome) -> None:
        c = self.claimed[outcome.id]
        if outcome.ok:
            self.sent.append(outcome.id)
            self.lags.append((c.channel, (self.now() - c.send_after).total_seconds()))
        else:
            self.failures.append(
                delivery.Failure(outcome.id, c.attempts, outcome.error, outcome.permanent)
            )
            log.warning(
                "outbox.attempt_failed",
                key=c.key,
                channel=c.channel,
                attempts=c.attempts,
                permanent=outcome.permanent,
                error=outcome.error[:300],
            )

    async def _flush(self) -> None:
        sent, failures = self.sent, self.failures
        if not sent and not failures:
            return
        self.sent, self.failures = [], []
        await asyncio.to_thread(self._mark, sent, failures, self.now())

    async def _mark_until(self, done: asyncio.Event) -> None:
        """Write the answers back every :data:`MARK_EVERY` seconds, and the last ones once the
        batch is done (never cancelled half-way: a mark runs to its end)."""
        while not done.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), MARK_EVERY)
            await self._flush()
        await self._flush()  # answers that came while the last mark was being written

    # ---------------------------------------------------------------- metrics

    def _record_metrics(self) -> None:
        try:
            meter = activity.metric_meter()
        except RuntimeError:  # outside a worker (tests call the activity directly)
            return
        result = self.result
        for name, value in (
            ("sent", result.sent),
            ("failed", result.failed),
            ("dead", result.dead),
            ("no_address", result.no_address),
        ):
            if value:
                meter.create_counter(
                    f"reviewchain_notifications_{name}", f"Notification deliveries {name}"
                ).add(value)
        lag = meter.create_histogram_float(
            "reviewchain_notification_lag",
            "Seconds from when a notification fell due to when it was sent",
            "s",
        )
        for channel, seconds in self.lags:
            lag.record(max(0.0, seconds), {"channel": channel})
