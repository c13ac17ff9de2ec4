"""One time format in answers (api/answers.py): every instant an answer carries is ISO 8601 at
Beijing's offset, ``…+08:00``, whether it was sent with ``Z`` or ``+08:00``, set by the workflow's
clock (UTC) or read from the audit trail (kept in UTC). What is stored does not change: the audit
export keeps the canonical UTC form its hashes cover."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from api.answers import in_beijing
from domain.calendar import BEIJING
from domain.models import Actor, Campaign
from testing import factories as f
from testing.api import Api

AUDITOR = Actor(id="auditor-1", role="auditor")
#: Anything that reads as a date and a time, with or without an offset.
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def instants(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON answer that reads as a date and a time, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from instants(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from instants(item, f"{where}[{n}]")
    elif isinstance(value, str) and DATE_TIME.match(value):
        yield where, value


def in_utc(value: Any) -> Any:
    """A body with every instant written in UTC with ``Z``, as a client in another zone sends."""
    if isinstance(value, dict):
        return {key: in_utc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [in_utc(item) for item in value]
    if isinstance(value, str) and DATE_TIME.match(value) and value[10] == "T":
        at = datetime.fromisoformat(value).astimezone(UTC)
        return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def test_the_encoder_rewrites_instants_only() -> None:
    answer = {
        "at": "2024-10-10T16:00:00Z",
        "nested": [{"sent_at": "2024-10-10T16:00:00.5+00:00"}, "2024-10-11T00:00:00+08:00"],
        "day": "2024-10-10",
        "text": "申报截止 2024-10-10T16:00:00Z",
        "month_13": "2024-13-10T16:00:00Z",
        "count": 3,
    }
    assert in_beijing(answer) == {
        "at": "2024-10-11T00:00:00+08:00",
        "nested": [{"sent_at": "2024-10-11T00:00:00.500000+08:00"}, "2024-10-11T00:00:00+08:00"],
        "day": "2024-10-10",
        "text": "申报截止 2024-10-10T16:00:00Z",
        "month_13": "2024-13-10T16:00:00Z",
        "count": 3,
    }


async def test_every_instant_in_every_answer_is_written_at_plus_08_00(api: Api) -> None:
    """A campaign posted with instants in UTC (``Z``), two declarations (one with an objection
    lodged in its unit publicity, one voted on at a committee meeting), a deadline change: the
    campaign, the views, the list, the history (audit events), the inbox, the reminders, the
    meeting and the change's progress all answer at +08:00."""
    now = await api.now()
    closes = (now + timedelta(days=60)).replace(microsecond=0)
    body = in_utc(f.campaign_body(f.campaign(now, declaration_closes_at=closes)))
    assert body["declaration_closes_at"].endswith("Z")
    await api.post("/campaigns", f.ADMIN, body, expect=201)
    c = Campaign.model_validate(body)

    first = await api.file(c)
    await api.post(f"/declarations/{first}/submit", f.APPLICANT)
    await api.decide(first, f.UNIT, "unit_review", opinion="材料真实完整")
    await api.post(f"/declarations/{first}/objections", f.ANYONE, {"text": "存疑"}, expect=201)
    voter = Actor(id="applicant-2", role="applicant")
    second = await api.file(c, applicant=voter)
    await api.to_committee(second, applicant=voter)
    await api.to_committee_review(second, receipt="R-9")
    meeting = {
        "meeting_id": "M-time-1",
        "held_at": in_utc({"at": (await api.now()).isoformat()})["at"],
        "members_present": [f"E{n:02d}" for n in range(1, 21)],
        "votes": [{"declaration_id": second, "in_favor": 18, "against": 1, "abstain": 1}],
    }
    voted = await api.post(f"/campaigns/{c.id}/meetings", f.COMMITTEE, meeting, expect=201)
    later = in_utc({"at": (closes + timedelta(days=7)).isoformat()})["at"]
    moved = await api.call(
        "POST",
        f"/campaigns/{c.id}/deadlines",
        f.COMMITTEE,
        {"declaration_closes_at": later},
        expect=None,
        wait=0,
    )
    assert moved.status_code in (200, 202), moved.text
    change = moved.json()
    progress = f"/campaigns/{c.id}/deadline-changes/{change['change_id']}"
    for _ in range(200):  # a durable fan-out: follow it to its end
        if (await api.get(progress, f.COMMITTEE))["finished"]:
            break
        await asyncio.sleep(0.05)

    answers: dict[str, Any] = {
        "campaign": await api.get(f"/campaigns/{c.id}", f.ADMIN),
        "declaration": await api.view(first),
        "list": await api.get("/declarations", f.ADMIN, campaign_id=c.id),
        "history": await api.get(f"/declarations/{first}/history", AUDITOR),
        "inbox": await api.get("/inbox", f.UNIT),
        "reminders": await api.get("/reminders", f.UNIT),
        "meeting": voted,
        "voted": await api.view(second),
        "deadline change": change,
        "deadline change progress": await api.get(progress, f.COMMITTEE),
    }
    seen = {name: list(instants(answer)) for name, answer in answers.items()}
    wrong = [(n, w, v) for n, found in seen.items() for w, v in found if not v.endswith("+08:00")]
    assert wrong == []
    for name in ("campaign", "declaration", "list", "history", "inbox", "reminders", "voted"):
        assert seen[name], f"the {name} answer carries no instant to check"
    opens = answers["campaign"]["declaration_opens_at"]
    assert datetime.fromisoformat(opens) == datetime.fromisoformat(body["declaration_opens_at"])
    declaration = answers["declaration"]
    assert (
        declaration["deadlines"]["declaration"]
        == (closes + timedelta(days=7)).astimezone(BEIJING).isoformat()
    )
    assert declaration["objections"][0]["lodged_at"].endswith("+08:00")  # the workflow's clock
