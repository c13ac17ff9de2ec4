"""docs/rules.md §11 over HTTP: the organisation registry (``/organisations``), and every role bound
to it at the API edge: a campaign names registered bodies; a declaration's unit is registered, its
chain derived and its region the unit's; committee staff, finance and authority reviewers act only
for their organisation; the quorum counts the committee's registered members; moving a unit
changes the chain of declarations filed afterwards only."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from api.routes.decisions import BINDINGS, gate
from domain.commands import COMMANDS
from domain.models import Actor, Campaign
from settings import Settings
from testing import factories as f
from testing.api import AUDITOR, Api, audit_rows, refused_by
from testing.eventually import eventually

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "organisations"
UNIT_BODY = {
    "kind": "unit",
    "name": "新单位",
    "region": {"code": "652901", "name": "阿克苏市"},
    "parent_id": "county-hr",
}


def locs(answer: dict[str, Any]) -> list[list[Any]]:
    return [e["loc"] for e in answer["errors"]]


async def raw(api: Api, text: str, content_type: str, **params: Any) -> Any:
    headers = {**api.headers(f.ADMIN), "Content-Type": content_type}
    return await api.http.post(
        "/organisations/import", content=text.encode(), headers=headers, params=params or None
    )


async def refused_actions(
    settings: Settings, chain: str, actor_id: str, wanted: set[str], within: float = 10.0
) -> set[str]:
    """The actions of ``actor_id``'s refused events on ``chain``, once they include ``wanted``
    (refusals on a running declaration land by signal)."""

    async def found() -> set[str]:
        rows = await asyncio.to_thread(audit_rows, settings, chain)
        return {
            r["action"] for r in rows if r["outcome"] == "refused" and r["actor_id"] == actor_id
        }

    actions: set[str] = await eventually(
        found, lambda seen: seen >= wanted, within=within, what=f"refusals {sorted(wanted)}"
    )
    return actions


# --------------------------------------------------------------------------- the registry


async def test_put_creates_then_replaces_and_get_reads_by_kind_and_parent_11(api: Api) -> None:
    """PUT /organisations/{id}: 201 created, 200 replaced; GET one (404 unknown) and the list by
    ``kind`` and ``parent_id``; every change is on the registry's audit chain."""
    created = await api.call("PUT", "/organisations/U-NEW", f.ADMIN, UNIT_BODY, expect=201)
    assert created.json() == {"id": "U-NEW", **UNIT_BODY, "members": None, "email": None}
    renamed = {**UNIT_BODY, "name": "改名单位", "email": "office@example.org"}
    await api.call("PUT", "/organisations/U-NEW", f.ADMIN, renamed, expect=200)
    one = await api.get("/organisations/U-NEW", f.APPLICANT)  # anyone signed in reads it
    assert (one["name"], one["email"]) == ("改名单位", "office@example.org")
    await api.get("/organisations/U-404", f.APPLICANT, expect=404)
    units = await api.get("/organisations", f.UNIT, kind="unit", parent_id="county-hr")
    assert [o["id"] for o in units["items"]] == ["U-001", "U-NEW", f.URUMQI_UNIT]
    committees = await api.get("/organisations", f.UNIT, kind="committee")
    assert {o["id"]: o["members"] for o in committees["items"]} == {
        f.COMMITTEE_ORG: 25,
        "other-committee": 25,
    }
    events = [e for e in await api.recorded("registry:organisations", 3)]
    assert [(e["action"], e["actor_id"]) for e in events[-2:]] == [
        ("put_organisation", f.ADMIN.id),
        ("put_organisation", f.ADMIN.id),
    ]
    assert json.loads(events[-1]["detail"])["after"] == {
        "name": "改名单位",
        "email": "office@example.org",
    }


async def test_put_refuses_what_would_break_the_registry_with_422_11(api: Api) -> None:
    """§11: a parent must exist and be an authority, no circle, members only (and always) for a
    committee, an id the service can hold; a kind a child or a campaign depends on stays."""
    cases = [
        ("U-X", {**UNIT_BODY, "parent_id": "nowhere"}, ["body", "parent_id"]),
        ("U-X", {**UNIT_BODY, "parent_id": "U-001"}, ["body", "parent_id"]),
        (
            "prefecture-transport",
            {"kind": "authority", "name": "环", "parent_id": "county-hr"},
            ["body", "parent_id"],
        ),
        ("C-X", {"kind": "committee", "name": "无人数委员会"}, ["body"]),
        ("U-X", {**UNIT_BODY, "members": 5}, ["body"]),
        ("bad id!", UNIT_BODY, ["path", "org_id"]),
        ("county-hr", {"kind": "finance_office", "name": "改为财务"}, ["body", "kind"]),
    ]
    for org_id, body, loc in cases:
        answer = await api.call("PUT", f"/organisations/{org_id}", f.ADMIN, body, expect=422)
        assert loc in locs(answer.json()), (org_id, answer.text)
    c = await api.campaign()
    answer = await api.call(
        "PUT",
        f"/organisations/{f.COMMITTEE_ORG}",
        f.ADMIN,
        {"kind": "authority", "name": "改为主管部门"},
        expect=422,
    )
    assert c.id in answer.text and "committee_org" in answer.text
    await api.get("/organisations/U-X", f.ADMIN, expect=404)


async def test_an_import_is_all_or_nothing_and_names_each_bad_row_11(api: Api) -> None:
    """POST /organisations/import (a JSON list): one bad row refuses the whole import; each bad
    row is named by its index and field (unknown parent, circle, wrong kind, an id twice, a
    parent that is not an authority); nothing is written."""
    rows = [
        {"id": "U-GOOD", **UNIT_BODY},
        {"id": "U-ORPHAN", **UNIT_BODY, "parent_id": "nowhere"},
        {"id": "U-GOOD", **UNIT_BODY},
        {"id": "U-SHOP", "kind": "shop", "name": "商店"},
        {"id": "U-UNDER", **UNIT_BODY, "parent_id": "U-001"},
        {"id": "A-1", "kind": "authority", "name": "甲", "parent_id": "A-2"},
        {"id": "A-2", "kind": "authority", "name": "乙", "parent_id": "A-1"},
    ]
    before = await asyncio.to_thread(audit_rows, api.settings, "registry:organisations")
    answer = await api.post("/organisations/import", f.ADMIN, rows, expect=422)
    found = {(e["loc"][1], e["loc"][2], e["id"]) for e in answer["errors"]}
    assert found == {
        (1, "parent_id", "U-ORPHAN"),
        (2, "id", "U-GOOD"),
        (3, "kind", "U-SHOP"),
        (4, "parent_id", "U-UNDER"),
        (5, "parent_id", "A-1"),
        (6, "parent_id", "A-2"),
    }
    await api.get("/organisations/U-GOOD", f.ADMIN, expect=404)
    after = await asyncio.to_thread(audit_rows, api.settings, "registry:organisations")
    assert after == before and len(before) == 1  # the fixture's own import, nothing since


async def test_csv_and_yaml_imports_name_each_bad_row_by_its_line_11(api: Api) -> None:
    """An administrator's spreadsheet (CSV) or file (YAML): a problem names its line; a good
    file is imported whole; a repeat changes nothing; other media types are 415."""
    csv = (
        "id,kind,name,region_code,region_name,parent_id,members,email\n"
        "U-C1,unit,甲单位,652901,阿克苏市,county-hr,,\n"
        "U-C2,unit,乙单位,,,nowhere,,\n"
        "U-C3,unit,丙单位,,,county-hr,7,\n"
    )
    response = await raw(api, csv, "text/csv")
    assert response.status_code == 422, response.text
    assert [(e["line"], e["id"]) for e in response.json()["errors"]] == [(3, "U-C2"), (4, "U-C3")]
    assert "第 3 行 / line 3" in response.json()["errors"][0]["msg"]
    fixed = csv.replace("nowhere", "county-hr").replace(",7,", ",,")
    response = await raw(api, fixed, "text/csv; charset=utf-8")
    assert response.status_code == 200, response.text
    assert response.json()["created"] == ["U-C1", "U-C2", "U-C3"]
    again = (await raw(api, fixed, "text/csv")).json()
    assert again["counts"] == {"created": 0, "replaced": 0, "unchanged": 3}

    yaml = "organisations:\n  - {id: U-Y1, kind: unit, name: 甲}\n  - {id: U-Y2, kind: unit}\n"
    response = await raw(api, yaml, "application/yaml")
    assert response.status_code == 422
    assert [(e["line"], e["loc"][1:]) for e in response.json()["errors"]] == [(3, [1, "name"])]
    assert (await raw(api, yaml, "application/xml")).status_code == 415
    assert (await raw(api, "{oops", "application/json")).status_code == 422


async def test_a_dry_run_says_what_would_change_and_writes_nothing_11(api: Api) -> None:
    """``?dry_run=true`` (the console's preview): created, replaced with the fields that change,
    unchanged, and every problem, without writing."""
    rows = [
        {
            "id": "U-001",
            "kind": "unit",
            "name": "阿克苏市公路管理站",
            "parent_id": "other-hr",
            "region": {"code": "652900", "name": "阿克苏地区"},
        },
        {"id": "U-NEW", **UNIT_BODY},
        {
            "id": "U-999",
            "kind": "unit",
            "name": "库车市运输服务中心",
            "parent_id": "other-hr",
            "region": {"code": "652900", "name": "阿克苏地区"},
        },
    ]
    preview = await api.post("/organisations/import?dry_run=true", f.ADMIN, rows)
    assert preview["dry_run"] is True and preview["problems"] == []
    assert preview["created"] == ["U-NEW"] and preview["unchanged"] == ["U-999"]
    assert preview["replaced"] == [
        {
            "id": "U-001",
            "fields": ["parent_id"],
            "before": {"parent_id": "county-hr"},
            "after": {"parent_id": "other-hr"},
        }
    ]
    assert (await api.get("/organisations/U-001", f.ADMIN))["parent_id"] == "county-hr"
    bad = await api.post(
        "/organisations/import?dry_run=true",
        f.ADMIN,
        [{"id": "U-B", **UNIT_BODY, "parent_id": "nowhere"}],
    )
    assert [(p["index"], p["field"]) for p in bad["problems"]] == [(0, "parent_id")]


async def test_the_example_registries_import_as_files_11(api: Api) -> None:
    """examples/organisations: each notice's registry imports whole, in any order."""
    total = 0
    for path in sorted(EXAMPLES.glob("*.yaml")):
        response = await raw(api, path.read_text(encoding="utf-8"), "application/yaml")
        assert response.status_code == 200, (path.name, response.text)
        total += response.json()["counts"]["created"]
    listed = await api.get("/organisations", f.ADMIN)
    assert listed["total"] == total + len(f.REGISTRY)


# --------------------------------------------------------------------------- campaigns


async def test_a_campaign_must_name_registered_bodies_of_their_kinds_11(api: Api) -> None:
    """POST /campaigns: committee_org required and a committee; top_authority where a route
    derives; finance offices and the confirming body registered with their kinds; 422 naming
    each field."""
    body = f.campaign_body(f.campaign(await api.now()))
    for change, field in (
        ({"committee_org": None}, "committee_org"),
        ({"committee_org": "U-001"}, "committee_org"),
        ({"top_authority": None}, "top_authority"),
        ({"top_authority": "nowhere"}, "top_authority"),
        ({"finance_orgs": ["U-001"]}, "finance_orgs"),
        ({"result_confirmation_required": True}, "confirming_org"),
        (
            {"result_confirmation_required": True, "confirming_org": "other-committee"},
            "confirming_org",
        ),
        (
            {"routes": {"directed": {}, "private_enterprise": {"authority_chain": ["nowhere"]}}},
            "routes",
        ),
    ):
        answer = await api.post("/campaigns", f.ADMIN, {**body, **change}, expect=422)
        assert any(field in e["loc"] for e in answer["errors"]), (change, answer)


async def test_authority_levels_and_committee_members_are_ignored_with_a_warning_11(
    api: Api,
) -> None:
    """Gone in version 3, accepted for one version: 201 with a warning each, and not stored."""
    c = f.campaign(await api.now(), authority_levels=["friendly-bureau"], committee_members=3)
    created = await api.post("/campaigns", f.ADMIN, c.model_dump(mode="json"), expect=201)
    assert created["id"] == c.id and len(created["warnings"]) == 2
    assert any("authority_levels" in w for w in created["warnings"])
    stored = await api.get(f"/campaigns/{c.id}", f.ADMIN)
    assert stored["authority_levels"] == [] and stored["committee_members"] is None
    d = await api.file(Campaign.model_validate(stored))  # its chain: derived, not the levels
    assert (await api.view(d))["authority_chain"] == f.CHAIN


# --------------------------------------------------------------------------- declarations


async def test_the_chain_is_derived_and_in_the_view_and_history_2_4(api: Api) -> None:
    """§2.4 (000 逐级提交): the unit's registered authorities up to the campaign's top authority,
    fixed at creation: in the view and in the first event of the history. The region is the
    unit's (§5): the typed affiliation is replaced by the registered region's name."""
    c = await api.campaign()
    typed = f.declaration_body(c, applicant=f.applicant(affiliation="乌鲁木齐市"))
    d = (await api.post("/declarations", f.APPLICANT, typed, expect=201))["id"]
    await api.recorded(d)
    view = await api.view(d)
    assert view["authority_chain"] == f.CHAIN
    assert view["applicant"]["affiliation"] == "阿克苏地区"  # U-001's region, not the typed one
    events = (await api.get(f"/declarations/{d}/history", AUDITOR))["events"]
    assert events[0]["action"] == "created"
    assert events[0]["detail"]["authority_chain"] == f.CHAIN
    private = await api.file(c, route="private_enterprise")
    assert (await api.view(private))["authority_chain"] == [f.EMPLOYMENT_SERVICE]  # 001 三(二)


async def test_a_declaration_outside_the_registry_is_refused_with_422_2_1_2_4(
    api: Api, settings: Settings
) -> None:
    """An unregistered unit, a body that is not a unit, a chain other than the derived one
    (``[]`` skipping the levels, or a friendly bureau), a series or specialty the campaign does
    not review, an invalid ID number, a region sent: 422 naming the field, nothing created and
    nothing audited."""
    c = await api.campaign()
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"unit_id": "U-404"}, ["body", "unit_id"]),
        ({"unit_id": "county-hr"}, ["body", "unit_id"]),
        ({"authority_chain": []}, ["body", "authority_chain"]),
        ({"authority_chain": ["friendly-bureau"]}, ["body", "authority_chain"]),
        ({"series": "economics"}, ["body", "series"]),
        ({"specialty": "textile"}, ["body", "specialty"]),
        ({"route": "entrusted"}, ["body", "route"]),
    ]
    for change, loc in cases:
        body = {**f.declaration_body(c), **change}
        answer = await api.post("/declarations", f.APPLICANT, body, expect=422)
        assert loc in locs(answer), (change, answer)
    body = f.declaration_body(c)
    body.pop("series")
    assert ["body", "series"] in locs(await api.post("/declarations", f.APPLICANT, body, 422))
    body = f.declaration_body(c)
    body["applicant"]["id_number"] = body["applicant"]["id_number"][:17] + (
        "0" if body["applicant"]["id_number"][17] != "0" else "1"
    )
    answer = await api.post("/declarations", f.APPLICANT, body, expect=422)
    assert ["body", "applicant", "id_number"] in locs(answer)
    body = {**f.declaration_body(c), "region": {"code": "650100", "name": "乌鲁木齐市"}}
    await api.post("/declarations", f.APPLICANT, body, expect=422)
    assert await asyncio.to_thread(audit_rows, settings, f"campaign:{c.id}") == []
    assert await asyncio.to_thread(audit_rows, settings, "api:access") == []
    sent = {**f.declaration_body(c), "authority_chain": f.CHAIN}  # the derived one: accepted
    first = await api.post("/declarations", f.APPLICANT, sent, expect=201)
    await api.recorded(first["id"])
    assert (await api.get("/declarations", f.ADMIN, campaign_id=c.id))["total"] == 1
    lower = {**f.declaration_body(c)}
    lower["applicant"]["id_number"] = f.id_number("11010519491231002").lower()
    created = await api.post("/declarations", f.APPLICANT, lower, expect=201)
    view = await api.view(created["id"])
    assert view["applicant"]["id_number"] == "11010519491231002X"  # …x is stored as …X


async def test_an_applicant_token_files_through_its_own_unit_only_11(
    api: Api, settings: Settings
) -> None:
    """docs/rules.md §14: an applicant token's ``org`` is the unit it files through (403, audited)."""
    c = await api.campaign()
    member = Actor(id="applicant-u1", role="applicant", org="U-001")
    await api.file(c, applicant=member)
    body = f.declaration_body(c, unit_id="U-999")
    await api.post("/declarations", member, body, expect=403)
    assert await refused_by(settings, f"campaign:{c.id}", member.id)


async def test_moving_a_unit_changes_the_chain_of_later_declarations_only_11(api: Api) -> None:
    """§11: U-001 moves from county-hr to other-hr: a declaration filed before keeps its chain
    (the county still decides it), one filed after goes through other-hr; lists follow."""
    c = await api.campaign()
    before = await api.file(c)
    moved = {
        "kind": "unit",
        "name": "阿克苏市公路管理站",
        "parent_id": "other-hr",
        "region": {"code": "652900", "name": "阿克苏地区"},
    }
    await api.call("PUT", "/organisations/U-001", f.ADMIN, moved, expect=200)
    after = await api.file(c, applicant=Actor(id="applicant-after", role="applicant"))
    assert (await api.view(before))["authority_chain"] == f.CHAIN
    assert (await api.view(after))["authority_chain"] == ["other-hr", f.TOP_AUTHORITY]
    other_hr = Actor(id="other-hr-reviewer", role="authority_reviewer", org="other-hr")
    mine = {i["id"] for i in (await api.get("/declarations", other_hr))["items"]}
    county = {i["id"] for i in (await api.get("/declarations", f.COUNTY))["items"]}
    assert mine == {after} and county == {before}
    view = await api.to_committee(before)  # through county-hr and prefecture-transport
    assert view["authority_chain"] == f.CHAIN


# --------------------------------------------------------------------------- who may act


async def test_no_decision_route_admits_an_auditor_or_an_administrator_11() -> None:
    """§11: auditors and administrators read everything and change nothing of a declaration;
    only an objection (any signed-in person, docs/rules.md §15) is open to them."""
    for name in BINDINGS:
        roles = gate(COMMANDS[name]).__metadata__[0].dependency.roles
        if name == "lodge_objection":
            continue
        assert not roles & {"auditor", "admin"}, (name, roles)


async def test_committee_and_finance_act_only_for_their_campaigns_11(
    api: Api, settings: Settings
) -> None:
    """§11: another committee may neither read nor decide; another finance office may neither
    read nor record the fee, one by one or in a batch (403, audited on the declaration). Their
    inboxes hold only their own campaigns' declarations; authority reviewers read every level of
    the chain but decide only their own (409)."""
    c = await api.campaign()
    d = await api.file(c)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    view = await api.decide(d, f.UNIT, "unit_review", opinion="同意")
    await api.skip_past(view["deadlines"]["publicity_ends"])
    await api.wait_state(d, "unit_recommendation")
    await api.decide(
        d, f.UNIT, "unit_recommendation", opinion="同意推荐", publicity_result_ref="公示结果-1"
    )
    await api.get(f"/declarations/{d}", f.PREFECTURE)  # a later level reads it
    await api.decide(d, f.PREFECTURE, "authority_review", expect=409)  # not its turn
    await api.decide(d, f.COUNTY, "authority_review")
    await api.decide(d, f.PREFECTURE, "authority_review")

    await api.get(f"/declarations/{d}", f.OTHER_COMMITTEE, expect=403)
    await api.decide(d, f.OTHER_COMMITTEE, "committee_formal_review", expect=403)
    assert await refused_by(settings, d, f.OTHER_COMMITTEE.id)
    assert [i["id"] for i in (await api.get("/inbox", f.COMMITTEE))["items"]] == [d]
    assert (await api.get("/inbox", f.OTHER_COMMITTEE))["items"] == []
    view = await api.decide(d, f.COMMITTEE, "committee_formal_review")
    assert view["state"] == "fee_pending"

    assert [i["id"] for i in (await api.get("/inbox", f.FINANCE))["items"]] == [d]
    assert (await api.get("/inbox", f.OTHER_FINANCE))["items"] == []
    await api.get(f"/declarations/{d}", f.OTHER_FINANCE, expect=403)
    pay = {"amount": 550, "receipt_no": "R-OTHER"}
    await api.post(f"/declarations/{d}/payments", f.OTHER_FINANCE, pay, expect=403)
    batch = {
        "receipt_no": "B-OTHER",
        "payer_org": "U-001",
        "items": [{"declaration_id": d, "amount": 550}],
    }
    answer = await api.post("/payments", f.OTHER_FINANCE, batch, expect=403)
    assert d in answer["detail"]
    wanted = {"get_declaration", "record_payment", "record_batch_payment"}
    assert await refused_actions(settings, d, f.OTHER_FINANCE.id, wanted) == wanted
    assert (await api.view(d))["fee"]["paid"] is False
    await api.post("/payments", f.FINANCE, {**batch, "receipt_no": "B-1"})
    assert (await api.view(d))["fee"]["paid"] is True


async def test_campaign_pages_of_another_committee_are_403_11(api: Api, settings: Settings) -> None:
    """§11: the defense schedule, report, announcement, meetings and deadline changes of a
    campaign are its own committee's (and the admin's); another committee is refused (audited
    on the campaign's chain)."""
    c = await api.campaign()
    chain = f"campaign:{c.id}"
    await api.get(f"/campaigns/{c.id}/defenses", f.OTHER_COMMITTEE, expect=403)
    await api.get(f"/campaigns/{c.id}/report", f.OTHER_COMMITTEE, expect=403)
    await api.post(f"/campaigns/{c.id}/announcement", f.OTHER_COMMITTEE, expect=403)
    await api.post(f"/campaigns/{c.id}/deadlines", f.OTHER_COMMITTEE, {}, expect=403)
    await api.get(f"/campaigns/{c.id}/defenses", f.COMMITTEE)
    await api.get(f"/campaigns/{c.id}/report", f.COMMITTEE)
    wanted = {"defense_schedule", "campaign_report", "announcement", "change_deadlines"}
    assert await refused_actions(settings, chain, f.OTHER_COMMITTEE.id, wanted) == wanted


async def test_the_quorum_counts_the_committees_registered_members_2_8_11(api: Api) -> None:
    """§2.8, §11 (40号令 出席专家不少于评审委员会人数的2/3): registered with 30 members, a meeting
    of 19 has no quorum (19 < 20), though it would of the 25 typed before the registry."""
    c = await api.campaign()
    d = await api.file(c)
    await api.to_committee(d)
    await api.to_committee_review(d)
    committee = {"kind": "committee", "name": "阿克苏地区交通运输局评审委员会", "members": 30}
    await api.call("PUT", f"/organisations/{f.COMMITTEE_ORG}", f.ADMIN, committee)
    tally = {"attending": 19, "in_favor": 19, "against": 0, "abstain": 0}
    refused = await api.post(f"/declarations/{d}/vote", f.COMMITTEE, tally, expect=409)
    assert "2/3" in refused["detail"]
    present = [f"E{i:02d}" for i in range(19)]  # the same 19 at a meeting recorded in bulk
    meeting = {
        "meeting_id": "M-QUORUM",
        "held_at": (await api.now()).isoformat(),
        "members_present": present,
        "votes": [{"declaration_id": d, "in_favor": 19, "against": 0, "abstain": 0}],
    }
    answer = await api.post(f"/campaigns/{c.id}/meetings", f.COMMITTEE, meeting, expect=201)
    (result,) = answer["results"]
    assert (result["outcome"], result["quorum_met"]) == ("refused", False)
    view = await api.post(
        f"/declarations/{d}/vote",
        f.COMMITTEE,
        {"attending": 20, "in_favor": 20, "against": 0, "abstain": 0},
    )
    assert view["vote"]["members"] == 30 and view["vote"]["quorum_met"] is True
    assert view["state"] == "result_publicity"


async def test_the_confirming_body_reads_the_declarations_it_confirms_12(api: Api) -> None:
    """§2.10, §12 (40号令 审核确认; 002 五(四) 委托评审): a reviewer of the campaign's
    ``confirming_org`` reads its declarations, though not on their chain; any other authority
    off the chain does not."""
    c = await api.campaign(result_confirmation_required=True, confirming_org="other-hr")
    d = await api.file(c)
    confirming = Actor(id="confirmer", role="authority_reviewer", org="other-hr")
    await api.get(f"/declarations/{d}", confirming)
    assert {i["id"] for i in (await api.get("/declarations", confirming))["items"]} == {d}
    stranger = Actor(id="stranger", role="authority_reviewer", org=f.EMPLOYMENT_SERVICE)
    await api.get(f"/declarations/{d}", stranger, expect=403)
    assert (await api.get("/declarations", stranger))["items"] == []


async def test_a_route_not_opened_or_a_claim_short_of_its_route_is_refused_12(
    api: Api, settings: Settings
) -> None:
    """§12: a route the campaign does not open, or a 直接认定 claim with fewer than three
    consecutive years of service (004 附件2 三(二)), is 422 naming the field; an entrusted
    declaration submitted without its 委托评审函 (002 五(四)) is 409 and the refusal is audited.
    Three years are accepted, shown in the view and, without three 优秀 appraisals, flagged."""
    routes: dict[str, Any] = {"directed": {}, "entrusted": {}, "direct_recognition": {}}
    c = await api.campaign(routes=routes, confirming_org="prefecture-transport")
    body = {**f.declaration_body(c), "route": "aid_xinjiang"}
    assert ["body", "route"] in locs(await api.post("/declarations", f.APPLICANT, body, 422))

    def served(*years: int) -> list[dict[str, Any]]:
        return [{"year": y, "place": "阿克苏市依干其乡"} for y in years]

    body = {
        **f.declaration_body(c),
        "route": "direct_recognition",
        "service_years": served(2022, 2023),
    }
    answer = await api.post("/declarations", f.APPLICANT, body, expect=422)
    (error,) = [e for e in answer["errors"] if e["loc"] == ["body", "service_years"]]
    assert "连续参加基层服务工作三年" in error["msg"]
    d = await api.file(c, route="direct_recognition", service_years=served(2021, 2022, 2023))
    view = await api.view(d)
    assert [y["year"] for y in view["service_years"]] == [2021, 2022, 2023]
    assert "service_not_excellent" in view["flags"]  # the factory's appraisals are 合格

    entrusted = await api.file(c, route="entrusted")
    answer = await api.post(f"/declarations/{entrusted}/submit", f.APPLICANT, expect=409)
    assert "委托评审函" in answer["detail"]
    assert await refused_by(settings, entrusted, f.APPLICANT.id)
    assert (await api.view(entrusted))["state"] == "draft"
