"""What a notification says: subject and body (Chinese first, English second) from the Jinja2
templates in ``activities/templates`` (one per notification kind), and the e-mail and webhook
forms of it.

A message names no applicant and no ID number, only the declaration id (mail crosses systems
the review does not control; under blind review the committee must not learn who applied). A
message is the same bytes on every attempt: its ``Date`` is the instant it fell due and its
``Message-ID`` derives from the notification key and channel, so a receiver can recognise a
repeat (``store.delivery`` says when one can happen).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from domain.models import DeclarationView
from domain.reminders import notice_time, reminder_deadline
from domain.states import PENDING_LABELS, STATE_LABELS
from store.delivery import Claimed

__all__ = ["Composer", "Message", "message_id"]

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: How a message greets whoever it goes to (the role, with the organisation where there is one).
GREETINGS: dict[str, tuple[str, str]] = {
    "applicant": ("申报人您好", "Dear applicant"),
    "unit_reviewer": ("用人单位审核人员您好", "Dear reviewer of the employer unit"),
    "authority_reviewer": ("主管部门审核人员您好", "Dear reviewer of the competent authority"),
    "committee": ("评审委员会工作人员您好", "Dear review committee staff"),
    "finance": ("财务人员您好", "Dear finance clerk"),
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


#: Bytes of UTF-8 per RFC 2047 encoded word: 52 base64 characters, 64 with the delimiters, so a
#: folded header line stays within 78 characters (RFC 5322).
WORD_BYTES = 39


def _encoded(value: str) -> str:
    """A header value as RFC 2047 encoded words (base64, whole characters per word, one word a
    line) where it is not plain ASCII."""
    if value.isascii():
        return value
    words: list[bytes] = []
    chunk = b""
    for char in value:
        encoded = char.encode()
        if len(chunk) + len(encoded) > WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def message_id(key: str, channel: str, sender: str) -> str:
    """The same ``Message-ID`` on every attempt of one delivery."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "reviewchain.localhost"
    digest = hashlib.sha256(f"{key}\n{channel}".encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


class Composer:
    """Renders notifications; ``console_url`` (may be empty) makes the link in each message."""

    def __init__(self, *, sender: str, console_url: str = "") -> None:
        self.sender = sender
        self.console_url = console_url.rstrip("/")
        name, address = parseaddr(sender)
        self._from = f"{_encoded(name)} <{address}>" if name else address
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=False,  # plain text: nothing is interpreted by the reader
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def _context(
        self, n: Claimed, view: DeclarationView | None, campaign_name: str, state: str | None
    ) -> dict[str, Any]:
        # The view is the declaration now; it speaks for the notification only while the
        # declaration is still in the state the notification was written in (a late delivery
        # must not misstate it).
        if state is not None:
            current = view is not None and view.state == state
        else:
            current = view is not None and (
                view.pending is not None and view.pending.role == n.recipient_role
            )
        pending = view.pending if view is not None and current else None
        greeting_zh, greeting_en = GREETINGS.get(n.recipient_role, ("您好", "Hello"))
        if n.recipient_org and n.recipient_role != "applicant":
            greeting_zh, greeting_en = (
                f"{n.recipient_org} {greeting_zh}",
                f"{greeting_en} ({n.recipient_org})",
            )
        context: dict[str, Any] = {
            "n": n,
            "campaign_name": campaign_name,
            "current": current,
            "state": view.state if view is not None else "",
            "state_zh": STATE_LABELS.get(view.state, view.state) if view is not None else "",
            "action": pending.action if pending else "",
            "action_zh": PENDING_LABELS.get(pending.action, pending.action) if pending else "",
            "due_at": notice_time(pending.due_at) if pending and pending.due_at else "",
            "greeting_zh": greeting_zh,
            "greeting_en": greeting_en,
            "link": f"{self.console_url}/console/declarations/{n.declaration_id}"
            if self.console_url
            else "",
            "explanation": "",
        }
        if n.kind == "deadline_reminder":
            deadline = reminder_deadline(n.send_after, view)
            context.update(
                deadline=deadline,
                deadline_at=notice_time(deadline.at),
                explanation=deadline.explanation,
            )
        return context

    def compose(
        self,
        n: Claimed,
        view: DeclarationView | None,
        *,
        campaign_name: str = "",
        state: str | None = None,
    ) -> Message:
        """Subject and body of ``n`` (written when the declaration was in ``state``, where
        known); a notification of a kind without its own template uses the general one."""
        try:
            template = self._env.get_template(f"{n.kind}.txt")
        except TemplateNotFound:
            template = self._env.get_template("notification.txt")
        text = template.render(self._context(n, view, campaign_name, state))
        subject, _, body = text.strip().partition("\n")
        return Message(subject=" ".join(subject.split()), body=body.strip() + "\n")

    def email(self, n: Claimed, message: Message) -> bytes:
        """The message as it goes over SMTP: plain text in UTF-8 (base64), its headers encoded
        as RFC 2047 words where they are not ASCII. Built directly: the standard library's
        ``EmailMessage`` spent some 10 ms a message re-parsing and folding these headers, most of
        the sender's time at campaign scale (bench/RESULTS.md)."""
        headers = [
            ("From", self._from),
            ("To", _encoded(n.address)),
            ("Subject", _encoded(message.subject)),
            ("Date", format_datetime(n.send_after)),
            ("Message-ID", message_id(n.key, n.channel, self.sender)),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "base64"),
            ("Auto-Submitted", "auto-generated"),
            ("X-ReviewChain-Key", n.key),
            ("X-ReviewChain-Declaration", n.declaration_id),
            ("X-ReviewChain-Kind", n.kind),
        ]
        head = "\r\n".join(f"{key}: {value}" for key, value in headers)
        body = base64.encodebytes(message.body.encode()).replace(b"\n", b"\r\n")
        return head.encode("ascii") + b"\r\n\r\n" + body

    def webhook_body(self, n: Claimed, message: Message, view: DeclarationView | None) -> bytes:
        """The JSON a webhook receives. ``msgtype`` and ``text.content`` are the shape WeCom
        and DingTalk group bots read; ``notification`` carries the notification for gateways."""
        deadline = None
        if n.kind == "deadline_reminder":
            found = reminder_deadline(n.send_after, view)
            deadline = {
                "kind": found.kind,
                "at": found.at.isoformat(),
                "explanation": found.explanation,
            }
        payload = {
            "msgtype": "text",
            "text": {"content": f"{message.subject}\n\n{message.body}"},
            "notification": {
                "key": n.key,
                "kind": n.kind,
                "declaration_id": n.declaration_id,
                "campaign_id": n.campaign_id,
                "recipient": {
                    "role": n.recipient_role,
                    "org": n.recipient_org,
                    "id": n.recipient_id,
                },
                "subject": message.subject,
                "body": message.body,
                "text": n.text,
                "due_at": n.send_after.isoformat(),
                "deadline": deadline,
            },
        }
        return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
