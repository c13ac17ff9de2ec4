"""Every error class of docs/rules.md §16: 409 with the workflow's own reason (audited), 409 on a
second declaration naming the first, 422 for malformed input (not audited), 404 for unknown things,
payments idempotent per receipt, a batch all or nothing, and refusals on an ended declaration still
audited."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import text

from domain.models import Actor, Appraisal
from settings import Settings
from store.db import Store
from testing import factories as f
from testing.api import AUDITOR, Api, audit_rows, refused_by


def ledger(settings: Settings, receipt_no: str) -> list[tuple[str, int]]:
    store = Store(settings.database_url)
    try:
        with store.session(readonly=True) as session:
            rows = session.execute(
                text("SELECT declaration_id, amount FROM payment WHERE receipt_no = :r "
                     "ORDER BY declaration_id"), {"r": receipt_no},
            ).all()  # fmt: skip
        return [(r[0], r[1]) for r in rows]
    finally:
        store.dispose()


async def test_wrong_stage_is_409_with_the_workflows_reason_and_audited(
    api: Api, settings: Settings
) -> None:
    """docs/rules.md §16: a call that does not fit the state answers 409 with the workflow's
    message, changes nothing, and is audited as refused."""
    c = await api.campaign()
    d = await api.file(c)
    refused = await api.decide(d, f.COMMITTEE, "committee_formal_review", expect=409)
    assert refused["detail"] == (
        "该申报当前处于「草稿 (draft)」阶段，不能作出「committee_formal_review」决定 / "
        "decide at committee_formal_review / the declaration is at draft"
    )
    assert (await api.view(d))["state"] == "draft"
    rows = await refused_by(settings, d, f.COMMITTEE.id)
    assert rows and rows[-1]["action"] == "decide" and rows[-1]["opinion"] == refused["detail"]

    # The right unit, a return without any reason: the workflow says why (409).
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    refused = await api.decide(d, f.UNIT, "unit_review", "return", expect=409)
    assert "理由" in refused["detail"]
    # A vote that misses the quorum (2/3 of 25 members).
    refused = await api.post(f"/declarations/{d}/vote", f.COMMITTEE,
                             {"attending": 10, "in_favor": 10, "against": 0, "abstain": 0},
                             expect=409)  # fmt: skip
    assert refused["detail"]


async def test_second_declaration_of_the_same_person_is_409_naming_the_first(
    api: Api, settings: Settings
) -> None:
    """docs/rules.md §14: the same applicant.id_number, campaign and level twice: 409 naming the
    existing id; the attempt lands on the existing declaration's trail. Once that one has ended, the
    person may file again (docs/rules.md §2.1: an ended declaration blocks nothing)."""
    c = await api.campaign()
    decl = f.declaration_body(c)
    first = (await api.post("/declarations", f.APPLICANT, decl, expect=201))["id"]
    await api.recorded(first)
    refused = await api.post("/declarations", f.APPLICANT, decl, expect=409)
    assert first in refused["detail"]
    rows = await refused_by(settings, first, f.APPLICANT.id)
    assert rows and rows[-1]["action"] == "create_declaration"
    # Another route in the same year, series and level is the same title (001): refused too.
    other = {**decl, "route": "private_enterprise"}
    refused = await api.post("/declarations", f.APPLICANT, other, expect=409)
    assert first in refused["detail"]
    await api.post(f"/declarations/{first}/withdraw", f.APPLICANT, {"reason": "改报"})
    again = await api.post("/declarations", f.APPLICANT, decl, expect=201)
    assert again["id"] != first


async def test_a_failed_annual_appraisal_blocks_filing_with_409(
    api: Api, settings: Settings
) -> None:
    """docs/rules.md §6 (000): 不合格 in the three years before the campaign year blocks creation."""
    c = await api.campaign()
    appraisals = [Appraisal(year=c.year - 2, result="不合格")]
    body = f.declaration_body(c, applicant=f.applicant(appraisals=appraisals))
    refused = await api.post("/declarations", f.APPLICANT, body, expect=409)
    assert "不合格" in refused["detail"]
    rows = await api.recorded(f"campaign:{c.id}")
    assert rows[-1]["outcome"] == "refused" and rows[-1]["opinion"] == refused["detail"]


async def test_malformed_input_is_422_and_not_audited(api: Api, settings: Settings) -> None:
    c = await api.campaign()
    d = await api.file(c)
    before = await asyncio.to_thread(audit_rows, settings, d)
    path = f"/declarations/{d}"
    # Unknown field, missing field, wrong type, unknown enum value.
    await api.decide(d, f.UNIT, "unit_review", expect=422, extra="x")
    await api.post(f"{path}/decisions", f.UNIT, {"outcome": "approve"}, expect=422)
    await api.post(f"{path}/vote", f.COMMITTEE, {"attending": "many", "in_favor": 1,
                                                 "against": 0, "abstain": 0}, expect=422)  # fmt: skip
    await api.post(f"{path}/defense", f.COMMITTEE, {"passed": True, "mode": "telepathy"},
                   expect=422)  # fmt: skip
    # Constraints of the domain command itself (a negative amount, an empty finding).
    await api.post(f"{path}/payments", f.FINANCE, {"amount": -5, "receipt_no": "R"}, expect=422)
    await api.post(f"{path}/misconduct", f.COMMITTEE, {"finding": ""}, expect=422)
    await api.post(f"{path}/objections", AUDITOR, {"text": ""},
                   expect=422)  # fmt: skip
    # A campaign whose windows are out of order, or a level without a fee.
    bad = f.campaign(await api.now()).model_dump(mode="json")
    bad["declaration_closes_at"], bad["declaration_opens_at"] = (
        bad["declaration_opens_at"], bad["declaration_closes_at"])  # fmt: skip
    await api.post("/campaigns", f.ADMIN, bad, expect=422)
    nofee = f.campaign(await api.now()).model_dump(mode="json")
    nofee["fees"].pop("junior")
    await api.post("/campaigns", f.ADMIN, nofee, expect=422)
    # A level the campaign does not review; a deadline change that breaks the windows.
    body = f.declaration_body(c, level="senior")
    await api.post("/declarations", f.APPLICANT, body, expect=422)
    early = (c.declaration_opens_at - timedelta(days=1)).isoformat()
    await api.post(f"/campaigns/{c.id}/deadlines", f.ADMIN,
                   {"declaration_closes_at": early}, expect=422)  # fmt: skip
    # Query parameters.
    await api.get("/declarations", f.ADMIN, expect=422, page=0)
    await api.get("/audit/verify", f.ADMIN, expect=422)
    await api.get("/audit/export", f.ADMIN, expect=422, campaign_id=c.id, format="xml")
    await api.call("PUT", "/calendar/2031", f.ADMIN, {"version": "v", "holidays": ["2030-01-01"],
                                                       "workdays": []}, expect=422)  # fmt: skip
    assert await asyncio.to_thread(audit_rows, settings, d) == before
    assert await asyncio.to_thread(audit_rows, settings, "api:access") == []
    assert await asyncio.to_thread(audit_rows, settings, f"campaign:{c.id}") == []


async def test_unknown_things_are_404(api: Api) -> None:
    c = await api.campaign()
    await api.get("/declarations/D-000000000000", f.ADMIN, expect=404)
    await api.get("/declarations/D-000000000000/history", f.ADMIN, expect=404)
    await api.decide("D-000000000000", f.COMMITTEE, "committee_formal_review", expect=404)
    await api.post("/declarations/D-000000000000/submit", f.APPLICANT, expect=404)
    await api.get("/campaigns/no-such-campaign", f.ADMIN, expect=404)
    await api.post("/campaigns/no-such-campaign/deadlines", f.ADMIN, {}, expect=404)
    body = f.declaration_body(c)
    body["campaign_id"] = "no-such-campaign"
    await api.post("/declarations", f.APPLICANT, body, expect=404)


async def test_campaign_id_taken_is_409_and_audited(api: Api, settings: Settings) -> None:
    c = await api.campaign()
    again = c.model_dump(mode="json")
    refused = await api.post("/campaigns", f.ADMIN, again, expect=409)
    assert c.id in refused["detail"]
    assert (await api.get(f"/campaigns/{c.id}", f.APPLICANT))["name"] == c.name
    rows = await api.recorded(f"campaign:{c.id}")
    assert rows[-1]["action"] == "create_campaign" and rows[-1]["actor_id"] == f.ADMIN.id


async def at_fee_pending(api: Api, c_overrides: dict | None = None, n: int = 1) -> list[str]:
    c = await api.campaign(**(c_overrides or {}))
    ids = []
    for i in range(n):
        applicant = Actor(id=f"applicant-fee-{i}", role="applicant")
        d = await api.file(c, applicant=applicant)
        await api.to_committee(d, applicant=applicant)
        view = await api.decide(d, f.COMMITTEE, "committee_formal_review")
        assert view["state"] == "fee_pending"
        ids.append(d)
    return ids


async def test_a_payment_is_idempotent_per_receipt(api: Api, settings: Settings) -> None:
    """docs/rules.md §2.6: the same receipt for the same declaration twice has no second effect; a
    second receipt, or another amount, is refused with 409."""
    (d,) = await at_fee_pending(api)
    first = await api.post(f"/declarations/{d}/payments", f.FINANCE,
                           {"amount": 550, "receipt_no": "R-77"})  # fmt: skip
    assert first["state"] == "materials_pending" and first["fee"]["receipt_no"] == "R-77"
    again = await api.post(f"/declarations/{d}/payments", f.FINANCE,
                           {"amount": 550, "receipt_no": "R-77"})  # fmt: skip
    assert again["state"] == "materials_pending" and again["version"] == first["version"]
    assert await asyncio.to_thread(ledger, settings, "R-77") == [(d, 550)]
    other = await api.post(f"/declarations/{d}/payments", f.FINANCE,
                           {"amount": 550, "receipt_no": "R-78"}, expect=409)  # fmt: skip
    assert "R-77" in other["detail"]
    events = (await api.get(f"/declarations/{d}/history", AUDITOR))["events"]
    assert [e["action"] for e in events if e["outcome"] == "accepted"].count(
        "payment.recorded"
    ) == 1


async def test_a_wrong_amount_is_refused_with_the_fee_due(api: Api, settings: Settings) -> None:
    (d,) = await at_fee_pending(api)
    refused = await api.post(f"/declarations/{d}/payments", f.FINANCE,
                             {"amount": 500, "receipt_no": "R-1"}, expect=409)  # fmt: skip
    assert "550" in refused["detail"] and "500" in refused["detail"]
    assert (await api.view(d))["state"] == "fee_pending"


async def test_batch_payment_is_all_or_nothing_and_idempotent(api: Api, settings: Settings) -> None:
    """One receipt for many declarations (推荐单位代收, 000): every item is checked first; the
    first bad one is named and nothing is applied; the whole batch again changes nothing."""
    a, b = await at_fee_pending(api, n=2)
    c = await api.campaign()
    draft = await api.file(c, applicant=Actor(id="applicant-draft", role="applicant"))

    def batch(*items: tuple[str, int]) -> dict:
        return {"receipt_no": "B-2024-1", "payer_org": "U-001",
                "items": [{"declaration_id": d, "amount": n} for d, n in items]}  # fmt: skip

    refused = await api.post("/payments", f.FINANCE, batch((a, 550), (draft, 550)), expect=409)
    assert refused["detail"].startswith(f"{draft}: ") and "draft" in refused["detail"]
    refused = await api.post("/payments", f.FINANCE, batch((a, 550), (b, 400)), expect=409)
    assert refused["detail"].startswith(f"{b}: ") and "550" in refused["detail"]
    unknown = await api.post("/payments", f.FINANCE, batch((a, 550), ("D-nope", 550)),
                             expect=422)  # fmt: skip
    assert "D-nope" in json.dumps(unknown)
    await api.post("/payments", f.FINANCE, batch((a, 550), (a, 550)), expect=422)
    assert await asyncio.to_thread(ledger, settings, "B-2024-1") == []
    assert [(await api.view(x))["state"] for x in (a, b)] == ["fee_pending", "fee_pending"]
    rows = await refused_by(settings, b, f.FINANCE.id)
    assert rows and rows[-1]["action"] == "record_payment"

    done = await api.post("/payments", f.FINANCE, batch((a, 550), (b, 550)))
    assert done["newly_recorded"] == 2 and done["updated"] == 2 and done["failed"] == []
    views = [await api.view(x) for x in (a, b)]
    assert [v["state"] for v in views] == ["materials_pending", "materials_pending"]
    assert {v["fee"]["receipt_no"] for v in views} == {"B-2024-1"}
    again = await api.post("/payments", f.FINANCE, batch((a, 550), (b, 550)))
    assert again["newly_recorded"] == 0 and again["failed"] == []
    assert [(await api.view(x))["version"] for x in (a, b)] == [v["version"] for v in views]
    assert await asyncio.to_thread(ledger, settings, "B-2024-1") == sorted([(a, 550), (b, 550)])
    # The receipt cannot be stretched to another declaration afterwards.
    (extra,) = await at_fee_pending(api)
    refused = await api.post("/payments", f.FINANCE, batch((extra, 550)), expect=409)
    assert "B-2024-1" in refused["detail"]


async def test_refusals_on_an_ended_declaration_are_still_audited(
    api: Api, settings: Settings
) -> None:
    """docs/rules.md §16: every refused attempt is written to the audit trail, also on an ended
    declaration (its workflow has closed: the API appends to its chain, which still verifies)."""
    c = await api.campaign()
    d = await api.file(c)
    view = await api.post(f"/declarations/{d}/withdraw", f.APPLICANT, {"reason": "个人原因"})
    assert view["state"] == "withdrawn"
    handle = api.env.client.get_workflow_handle(f"declaration-{d}")
    await handle.result()
    rows = await asyncio.to_thread(audit_rows, settings, d)

    refused = await api.post(f"/declarations/{d}/submit", f.APPLICANT, expect=409)
    assert "ended" in refused["detail"]
    await api.post(f"/declarations/{d}/decisions", f.OTHER_UNIT,
                   {"stage": "unit_review", "outcome": "approve"}, expect=403)  # fmt: skip
    await api.post(f"/declarations/{d}/vote", f.FINANCE,
                   {"attending": 20, "in_favor": 20, "against": 0, "abstain": 0},
                   expect=403)  # fmt: skip
    after = await asyncio.to_thread(audit_rows, settings, d)
    added = after[len(rows) :]
    assert [(r["seq"], r["actor_id"], r["action"], r["outcome"]) for r in added] == [
        (len(rows) + 1, f.APPLICANT.id, "submit", "refused"),
        (len(rows) + 2, f.OTHER_UNIT.id, "decide", "refused"),
        (len(rows) + 3, f.FINANCE.id, "record_vote", "refused"),
    ]
    assert [json.loads(r["detail"])["status"] for r in added] == [409, 403, 403]
    check = await api.get("/audit/verify", AUDITOR, declaration_id=d)
    assert check["ok"] and check["checked"] == len(after)
    # The view of an ended declaration stays readable.
    assert (await api.view(d))["state"] == "withdrawn"
