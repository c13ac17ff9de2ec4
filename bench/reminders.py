"""Benchmark: 20,000 reminders due at once, delivered by the production worker to a local SMTP
sink, next to the sink's own bare accept rate measured in the same run. Not a test.

Everything on this machine, on loopback, in separate processes (``bench/stack.py``): a Temporal
dev server, the production worker (``python worker.py``, configured only through
``REVIEWCHAIN_*``, with ``REVIEWCHAIN_SMTP_URL`` naming the sink), a fresh store (a new
PostgreSQL database with ``--database-url``, else a SQLite file) and the sink
(``python -m tools.mailsink``, counting only: it keeps nothing).

1. **The sink's bare accept rate**: this process sends ``--n`` messages the size of a reminder
   straight to the sink over ``--connections`` aiosmtplib connections (no store, no Temporal):
   what the sink accepts per second with nothing else in the way.
2. **The sender**: one campaign with ``--n`` open declarations whose declaration deadline is 24
   hours away. Their rows are written **directly into the store** (not by running 20,000
   workflows: the registry, the applicant's address, the read model's view, the audit event of
   the step and the outbox row the audit step writes, a ``deadline_reminder`` due now), then
   the worker's sender is woken exactly as the audit step wakes it. Timed from the wake until
   the sink has accepted the last reminder; the worker's CPU (the whole process: the
   ``outbox-delivery`` workflow, the ``deliver_outbox`` activity and its store work), the
   dev server's, PostgreSQL's and the sink's are measured over the same interval. Then every
   delivery is checked ``sent`` once and the sink's count equal to ``--n`` (nothing twice).

    python bench/reminders.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/reminders.py --n 2000          # quick, SQLite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib
import sqlalchemy as sa

from activities.notices import Composer
from bench.stack import CpuMeter, Pids, Stack, StackOptions, cpu_seconds, free_port, postgres_pids
from domain.chain.state import REMINDER_LEAD
from domain.models import Notification
from gateway.outbox import wake_outbox
from store.db import Store
from store.delivery import Claimed
from store.outbox import enqueue
from testing import factories as f
from testing.builders import view

CAMPAIGN = "aks-reminders-bench"
SENDER = "职称评审系统 Review Chain <noreply@reviewchain.localhost>"


class Sink:
    """The sink as a child process, read through its status file."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.status = workdir / "sink.status"
        self.popen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.mailsink",
                "--port",
                str(self.port),
                "--status-file",
                str(self.status),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def accepted(self) -> int:
        try:
            return int(self.status.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    async def reach(self, count: int, within: float) -> float:
        """Wait until the sink has accepted ``count``; the instant it did (monotonic)."""
        until = time.monotonic() + within
        while time.monotonic() < until:
            if await asyncio.to_thread(self.accepted) >= count:
                return time.monotonic()
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the sink accepted {self.accepted()} of {count} in {within:.0f} s")

    def stop(self) -> None:
        self.popen.terminate()
        self.popen.wait(timeout=10)


def sample_message() -> bytes:
    """A real reminder, as the sender composes it, for the bare blast."""
    v = view("D-0000000000", version=3, state="draft")
    claimed = Claimed(
        id=0,
        key="D-0000000000:3:reminder:x",
        channel="email",
        address="a@demo.example",
        attempts=1,
        declaration_id="D-0000000000",
        campaign_id=CAMPAIGN,
        recipient_role="applicant",
        recipient_org="",
        recipient_id="applicant-1",
        kind="deadline_reminder",
        text="提醒",
        send_after=datetime.now(UTC),
    )
    composer = Composer(sender=SENDER, console_url="http://127.0.0.1:8000")
    message = composer.compose(claimed, v, campaign_name="阿克苏地区 (bench)", state="draft")
    return bytes(composer.email(claimed, message))


async def blast(port: int, n: int, connections: int, message: bytes) -> float:
    """Send ``n`` copies of ``message`` to the sink; the seconds it took."""
    queue = list(range(n))

    async def one_connection() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="bench.localhost")
        await smtp.connect()
        try:
            while queue:
                queue.pop()
                await smtp.sendmail("noreply@reviewchain.localhost", ["a@demo.example"], message)
        finally:
            smtp.close()

    began = time.monotonic()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return time.monotonic() - began


def write_rows(url: str, n: int, due: datetime) -> None:
    """``n`` open declarations of one campaign, whose deadline is 24 hours after ``due``, each
    with its reminder in the outbox, written as the service writes them."""
    store = Store(url)
    sqlite = store.dialect == "sqlite"

    def stamp(at: datetime) -> datetime:  # raw SQL: naive UTC text on SQLite, as the store does
        return at.replace(tzinfo=None) if sqlite else at

    deadline = due + REMINDER_LEAD
    c = f.campaign(due - timedelta(days=30), declaration_closes_at=deadline, id=CAMPAIGN)
    template = view("D-template", version=3, state="draft")
    template.deadlines.declaration = deadline
    template.deadline_explanations = {"declaration": "申报截止 (bench)"}
    assert template.pending is not None
    template.pending.due_at = deadline
    ids = [f"D-{i:010d}" for i in range(n)]
    with store.session() as session:
        session.execute(
            sa.text(
                "INSERT INTO campaign (id, year, series, body, created_at, updated_at) "
                "VALUES (:id, :year, :series, :body, :at, :at)"
            ),
            {
                "id": CAMPAIGN,
                "year": c.year,
                "series": c.series,
                "body": json.dumps(c.model_dump(mode="json"), ensure_ascii=False),
                "at": stamp(due),
            },
        )
        chunk = 2000
        for start in range(0, n, chunk):
            part = ids[start : start + chunk]
            session.execute(
                sa.text(
                    "INSERT INTO declaration_registry (declaration_id, campaign_id, year, "
                    "series, level, route, id_number, unit_id, live, state, created_at) "
                    "VALUES (:d, :c, :y, 'engineering', 'intermediate', 'directed', :d, "
                    "'U-001', :live, 'draft', :at)"
                ),
                [
                    {"d": d, "c": CAMPAIGN, "y": c.year, "live": True, "at": stamp(due)}
                    for d in part
                ],
            )
            session.execute(
                sa.text("INSERT INTO declaration_contact (declaration_id, email) VALUES (:d, :e)"),
                [{"d": d, "e": f"{d.lower()}@demo.example"} for d in part],
            )
            session.execute(
                sa.text(
                    "INSERT INTO declaration_read (declaration_id, campaign_id, state, "
                    "pending_role, pending_org, pending_action, due_at, unit_id, "
                    "authority_chain, orgs, level, series, route, id_number, at_risk, "
                    "version, updated_at, view_json, held) VALUES (:d, :c, 'draft', "
                    "'applicant', '', 'submit', :due, 'U-001', '[]', '|U-001|', "
                    "'intermediate', 'engineering', 'directed', :d, :f, 3, :at, :v, '{}')"
                ),
                [
                    {
                        "d": d,
                        "c": CAMPAIGN,
                        "due": stamp(deadline),
                        "f": False,
                        "at": stamp(due),
                        "v": template.model_copy(
                            update={"id": d, "campaign_id": CAMPAIGN}
                        ).model_dump_json(),
                    }
                    for d in part
                ],
            )
            session.execute(
                sa.text(
                    "INSERT INTO audit_event (declaration_id, campaign_id, seq, at, actor_id,"
                    " actor_role, actor_org, action, stage_before, stage_after, outcome, "
                    "opinion, reasons, detail, prev_hash, hash) VALUES (:d, :c, 3, :at, "
                    "'system', 'admin', '', 'at_risk.changed', 'draft', 'draft', 'accepted',"
                    " '', '[]', '{}', :h, :h)"
                ),
                [{"d": d, "c": CAMPAIGN, "at": stamp(due), "h": "0" * 64} for d in part],
            )
            enqueue(
                session,
                [
                    Notification(
                        key=f"{d}:3:reminder:{deadline.isoformat()}",
                        declaration_id=d,
                        recipient_role="applicant",
                        recipient_id="applicant-1",
                        kind="deadline_reminder",
                        text=f"提醒：申报 {d} 的草稿 (draft)将于 {deadline.isoformat()} 截止",
                        send_after=due,
                        supersedes=f"{d}:reminder",
                    )
                    for d in part
                ],
                now=due,
            )
    store.dispose()


def delivery_figures(url: str) -> dict[str, Any]:
    store = Store(url)
    with store.session(readonly=True) as session:
        statuses = dict(
            session.execute(
                sa.text("SELECT status, count(*) FROM notification_delivery GROUP BY status")
            ).all()
        )
        repeated = session.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT notification_key FROM notification_delivery "
                "GROUP BY notification_key, channel HAVING count(*) > 1) AS d"
            )
        ).scalar_one()
        attempts = session.execute(
            sa.text("SELECT max(attempts) FROM notification_delivery")
        ).scalar_one()
    store.dispose()
    return {"statuses": statuses, "duplicate_rows": repeated, "max_attempts": attempts}


async def run(args: argparse.Namespace) -> int:
    n = args.n
    options = StackOptions(
        database_url=args.database_url,
        api=False,
        keep=args.keep,
        worker_env={
            "REVIEWCHAIN_DELIVERY_CONCURRENCY": str(args.connections),
            "REVIEWCHAIN_DELIVERY_BATCH_SIZE": str(args.batch),
            "REVIEWCHAIN_LOG_LEVEL": "INFO",
        },
    )
    workdir = Path(tempfile.mkdtemp(prefix="reminders-bench-"))
    sink = Sink(workdir)
    options.worker_env["REVIEWCHAIN_SMTP_URL"] = f"smtp://127.0.0.1:{sink.port}"
    try:
        await asyncio.sleep(1.0)  # the sink binds
        message = sample_message()
        sink_before = cpu_seconds(sink.popen.pid)
        client_before = time.process_time()
        seconds = await blast(sink.port, n, args.connections, message)
        await sink.reach(n, 60)
        bare = {
            "messages": n,
            "bytes_each": len(message),
            "seconds": seconds,
            "per_second": n / seconds,
            "sink_cpu_s": cpu_seconds(sink.popen.pid) - sink_before,
            "client_cpu_s": time.process_time() - client_before,
        }
        print(
            f"sink, bare: {n} messages of {len(message)} bytes over {args.connections} "
            f"connections in {seconds:.1f} s = {n / seconds:.0f}/s; sink CPU "
            f"{bare['sink_cpu_s']:.1f} s, client CPU {bare['client_cpu_s']:.1f} s"
        )

        async with Stack(options) as stack:
            assert stack.client is not None and stack.worker is not None and stack.db is not None
            settings = stack.settings().model_copy(update={"delivery_batch_size": args.batch})
            due = datetime.now(UTC)
            began = time.monotonic()
            await asyncio.to_thread(write_rows, stack.db.url, n, due)
            print(
                f"store: {stack.db.describe()}; wrote {n} open declarations and their "
                f"reminders in {time.monotonic() - began:.1f} s"
            )
            temporal = next(p for p in stack.procs if p.name == "temporal")
            groups: dict[str, Pids] = {
                "worker (sender)": [stack.worker.pid],
                "temporal": [temporal.pid],
                "sink": [sink.popen.pid],
            }
            if stack.db.kind == "postgresql":
                groups["postgres"] = postgres_pids
            target = n * 2  # the bare blast's messages, then the reminders
            meter = CpuMeter(groups)
            with meter:
                start = time.monotonic()
                await wake_outbox(stack.client, settings, due)
                first = await sink.reach(n + 1, 120)
                done = await sink.reach(target, args.max_seconds)
            await asyncio.sleep(2.0)  # anything sent twice would arrive now
            elapsed = done - start
            figures = await asyncio.to_thread(delivery_figures, stack.db.url)
            accepted = sink.accepted() - n
            sender_cpu = meter.used["worker (sender)"]
            print(
                f"sender: {n} reminders delivered in {elapsed:.1f} s = {n / elapsed:.0f}/s "
                f"(first after {first - start:.2f} s); accepted by the sink: {accepted}"
            )
            print(
                "  CPU over that interval, seconds (share of one core): "
                + ", ".join(
                    f"{name} {used:.1f} ({used / elapsed * 100:.0f}%)"
                    for name, used in meter.used.items()
                )
                + f"; rest of the machine {meter.background:.1f}"
            )
            print(f"  sender CPU per reminder: {sender_cpu / n * 1000:.2f} ms")
            print(
                f"  deliveries: {figures['statuses']}; rows per key and channel > 1: "
                f"{figures['duplicate_rows']}; most attempts: {figures['max_attempts']}"
            )
            ok = accepted == n and figures["statuses"] == {"sent": n}
            result = {
                "n": n,
                "bare": bare,
                "sender_seconds": elapsed,
                "sender_per_second": n / elapsed,
                "first_after_s": first - start,
                "cpu_s": meter.used,
                "background_cpu_s": meter.background,
                "deliveries": figures,
                "accepted": accepted,
                "ok": ok,
                "store": stack.db.describe(),
                "connections": args.connections,
                "batch": args.batch,
            }
            print(json.dumps(result, default=str))
            return 0 if ok else 1
    finally:
        sink.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=20_000, help="open declarations (reminders)")
    parser.add_argument("--connections", type=int, default=8, help="SMTP connections at once")
    parser.add_argument("--batch", type=int, default=500, help="deliveries per activity")
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--database-url", default=None, help="postgresql://… (default SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the logs and databases")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
