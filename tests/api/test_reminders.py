"""Reminders over the API (docs/rules.md §3), with the worker delivering to a real local SMTP
server: the applicant's address filed with the declaration, each person's reminders, the
committee's delivery figures per campaign (blind review hides applicants' addresses), the
organisations' addresses, sending again what had no address, and the outbox's metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from domain.models import Actor, Campaign
from settings import Settings
from testing import factories as f
from testing.api import Api
from testing.eventually import eventually
from tests.helpers_servers import mail_settings
from tools.mailsink import MailSink

EMAIL = "li.ming@example.cn"
UNIT_EMAIL = "renshi@u001.example.cn"
OTHER_UNIT = Actor(id="unit-reviewer-9", role="unit_reviewer", org="U-009")


@pytest.fixture
def settings(tmp_path: Path, sink: tuple[MailSink, int]) -> Settings:
    return mail_settings(tmp_path, sink[1])


async def file_with_email(api: Api, c: Campaign) -> str:
    body = f.declaration_body(c, applicant=f.applicant(email=EMAIL))
    created = await api.post("/declarations", f.APPLICANT, body, expect=201)
    await api.recorded(created["id"])
    return str(created["id"])


async def returned(api: Api) -> tuple[str, str]:
    c = await api.campaign()
    d = await file_with_email(api, c)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    await api.decide(
        d, f.UNIT, "unit_review", "return", opinion="扫描件不清晰", reasons=["unclear_scan"]
    )
    return c.id, d


def kinds(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["kind"]: item for item in items}


async def test_applicant_email_is_optional_and_checked(api: Api) -> None:
    """POST /declarations: ``applicant.email`` is optional; a malformed one is 422."""
    c = await api.campaign()
    body = f.declaration_body(c)
    body["applicant"]["email"] = "not-an-address"
    answer = await api.call("POST", "/declarations", f.APPLICANT, body, expect=422)
    assert "email" in answer.text
    assert await api.file(c)  # without one


async def test_each_person_sees_their_own_reminders_beside_the_inbox(
    api: Api, sink: tuple[MailSink, int]
) -> None:
    """The applicant is told of the return by mail at once and sees the reminder scheduled 24
    hours before the correction window closes; the unit sees what was sent to it; another
    unit sees none of it."""
    mail, _ = sink
    _, d = await returned(api)
    await eventually(lambda: mail.by_subject(f"【结果】申报 {d}"))

    async def applicant_view() -> dict[str, dict[str, Any]] | None:
        items = kinds((await api.get("/reminders", f.APPLICANT))["items"])
        outcome = items.get("outcome")
        sent = outcome and outcome["deliveries"] and outcome["deliveries"][0]["status"] == "sent"
        return items if sent else None

    items = await eventually(applicant_view)
    assert items["outcome"]["deliveries"][0]["address"] == EMAIL
    reminder = items["deadline_reminder"]
    assert reminder["declaration_id"] == d and reminder["status"] == "pending"
    assert reminder["deliveries"] == []
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)  # corrected: the unit must act

    async def unit_view() -> dict[str, dict[str, Any]] | None:
        unit = kinds((await api.get("/reminders", f.UNIT))["items"])
        act = unit.get("action_required")
        return unit if act and act["deliveries"] else None

    unit = await eventually(unit_view)
    assert unit["action_required"]["declaration_id"] == d
    assert [x["status"] for x in unit["action_required"]["deliveries"]] == ["no_address"]
    assert (await api.get("/reminders", OTHER_UNIT))["items"] == []


async def test_the_committee_sees_missing_addresses_and_sends_them_again(
    api: Api, sink: tuple[MailSink, int]
) -> None:
    """A notification to a unit without an address is marked so and shown to the committee;
    once the admin registers the unit's address, sending again delivers it once."""
    mail, _ = sink
    campaign, d = await returned(api)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)  # resubmitted: the unit must act

    async def missing() -> dict[str, Any] | None:
        """The resubmission told the unit (which has no address yet); the first submission's
        notice was outdated by the return before it could go."""
        figures = await api.get(f"/campaigns/{campaign}/deliveries", f.COMMITTEE)
        unit = [p for p in figures["problems"] if p["recipient"]["org"] == "U-001"]
        return figures if unit else None

    figures = await eventually(missing)
    problems = [p for p in figures["problems"] if p["recipient"]["org"] == "U-001"]
    assert problems and all(p["status"] == "no_address" and "U-001" in p["error"] for p in problems)
    assert figures["waiting"]["scheduled"] >= 0
    await api.call(
        "PUT", "/notification-addresses/U-001", f.UNIT, {"email": UNIT_EMAIL}, expect=403
    )
    await api.call("PUT", "/notification-addresses/U-001", f.ADMIN, {"email": UNIT_EMAIL})
    assert (await api.get("/notification-addresses", f.ADMIN))["U-001"] == UNIT_EMAIL
    counts = await api.post(f"/campaigns/{campaign}/deliveries/retry", f.COMMITTEE)
    assert counts["queued"] >= len(problems)
    await eventually(lambda: [r for r in mail.recipients if r == [UNIT_EMAIL]])
    await asyncio.sleep(0.5)
    assert mail.recipients.count([UNIT_EMAIL]) == counts["queued"]


async def test_blind_review_hides_applicant_addresses_from_the_committee(api: Api) -> None:
    """§9 盲评: the committee's delivery view never shows an applicant's address; the admin's
    does. (An applicant's delivery that failed is listed with its address masked.)"""
    c = await api.campaign(blind_review=True)
    d = await file_with_email(api, c)
    from store.db import Store

    def fail_applicant_delivery() -> None:
        import sqlalchemy as sa

        store = Store(api.settings.database_url)
        with store.session() as session:
            session.execute(
                sa.text(
                    "INSERT INTO notification (key, declaration_id, recipient_role, recipient_org,"
                    " recipient_id, kind, text, send_after, status, created_at) VALUES (:k, :d,"
                    " 'applicant', '', 'applicant-1', 'outcome', 't', '2020-01-01 00:00:00',"
                    " 'dispatched', '2020-01-01 00:00:00')"
                ),
                {"k": f"{d}:99:applicant", "d": d},
            )
            session.execute(
                sa.text(
                    "INSERT INTO notification_delivery (notification_key, declaration_id,"
                    " campaign_id, channel, address, status, attempts, next_attempt_at,"
                    " claimed_by, last_error, created_at) VALUES (:k, :d, :c, 'email', :a,"
                    " 'dead', 8, '2020-01-01 00:00:00', '', '550 no', '2020-01-01 00:00:00')"
                ),
                {"k": f"{d}:99:applicant", "d": d, "c": c.id, "a": EMAIL},
            )
        store.dispose()

    await asyncio.to_thread(fail_applicant_delivery)
    committee = await api.get(f"/campaigns/{c.id}/deliveries", f.COMMITTEE)
    admin = await api.get(f"/campaigns/{c.id}/deliveries", f.ADMIN)
    [seen] = [p for p in committee["problems"] if p["declaration_id"] == d]
    [full] = [p for p in admin["problems"] if p["declaration_id"] == d]
    assert EMAIL not in str(committee) and "盲评" in seen["address"]
    assert full["address"] == EMAIL
    await api.get("/campaigns/nope/deliveries", f.COMMITTEE, expect=404)
    await api.call("POST", f"/campaigns/{c.id}/deliveries/retry", f.UNIT, expect=403)


async def test_metrics_count_deliveries_and_the_lag(api: Api, sink: tuple[MailSink, int]) -> None:
    mail, _ = sink
    _, d = await returned(api)
    await eventually(lambda: mail.by_subject(f"【结果】申报 {d}"))

    async def counted() -> str | None:
        text = (await api.call("GET", "/metrics", None)).text
        return (
            text
            if 'reviewchain_notification_deliveries{channel="email",status="sent"}' in text
            else None
        )

    text = await eventually(counted)
    assert "reviewchain_outbox_lag_seconds" in text
