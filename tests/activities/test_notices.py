"""What a reminder says (docs/rules.md §3): the subject names the declaration and the deadline's
kind on one line; the body is Chinese first, English second, with the deadline's own
explanation; no message names the applicant or their ID number; a message sent after the
declaration moved on does not describe the new state as if it were the old one; the webhook's
JSON carries the same notification, in the shape WeCom and DingTalk bots read."""

from __future__ import annotations

import json
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from activities.notices import Composer
from domain.models import DeclarationView
from store.delivery import Claimed
from testing.builders import MONDAY, view

SENDER = "职称评审系统 <noreply@pingshen.example.cn>"


def claimed(kind: str, text: str, *, role: str = "applicant", org: str = "") -> Claimed:
    return Claimed(
        id=1,
        key=f"D-1:7:{kind}",
        channel="email",
        address="a@example.cn",
        attempts=1,
        declaration_id="D-1",
        campaign_id="aks-2024",
        recipient_role=role,
        recipient_org=org,
        recipient_id="applicant-1",
        kind=kind,
        text=text,
        send_after=MONDAY,
    )


def returned_view() -> DeclarationView:
    v = view("D-1", version=7, state="returned")
    closes = MONDAY + timedelta(days=1)
    v.deadlines.correction = closes
    v.deadline_explanations = {"correction": "退回后2日内补正（民法典第201、203条）"}
    return v


def test_a_reminder_names_the_declaration_and_the_deadline_and_explains_it() -> None:
    composer = Composer(sender=SENDER, console_url="https://pingshen.example.cn/")
    n = claimed("deadline_reminder", "提醒：申报 D-1 的退回修改 (returned)将于明日截止")
    message = composer.compose(n, returned_view(), campaign_name="阿克苏 2024", state="returned")
    assert "\n" not in message.subject
    assert "D-1" in message.subject and "补正期限" in message.subject
    assert "(correction)" in message.subject
    body = message.body
    assert body.index("补正期限") < body.index("correction window") < body.index("民法典")
    assert "https://pingshen.example.cn/console/declarations/D-1" in body
    assert "张三" not in body + message.subject  # builders' applicant name
    assert "652901198001011234" not in body + message.subject  # nor the ID number
    raw = composer.email(n, message)
    assert raw.isascii() and b"\r\n\r\n" in raw  # encoded headers, base64 body, CRLF
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail["Subject"] == message.subject and mail["From"] == SENDER  # decoded back
    assert mail.get_body().get_content() == message.body  # type: ignore[union-attr]
    assert mail["Auto-Submitted"] == "auto-generated" and mail["X-ReviewChain-Key"] == n.key


def test_a_late_message_does_not_restate_a_state_the_declaration_has_left() -> None:
    """Written while the unit had to review; sent after the unit approved: the message keeps
    to what the notification said and does not present the new state as the pending one."""
    composer = Composer(sender=SENDER)
    n = claimed(
        "action_required",
        "申报 D-1 待处理：单位审核 (unit_review)，unit_review",
        role="unit_reviewer",
        org="U-001",
    )
    moved_on = view("D-1", version=9, state="unit_publicity")
    message = composer.compose(n, moved_on, state="unit_review")
    assert "单位内部公示" not in message.subject and "unit_publicity" not in message.body
    assert "申报 D-1 待处理：单位审核" in message.body
    still = composer.compose(n, view("D-1", version=7, state="unit_review"), state="unit_review")
    assert "单位审核" in still.subject and "U-001" in still.body


def test_the_webhook_json_carries_the_notification_and_the_deadline() -> None:
    composer = Composer(sender=SENDER)
    n = claimed("deadline_reminder", "提醒")
    message = composer.compose(n, returned_view(), state="returned")
    body = json.loads(composer.webhook_body(n, message, returned_view()))
    assert body["msgtype"] == "text" and message.subject in body["text"]["content"]
    assert body["notification"]["deadline"]["kind"] == "correction"
    assert body["notification"]["recipient"] == {
        "role": "applicant",
        "org": "",
        "id": "applicant-1",
    }
    assert composer.webhook_body(n, message, returned_view()) == composer.webhook_body(
        n, message, returned_view()
    )  # the same bytes on every attempt
