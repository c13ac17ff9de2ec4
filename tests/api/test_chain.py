"""The whole chain over HTTP (docs/rules.md §2, notice 001's shape): every decision answers with the
new view, publicity ends by the workflow's own timer, the certificate is publicly checkable, and
the audit trail verifies and exports."""

from __future__ import annotations

import csv
import io
import json

from settings import Settings
from store.export import EXPORT_COLUMNS
from testing import factories as f
from testing.api import AUDITOR, Api


async def certify(api: Api, **campaign: object) -> tuple[str, str, dict]:
    """A declaration driven to ``certified``; returns its id, campaign id and view."""
    c = await api.campaign(**campaign)
    d = await api.file(c)
    await api.to_committee(d)
    await api.to_committee_review(d)
    view = await api.post(f"/declarations/{d}/vote", f.COMMITTEE,
                          {"attending": 20, "in_favor": 16, "against": 2, "abstain": 2})  # fmt: skip
    assert view["state"] == "result_publicity" and view["vote"]["passed"]
    await api.skip_past(view["deadlines"]["publicity_ends"])
    view = await api.wait_state(d, "certified")
    return d, c.id, view


async def test_whole_chain_over_http_to_certified(api: Api, settings: Settings) -> None:
    """draft → … → certified; the history holds every step in order and verifies."""
    d, campaign_id, view = await certify(api)
    assert view["result"]["certificate_no"]
    assert view["fee"] == {"due": 550, "paid": True, "receipt_no": "R-1", "late": False}
    assert view["materials"]["received"] and view["defense"]["mode"] == "video"

    events = (await api.get(f"/declarations/{d}/history", AUDITOR))["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["action"] == "created" and events[0]["actor_id"] == f.APPLICANT.id
    assert events[-1]["action"] == "result.announced" and events[-1]["stage_after"] == "certified"
    moves = [
        (e["action"], e["stage_after"])
        for e in events
        if e["stage_after"] != e["stage_before"] or e["action"].startswith("authority")
    ]
    assert moves == [
        ("created", "draft"), ("submit", "unit_review"),
        ("unit_review.approve", "unit_publicity"),
        ("unit_publicity.completed", "unit_recommendation"),
        ("unit_recommendation.approve", "authority_review"),
        ("authority_review.approve", "authority_review"),
        ("authority_review.approve", "committee_formal_review"),
        ("committee_formal_review.approve", "fee_pending"),
        ("payment.recorded", "materials_pending"),
        ("materials.received", "defense_pending"),
        ("defense.recorded", "committee_review"),
        ("vote.recorded", "result_publicity"),
        ("result.announced", "certified"),
    ]  # fmt: skip
    assert set(events[0]) == {
        "seq", "at", "actor_id", "actor_role", "actor_org", "action", "stage_before",
        "stage_after", "outcome", "opinion", "reasons", "detail",
    }  # fmt: skip

    check = await api.get("/audit/verify", f.ADMIN, declaration_id=d)
    assert check == {"ok": True, "checked": len(events), "first_bad_seq": None,
                     "first_bad_declaration_id": None}  # fmt: skip
    check = await api.get("/audit/verify", AUDITOR, campaign_id=campaign_id)
    assert check["ok"] and check["checked"] >= len(events)

    response = await api.call("GET", "/audit/export", AUDITOR, None, 200,
                              campaign_id=campaign_id, format="jsonl")  # fmt: skip
    lines = [json.loads(line) for line in response.text.splitlines()]
    mine = [row for row in lines if row["declaration_id"] == d]
    assert [row["seq"] for row in mine] == [e["seq"] for e in events]
    assert all(len(row["hash"]) == 64 for row in mine)
    response = await api.call("GET", "/audit/export", f.ADMIN, None, 200,
                              campaign_id=campaign_id, format="csv")  # fmt: skip
    assert response.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.text))
    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == EXPORT_COLUMNS  # docs/rules.md §18, in order
    assert [int(r["seq"]) for r in rows if r["declaration_id"] == d] == [e["seq"] for e in events]
    assert all(list(row) == list(EXPORT_COLUMNS) for row in lines)

    response = await api.call("GET", "/audit/export", AUDITOR, None, 200,
                              declaration_id=d, format="jsonl")  # fmt: skip
    assert [json.loads(line)["seq"] for line in response.text.splitlines()] == [
        e["seq"] for e in events
    ]
    await api.call("GET", "/audit/export", AUDITOR, None, 422, format="csv")
    await api.call("GET", "/audit/export", AUDITOR, None, 422,
                   campaign_id=campaign_id, declaration_id=d)  # fmt: skip


async def test_certificate_check_is_public_valid_then_revoked_after_misconduct(
    api: Api, settings: Settings
) -> None:
    """§10.6: anyone checks a certificate number: valid, then revoked once misconduct is found
    after certification (撤销); nothing personal in the answer. Unknown: 404. The person is then
    barred from the same title (§2 end): a new declaration is refused with 409."""
    d, _, view = await certify(api)
    number = view["result"]["certificate_no"]
    public = await api.get(f"/certificates/{number}", None)
    assert public["status"] == "valid"
    assert set(public) == {
        "certificate_no",
        "status",
        "level",
        "series",
        "specialty",
        "scope",
        "issued_on",
    }
    assert (public["level"], public["series"]) == ("deputy_senior", "engineering")
    assert "张三" not in json.dumps(public, ensure_ascii=False)

    view = await api.post(f"/declarations/{d}/misconduct", f.COMMITTEE,
                          {"finding": "论文抄袭", "unit_at_fault": True})  # fmt: skip
    assert view["state"] == "revoked"
    public = await api.get(f"/certificates/{number}", None)
    assert public["status"] == "revoked" and public["issued_on"]
    await api.get("/certificates/RC-unknown-000001", None, expect=404)

    # The same person, same series and level, in a new campaign: barred (409, audited).
    trail = await api.view(d)
    again = await api.campaign()
    body = f.declaration_body(again)
    body["applicant"]["id_number"] = trail["applicant"]["id_number"]
    refused = await api.post("/declarations", f.APPLICANT, body, expect=409)
    assert "barred" in refused["detail"] and "论文抄袭" in refused["detail"]
    rows = await api.recorded(f"campaign:{again.id}")
    assert rows[-1]["outcome"] == "refused" and rows[-1]["action"] == "create_declaration"


async def test_objection_during_unit_publicity_holds_it_until_the_unit_resolves(
    api: Api, settings: Settings
) -> None:
    """§2.2, §10.8: anyone may object during the unit publicity (201 {"objection_id"} and
    nothing else); the declaration stays there past the end until the unit dismisses it. The
    unit reads the text; the applicant never learns who objected. Outside a publicity an
    objection is refused (409), as is a resolution by another unit (403)."""
    c = await api.campaign()
    d = await api.file(c)
    refused = await api.post(f"/declarations/{d}/objections", AUDITOR, {"text": "存疑"},
                             expect=409)  # fmt: skip
    assert "公示" in refused["detail"]
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    view = await api.decide(d, f.UNIT, "unit_review")
    lodged = await api.post(f"/declarations/{d}/objections", f.FINANCE,
                            {"text": "学历证书存疑"}, expect=201)  # fmt: skip
    oid = lodged["objection_id"]
    assert lodged == {"objection_id": oid}
    seen_by_unit = await api.get(f"/declarations/{d}", f.UNIT)
    (objection,) = seen_by_unit["objections"]
    assert (objection["id"], objection["text"]) == (oid, "学历证书存疑")
    assert objection["lodged_by"] == f.FINANCE.id
    (own,) = (await api.get(f"/declarations/{d}", f.APPLICANT))["objections"]
    assert own["lodged_by"] == "" and own["id"] == oid
    await api.skip_past(view["deadlines"]["publicity_ends"])
    assert (await api.view(d))["state"] == "unit_publicity"
    path = f"/declarations/{d}/objections/{oid}/resolution"
    await api.post(path, f.OTHER_UNIT, {"upheld": False, "opinion": "不属实"}, expect=403)
    view = await api.post(path, f.UNIT, {"upheld": False, "opinion": "经核实不属实"})
    assert view["state"] == "unit_recommendation"
    again = await api.post(path, f.UNIT, {"upheld": False, "opinion": "重复"}, expect=409)
    assert again["detail"]
