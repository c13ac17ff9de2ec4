"""A local SMTP sink for mail tests (the ``sink`` fixture of tests/conftest.py, :func:`mail_settings`) and a real local
HTTP server for webhook tests (plain asyncio, HTTP/1.1 with keep-alive): it records
every request, and answers with the status it is told, or hangs without answering, on purpose."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from settings import Settings
from tools.mailsink import free_port

__all__ = ["WebhookServer", "mail_settings", "webhook_server"]


class WebhookServer:
    def __init__(self, *, status: int = 200, hang: bool = False, fail_first: int = 0) -> None:
        #: The answer to every request (after the first ``fail_first``, which get 500).
        self.status = status
        self.hang = hang
        self.fail_first = fail_first
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/reviewchain"
        #: Every request received: (headers with lower-case names, body).
        self.requests: list[tuple[dict[str, str], bytes]] = []

    def of_kind(self, kind: str) -> list[tuple[dict[str, str], bytes]]:
        return [
            (headers, body)
            for headers, body in self.requests
            if json.loads(body)["notification"]["kind"] == kind
        ]

    def answered_ok(self) -> int:
        return max(0, len(self.requests) - self.fail_first) if self.status < 300 else 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((headers, body))
                if self.hang:
                    await asyncio.Event().wait()  # never answers
                status = 500 if len(self.requests) <= self.fail_first else self.status
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\n"
                    "Content-Type: text/plain\r\n\r\nok".encode()
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def webhook_server(**options: int | bool) -> AsyncIterator[WebhookServer]:
    server = WebhookServer(**options)  # type: ignore[arg-type]
    running = await asyncio.start_server(server._serve, "127.0.0.1", server.port)
    try:
        yield server
    finally:
        running.close()
        with suppress(Exception):
            await asyncio.wait_for(running.wait_closed(), 2)


def mail_settings(tmp_path: Path, port: int) -> Settings:
    """The test settings with the worker delivering to the sink on ``port``, and the console's
    development mailbox reading its Maildir."""
    return Settings(
        database_url=f"sqlite:///{(tmp_path / 'store.sqlite3').as_posix()}",
        task_queue=f"review-chain-test-{uuid.uuid4().hex[:8]}",
        log_format="console",
        log_level="WARNING",
        smtp_url=f"smtp://127.0.0.1:{port}",
        dev_mailbox=str(tmp_path / "mail"),
    )
