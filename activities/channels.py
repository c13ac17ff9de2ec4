"""The two ways a notification leaves: e-mail over SMTP (aiosmtplib) and a signed webhook (httpx).

Each channel sends one batch over a few connections at once and reports every delivery's fate:
sent, or failed with the error and whether a retry could help. Only a refusal of the address
itself (SMTP 5xx to ``RCPT``, HTTP 4xx other than 408/429) is permanent; a server that is down,
hangs, refuses for now (4xx) or answers 5xx is tried again later. Once the server itself has
failed in a batch (it cannot be reached, times out, refuses the session or answers 5xx), the
rest of that batch is not tried against it: each is reported failed with that error ("not
attempted"), and all are retried after the backoff, so an outage costs one timeout, not one per
message.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import aiosmtplib
import httpx

__all__ = [
    "SIGNATURE_HEADER",
    "Outcome",
    "SmtpChannel",
    "SmtpTarget",
    "WebhookChannel",
    "signature",
]

SIGNATURE_HEADER = "X-ReviewChain-Signature"
DELIVERY_HEADER = "X-ReviewChain-Delivery"
MAX_ERROR = 500

P = TypeVar("P")


@dataclass(frozen=True)
class Outcome:
    id: int
    ok: bool
    error: str = ""
    permanent: bool = False


Report = Callable[[Outcome], None]


def _describe(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


async def _drain(
    items: Sequence[P],
    connections: int,
    send: Callable[[P, dict[str, object]], Awaitable[None]],
) -> None:
    """Run ``send(item, state)`` over ``items`` with ``connections`` workers, each keeping its own
    ``state`` (its connection) between items."""
    queue: deque[P] = deque(items)

    async def worker() -> None:
        state: dict[str, object] = {}
        while queue:
            await send(queue.popleft(), state)
        closer = state.get("close")
        if callable(closer):
            closer()

    await asyncio.gather(*(worker() for _ in range(max(1, min(connections, len(items))))))


# --------------------------------------------------------------------------- e-mail


@dataclass(frozen=True)
class SmtpTarget:
    """A mail server from ``REVIEWCHAIN_SMTP_URL``: ``smtp://`` (plain), ``smtp+starttls://``
    (STARTTLS required) or ``smtps://`` (TLS from the start), with ``user:password@``."""

    host: str
    port: int
    use_tls: bool = False
    start_tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        defaults = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
        if scheme not in defaults or not parts.hostname:
            raise ValueError(
                f"REVIEWCHAIN_SMTP_URL must be smtp://host:port, smtp+starttls://host:port or "
                f"smtps://host:port, not {url!r}"
            )
        return cls(
            host=parts.hostname,
            port=parts.port or defaults[scheme],
            use_tls=scheme == "smtps",
            start_tls=scheme == "smtp+starttls",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


@dataclass(frozen=True)
class Mail:
    id: int
    address: str
    #: The message as sent (headers and body, CRLF line ends).
    message: bytes


class SmtpChannel:
    def __init__(
        self, target: SmtpTarget, *, sender: str, timeout: float, connections: int
    ) -> None:
        self.target = target
        self.envelope_from = parseaddr(sender)[1] or sender
        self.local_hostname = self.envelope_from.rpartition("@")[2] or "localhost"
        self.timeout = timeout
        self.connections = connections

    def _client(self) -> aiosmtplib.SMTP:
        t = self.target
        return aiosmtplib.SMTP(
            hostname=t.host,
            port=t.port,
            use_tls=t.use_tls,
            start_tls=t.start_tls,
            username=t.username,
            password=t.password,
            timeout=self.timeout,
            local_hostname=self.local_hostname,
        )

    async def send(self, mails: Sequence[Mail], report: Report) -> None:
        broken: list[str] = []

        async def one(mail: Mail, state: dict[str, object]) -> None:
            if broken:
                report(Outcome(mail.id, False, f"not attempted: {broken[0]}"))
                return
            smtp = state.get("smtp")
            try:
                if not isinstance(smtp, aiosmtplib.SMTP):
                    smtp = self._client()
                    state["smtp"], state["close"] = smtp, smtp.close
                    await smtp.connect()
                await smtp.sendmail(self.envelope_from, [mail.address], mail.message)
            except aiosmtplib.SMTPRecipientsRefused as err:
                codes = [r.code for r in err.recipients]
                report(Outcome(mail.id, False, _describe(err), all(c >= 500 for c in codes)))
            except aiosmtplib.SMTPRecipientRefused as err:
                report(Outcome(mail.id, False, _describe(err), err.code >= 500))
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
                report(Outcome(mail.id, False, _describe(err)))
                broken.append(_describe(err))
                if isinstance(smtp, aiosmtplib.SMTP):
                    smtp.close()
                state.pop("smtp", None)
                state.pop("close", None)
            else:
                report(Outcome(mail.id, True))

        await _drain(mails, self.connections, one)


# --------------------------------------------------------------------------- webhook


def signature(secret: str, body: bytes) -> str:
    """``X-ReviewChain-Signature``: HMAC-SHA256 of the body under the shared secret, in hex."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Post:
    id: int
    key: str
    body: bytes


#: Client errors that say "not now" rather than "never".
_TRANSIENT_4XX = {408, 425, 429}


class WebhookChannel:
    def __init__(self, url: str, *, secret: str, timeout: float, connections: int) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.connections = connections

    async def send(self, posts: Sequence[Post], report: Report) -> None:
        broken: list[str] = []
        limits = httpx.Limits(
            max_connections=self.connections, max_keepalive_connections=self.connections
        )
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout), limits=limits, follow_redirects=False
        ) as http:

            async def one(post: Post, _: dict[str, object]) -> None:
                if broken:
                    report(Outcome(post.id, False, f"not attempted: {broken[0]}"))
                    return
                headers = {
                    "Content-Type": "application/json; charset=utf-8",
                    SIGNATURE_HEADER: signature(self.secret, post.body),
                    DELIVERY_HEADER: post.key,
                }
                try:
                    answer = await http.post(self.url, content=post.body, headers=headers)
                except httpx.HTTPError as err:
                    report(Outcome(post.id, False, _describe(err) or type(err).__name__))
                    broken.append(_describe(err))
                    return
                status = answer.status_code
                if 200 <= status < 300:
                    report(Outcome(post.id, True))
                    return
                error = f"HTTP {status}: {answer.text[:200]}"
                if 400 <= status < 500 and status not in _TRANSIENT_4XX:
                    report(Outcome(post.id, False, error, permanent=True))
                    return
                report(Outcome(post.id, False, error))
                broken.append(error)

            await _drain(posts, self.connections, one)
