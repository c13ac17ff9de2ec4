"""Bad input, case by case (the catalogue in docs/reliability.md): each gets a clear 4xx and
nothing is half-applied. After every refused request the declaration's view and its accepted
audit events are what they were (a 409 or 403 adds its own ``refused`` event, nothing else).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from testing import factories as f
from testing.api import AUDITOR, Api, audit_rows

pytestmark = pytest.mark.usefixtures("worker")

MB = 1024 * 1024


async def state_of(api: Api, d: str) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """The view (without its version and time) and the accepted audit events."""
    view = dict(await api.view(d))
    view.pop("version"), view.pop("updated_at")
    rows = await asyncio.to_thread(audit_rows, api.settings, d)
    return view, [(r["seq"], r["action"]) for r in rows if r["outcome"] == "accepted"]


async def in_unit_review(api: Api) -> str:
    c = await api.campaign()
    d = await api.file(c)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    return d


async def refused(
    api: Api, d: str, path: str, expect: int, *, actor: Any = f.UNIT, **send: Any
) -> dict[str, Any]:
    """Send a bad request; check its status, that it names the problem, and that nothing of it
    was applied."""
    before = await state_of(api, d)
    versions = (await api.view(d))["version"]
    headers = api.headers(actor) if actor is not None else {}
    headers.update(send.pop("headers", {}))
    response = await api.http.post(path, headers=headers, **send)
    assert response.status_code == expect, response.text[:500]
    body = response.json()
    assert body["detail"], body
    assert await state_of(api, d) == before
    rows = await asyncio.to_thread(audit_rows, api.settings, d)
    if expect in (400, 413, 422):  # no decision to record: not even a refusal
        assert (await api.view(d))["version"] == versions
        assert len(rows) == versions
    return dict(body)


# --------------------------------------------------------------------------- size


async def test_a_5_mb_body_is_refused_with_413_before_any_route_reads_it(api: Api) -> None:
    d = await in_unit_review(api)
    opinion = "意" * (5 * MB // 3)
    body = await refused(api, d, f"/declarations/{d}/decisions", 413,
                         json={"stage": "unit_review", "outcome": "approve", "opinion": opinion})  # fmt: skip
    assert "1048576" in body["detail"] and "too large" in body["detail"]


async def test_a_streamed_body_without_a_length_is_cut_at_the_limit(api: Api) -> None:
    d = await in_unit_review(api)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"stage": "unit_review", "outcome": "approve", "opinion": "'
        for _ in range(40):
            yield b"x" * 64 * 1024
        yield b'"}'

    await refused(api, d, f"/declarations/{d}/decisions", 413, content=chunks(),
                  headers={"Content-Type": "application/json"})  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("decisions", {"stage": "unit_review", "outcome": "return", "reasons": ["x"] * 10_000}),
        ("vote", {"attending": 20, "in_favor": 20, "against": 0, "abstain": 0,
                  "recused": ["m"] * 10_000}),
        ("submit", {"materials": [{"kind": "degree", "ref": "r", "sha256": "0" * 64}] * 10_000}),
    ],
    ids=["reasons", "recused", "materials"],
)  # fmt: skip
async def test_10k_item_lists_are_refused_with_422(api: Api, path: str, body: dict) -> None:
    d = await in_unit_review(api)
    actor = {"vote": f.COMMITTEE, "submit": f.APPLICANT}.get(path, f.UNIT)
    found = await refused(api, d, f"/declarations/{d}/{path}", 422, actor=actor, json=body)
    assert "at most" in json.dumps(found, ensure_ascii=False)


async def test_10k_items_in_a_batch_payment_or_a_calendar_are_refused(api: Api) -> None:
    d = await in_unit_review(api)
    items = [{"declaration_id": d, "amount": 550}] * 10_000
    await refused(api, d, "/payments", 422, actor=f.FINANCE,
                  json={"receipt_no": "R-1", "items": items})  # fmt: skip
    year = (await api.now()).year + 3
    response = await api.http.put(f"/calendar/{year}", headers=api.headers(f.ADMIN),
                                  json={"version": "v", "holidays": [f"{year}-01-01"] * 10_000})  # fmt: skip
    assert response.status_code == 422, response.text[:300]


# --------------------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("decisions", {"stage": "unit_review", "outcome": 123}),
        ("decisions", {"stage": None, "outcome": "approve"}),
        ("decisions", {"stage": "unit_review", "outcome": "approve", "opinion": {"a": 1}}),
        ("decisions", {"stage": "unit_review", "outcome": "return", "reasons": "missing"}),
        ("decisions", ["unit_review", "approve"]),
        ("decisions", {"stage": "unit_review", "outcome": "approve", "extra": 1}),
        ("payments", {"amount": True, "receipt_no": "R-1"}),
        ("payments", {"amount": "550", "receipt_no": "R-1"}),
        ("payments", {"amount": 550.5, "receipt_no": "R-1"}),
        ("defense", {"passed": "yes", "mode": "video"}),
        ("vote", {"attending": 20, "in_favor": 10**30, "against": 0, "abstain": 0}),
    ],
)
async def test_wrong_types_are_refused_with_422(api: Api, path: str, body: Any) -> None:
    d = await in_unit_review(api)
    actor = {"payments": f.FINANCE, "defense": f.COMMITTEE, "vote": f.COMMITTEE}.get(path, f.UNIT)
    await refused(api, d, f"/declarations/{d}/{path}", 422, actor=actor, json=body)


async def test_a_body_that_is_not_json_is_refused(api: Api) -> None:
    """Broken JSON: 422 at the character; bytes that are not UTF-8 at all: 400."""
    d = await in_unit_review(api)
    for content, code in ((b"{not json", 422), (b"\xff\xfe\x00", 400)):
        await refused(api, d, f"/declarations/{d}/decisions", code, content=content,
                      headers={"Content-Type": "application/json"})  # fmt: skip


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    "raw",
    [
        '{"stage": "unit_review", "outcome": "return", "opinion": "缺\\u0000材料"}',
        '{"stage": "unit_review", "outcome": "return", "opinion": "缺\\ud800材料"}',
        '{"stage": "unit_review", "outcome": "return", "opinion": "x", "reasons": ["\\udfff"]}',
        '{"stage": "unit_review", "outcome": "return", "opinion": "x", "\\u0000": 1}',
    ],
    ids=["nul", "lone-high-surrogate", "lone-low-surrogate-in-list", "nul-key"],
)
async def test_nul_and_lone_surrogates_are_refused_with_422_naming_the_field(
    api: Api, raw: str
) -> None:
    """PostgreSQL cannot store NUL in text and a lone surrogate is no UTF-8 (fuzzing finding:
    the audit write retried forever and the decision hung)."""
    d = await in_unit_review(api)
    found = await refused(api, d, f"/declarations/{d}/decisions", 422, content=raw.encode(),
                          headers={"Content-Type": "application/json"})  # fmt: skip
    assert found["errors"][0]["loc"][0] == "body"
    assert "NUL" in found["errors"][0]["msg"] or "surrogate" in found["errors"][0]["msg"]


async def test_nul_in_the_path_or_query_is_refused(api: Api) -> None:
    d = await in_unit_review(api)
    for url in (f"/declarations/{d}%00", "/declarations?campaign_id=a%00b"):
        response = await api.http.get(url, headers=api.headers(f.ADMIN))
        assert response.status_code == 422, response.text
        assert "NUL" in response.text


async def test_a_nul_in_an_applicant_name_creates_no_declaration(api: Api) -> None:
    c = await api.campaign()
    body = f.declaration_body(c)
    body["applicant"]["name"] = "张\u0000三"
    response = await api.http.post("/declarations", headers=api.headers(f.APPLICANT), json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "applicant", "name"]
    listed = await api.get("/declarations", f.ADMIN, campaign_id=c.id)
    assert listed["total"] == 0


@pytest.mark.parametrize(
    "text",
    ["\u202e申报材料齐全\u202c", "材料齐全 👍🏽 🇨🇳", "ئۇيغۇرچە تەكشۈرۈش", "a\u200d\u2066b\u2069"],
    ids=["rtl-override", "emoji", "uyghur-rtl", "joiners-isolates"],
)
async def test_unusual_but_valid_unicode_is_kept_exactly(api: Api, text: str) -> None:
    """Valid Unicode is the reviewer's text: stored and shown as sent, to the code point."""
    d = await in_unit_review(api)
    await api.decide(d, f.UNIT, "unit_review", "return", opinion=text, reasons=["unclear_scan"])
    history = await api.get(f"/declarations/{d}/history", f.ADMIN)
    returned = [e for e in history["events"] if e["action"] == "unit_review.return"]
    assert [e["opinion"] for e in returned] == [text]
    verified = await api.get("/audit/verify", AUDITOR, declaration_id=d)
    assert verified["ok"] is True


async def test_20k_character_texts_are_refused_with_422(api: Api) -> None:
    d = await in_unit_review(api)
    long = "审" * 20_000
    await refused(api, d, f"/declarations/{d}/decisions", 422,
                  json={"stage": "unit_review", "outcome": "return", "opinion": long})  # fmt: skip
    await refused(api, d, f"/declarations/{d}/withdraw", 422, actor=f.APPLICANT,
                  json={"reason": long})  # fmt: skip
    c = await api.campaign()
    body = f.declaration_body(c)
    body["applicant"]["name"] = long
    response = await api.http.post("/declarations", headers=api.headers(f.APPLICANT), json=body)
    assert response.status_code == 422


# --------------------------------------------------------------------------- time


async def test_a_campaign_with_naive_instants_is_refused_with_a_clear_message(api: Api) -> None:
    now = await api.now()
    body = f.campaign(now).model_dump(mode="json")
    body["declaration_opens_at"] = "2026-07-22T00:00:00"  # no zone
    response = await api.http.post("/campaigns", headers=api.headers(f.ADMIN), json=body)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["loc"] == ["body", "declaration_opens_at"]
    assert "timezone" in error["msg"]
    assert (await api.http.get(f"/campaigns/{body['id']}", headers=api.headers(f.ADMIN))
            ).status_code == 404  # fmt: skip


async def test_a_deadline_change_with_a_naive_instant_is_refused(api: Api) -> None:
    c = await api.campaign()
    response = await api.http.post(f"/campaigns/{c.id}/deadlines", headers=api.headers(f.ADMIN),
                                   json={"declaration_closes_at": "2030-01-01T18:00:00"})  # fmt: skip
    assert response.status_code == 422
    assert "timezone" in response.text
    campaign = await api.get(f"/campaigns/{c.id}", f.ADMIN)
    assert campaign["declaration_closes_at"] == c.model_dump(mode="json")["declaration_closes_at"]


async def test_an_instant_in_another_zone_is_the_same_instant(api: Api) -> None:
    now = await api.now()
    c = f.campaign(now)
    body = c.model_dump(mode="json")
    body["declaration_closes_at"] = c.declaration_closes_at.astimezone(UTC).isoformat()
    assert body["declaration_closes_at"].endswith("+00:00")
    await api.post("/campaigns", f.ADMIN, body, expect=201)
    stored = await api.get(f"/campaigns/{c.id}", f.ADMIN)
    assert datetime.fromisoformat(stored["declaration_closes_at"]) == c.declaration_closes_at


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_instants_far_outside_the_campaign_years_are_refused(api: Api, instant: str) -> None:
    """Year 1 at +14:00 does not exist in UTC: it answered 500 (reliability finding)."""
    body = f.campaign(await api.now()).model_dump(mode="json")
    body["declaration_opens_at" if instant.startswith("0001") else "review_closes_at"] = instant
    response = await api.http.post("/campaigns", headers=api.headers(f.ADMIN), json=body)
    assert response.status_code == 422
    assert "between the years 2000 and 2100" in response.text


# --------------------------------------------------------------------------- repeats and races


async def accepted(api: Api, d: str, action: str) -> int:
    rows = await asyncio.to_thread(audit_rows, api.settings, d)
    return sum(1 for r in rows if r["action"] == action and r["outcome"] == "accepted")


async def test_the_same_decision_twice_applies_once_and_the_second_is_refused(api: Api) -> None:
    d = await in_unit_review(api)
    first = await api.decide(d, f.UNIT, "unit_review", "approve")
    assert first["state"] == "unit_publicity"
    second = await api.decide(d, f.UNIT, "unit_review", "approve", expect=409)
    assert "unit_publicity" in second["detail"]
    assert await accepted(api, d, "unit_review.approve") == 1
    for _ in range(200):  # the refusal reaches the trail through a signal, a moment later
        rows = await asyncio.to_thread(audit_rows, api.settings, d)
        outcomes = [r["outcome"] for r in rows if r["actor_id"] == f.UNIT.id]
        if len(outcomes) >= 2:
            break
        await asyncio.sleep(0.05)
    assert outcomes == ["accepted", "refused"]


async def test_the_same_payment_twice_is_idempotent(api: Api) -> None:
    c = await api.campaign()
    d = await api.file(c)
    await api.to_committee(d)
    await api.decide(d, f.COMMITTEE, "committee_formal_review")
    pay = {"amount": 550, "receipt_no": "R-dup"}
    one = await api.post(f"/declarations/{d}/payments", f.FINANCE, pay)
    two = await api.post(f"/declarations/{d}/payments", f.FINANCE, pay)
    assert one["fee"] == two["fee"] == {"due": 550, "paid": True, "receipt_no": "R-dup",
                                        "late": False}  # fmt: skip
    assert await accepted(api, d, "payment.recorded") == 1


async def test_two_conflicting_decisions_at_the_same_moment_exactly_one_applies(api: Api) -> None:
    d = await in_unit_review(api)
    approve = {"stage": "unit_review", "outcome": "approve"}
    give_back = {"stage": "unit_review", "outcome": "return", "opinion": "缺少证书"}
    answers = await asyncio.gather(
        *(api.call("POST", f"/declarations/{d}/decisions", f.UNIT, body, expect=None)
          for body in (approve, give_back))
    )  # fmt: skip
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409], [a.text for a in answers]
    winner = next(a.json() for a in answers if a.status_code == 200)
    assert (await api.view(d))["state"] == winner["state"] in ("unit_publicity", "returned")
    decided = (await accepted(api, d, "unit_review.approve"),
               await accepted(api, d, "unit_review.return"))  # fmt: skip
    assert sorted(decided) == [0, 1]
    rows = await asyncio.to_thread(audit_rows, api.settings, d)
    assert sum(1 for r in rows if r["outcome"] == "refused" and r["actor_id"] == f.UNIT.id) == 1
