"""A local SMTP sink (aiosmtpd): accepts every message on loopback and keeps it, for development
(``python3 dev.py run`` starts one and the console lists what it received at
``/console/dev/mail``), the tests and the benchmark. Nothing leaves the machine.

    python -m tools.mailsink --port 1025 --maildir var/mail

In process: ``async with serve(MailSink()) as (sink, port): …``. A sink given ``refuse`` answers
every message with that SMTP reply instead (a server that refuses on purpose, for the fault
tests); ``store=False`` keeps only the count (the benchmark's bare accept rate).
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["MailSink", "free_port", "serve"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MailSink:
    """aiosmtpd handler: counts, and keeps (in memory and/or a Maildir) every message."""

    def __init__(
        self,
        *,
        maildir: Path | None = None,
        store: bool = True,
        refuse: str | None = None,
    ) -> None:
        self.maildir = mailbox.Maildir(maildir, create=True) if maildir is not None else None
        self.store = store
        self.refuse = refuse
        self.count = 0
        self.refused = 0
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.arrived = asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse is not None:
            self.refused += 1
            return self.refuse
        self.count += 1
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        if self.store:
            message = message_from_bytes(data, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
        if self.maildir is not None:
            await asyncio.to_thread(self.maildir.add, data)
        self.arrived.set()
        return "250 2.0.0 Message accepted for delivery"

    def by_subject(self, text: str) -> list[EmailMessage]:
        return [m for m in self.messages if text in str(m["Subject"])]


@asynccontextmanager
async def serve(
    handler: MailSink, *, host: str = "127.0.0.1", port: int | None = None
) -> AsyncIterator[tuple[MailSink, int]]:
    """Run ``handler`` as an SMTP server on this event loop until the block ends."""
    port = port or free_port()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="mailsink.localhost", enable_SMTPUTF8=True), host, port
    )
    try:
        yield handler, port
    finally:
        server.close()
        await server.wait_closed()


async def _main(args: argparse.Namespace) -> None:
    sink = MailSink(
        maildir=Path(args.maildir) if args.maildir else None, store=False, refuse=args.refuse
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def status() -> None:
        if args.status_file:
            Path(args.status_file).write_text(f"{sink.count} {sink.refused}\n")

    async with serve(sink, host=args.host, port=args.port):
        print(f"mailsink listening on {args.host}:{args.port}", flush=True)
        while not stop.is_set():
            await asyncio.to_thread(status)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
    status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--maildir", default="", help="keep each message here (Maildir)")
    parser.add_argument("--status-file", default="", help="write '<accepted> <refused>' here")
    parser.add_argument("--refuse", default=None, help="answer every message with this reply")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("the sink listens on loopback only")
    try:
        import uvloop
    except ImportError:
        asyncio.run(_main(args))
    else:
        uvloop.run(_main(args))


if __name__ == "__main__":
    main()
