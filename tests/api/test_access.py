"""docs/rules.md §14 identity and access, as one table: every endpoint × every role × the right and
a wrong organisation (or account). No token, a bad signature, an expired token or an unknown role:
401 with ``WWW-Authenticate: Bearer``, never audited. Wrong role or organisation: 403, audited on
the declaration (or campaign, or the API's access chain) it concerns. Allowed: neither 401 nor 403,
and never a server error. The table must name every route the app has (deny by default: a new route
without a row fails here)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI

from api.app import api_routes, check_access_declared
from api.auth import mint_token
from domain.models import Actor, Campaign
from settings import Settings
from testing import factories as f
from testing.api import Api, audit_rows
from testing.eventually import eventually

ROLES = ("applicant", "unit_reviewer", "authority_reviewer", "committee", "finance", "auditor",
         "admin")  # fmt: skip


def actor_for(role: str, right: bool, n: int) -> Actor:
    """The right account or organisation for the declaration under test, or a wrong one."""
    if role == "applicant":
        return f.APPLICANT if right else Actor(id=f"applicant-other-{n}", role="applicant")
    if role == "unit_reviewer":
        return Actor(id=f"unit-{n}", role=role, org=f.UNIT.org if right else "U-999")
    if role == "authority_reviewer":
        return Actor(id=f"authority-{n}", role=role, org=f.COUNTY.org if right else "other-hr")
    if role == "committee":
        return Actor(
            id=f"committee-{n}", role=role, org=f.COMMITTEE.org if right else "other-committee"
        )
    if role == "finance":
        return Actor(id=f"finance-{n}", role=role, org=f.FINANCE.org if right else "other-finance")
    return Actor(id=f"{role}-{n}", role=role, org="" if right else "ORG-9")


Rule = Callable[[str, bool], bool]


def roles(*allowed: str) -> Rule:
    return lambda role, right: role in allowed


#: Roles that act only for their organisation (docs/rules.md §11): the filer's account, the unit,
#: the authority chain, the campaign's committee and its finance offices.
ORG_SCOPED = ("applicant", "unit_reviewer", "authority_reviewer", "committee", "finance")


def scoped(*anywhere: str) -> Rule:
    """``anywhere`` roles whatever their organisation; every other role only with the right
    account or organisation."""
    return lambda role, right: role in anywhere or (role in ORG_SCOPED and right)


def owner_or(*roles_: str, scoped_roles: tuple[str, ...]) -> Rule:
    return lambda role, right: role in roles_ or (role in scoped_roles and right)


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    action: str
    rule: Rule | None  # None: public
    chain: str = "declaration"  # where a 403 is audited: declaration, campaign or access
    body: Callable[[Campaign, str], Any] | None = None
    #: Where a 403 for the wrong organisation is audited, when not where a wrong role's is.
    org_chain: str | None = None


DECL = "/declarations/{declaration_id}"


def _campaign_body(c: Campaign, d: str) -> Any:
    return f.campaign(c.declaration_opens_at + timedelta(days=1)).model_dump(mode="json")


def _declaration_body(c: Campaign, d: str) -> Any:
    return f.declaration_body(c)


CASES: list[Case] = [
    Case("POST", "/campaigns", "create_campaign", roles("admin"), "access", _campaign_body),
    Case("GET", "/campaigns/{campaign_id}", "read_campaign", roles(*ROLES), "campaign"),
    Case("POST", "/campaigns/{campaign_id}/deadlines", "change_deadlines",
         owner_or("admin", scoped_roles=("committee",)), "campaign", lambda c, d: {}),
    Case("POST", "/declarations", "create_declaration", roles("applicant"), "access",
         _declaration_body),
    Case("GET", DECL, "get_declaration", scoped("auditor", "admin")),
    Case("GET", "/declarations", "list_declarations",
         roles("applicant", "unit_reviewer", "authority_reviewer", "committee", "auditor",
               "admin"), "access"),
    Case("GET", DECL + "/history", "get_history",
         owner_or("auditor", "admin", scoped_roles=("applicant", "unit_reviewer",
                                                    "authority_reviewer", "committee"))),
    Case("POST", DECL + "/submit", "submit", owner_or(scoped_roles=("applicant",))),
    Case("POST", DECL + "/decisions", "decide",
         owner_or(scoped_roles=("committee", "unit_reviewer", "authority_reviewer")),
         body=lambda c, d: {"stage": "unit_review", "outcome": "approve", "opinion": "同意"}),
    Case("POST", DECL + "/objections", "lodge_objection", roles(*ROLES),
         body=lambda c, d: {"text": "对公示内容有异议"}),
    Case("POST", DECL + "/objections/{objection_id}/resolution", "resolve_objection",
         owner_or(scoped_roles=("committee", "unit_reviewer")),
         body=lambda c, d: {"upheld": False, "opinion": "不属实"}),
    Case("POST", DECL + "/payments", "record_payment", owner_or(scoped_roles=("finance",)),
         body=lambda c, d: {"amount": 550, "receipt_no": "R-ACCESS"}),
    Case("POST", DECL + "/materials-received", "record_materials_received",
         owner_or(scoped_roles=("committee",)), body=lambda c, d: {"form_id": "RF-none"}),
    Case("POST", DECL + "/defense", "record_defense", owner_or(scoped_roles=("committee",)),
         body=lambda c, d: {"passed": True, "mode": "video", "score": None, "opinion": ""}),
    Case("POST", DECL + "/vote", "record_vote", owner_or(scoped_roles=("committee",)),
         body=lambda c, d: {"attending": 20, "in_favor": 20, "against": 0, "abstain": 0,
                            "recused": []}),
    Case("POST", "/payments", "record_batch_payment", owner_or(scoped_roles=("finance",)),
         "access", lambda c, d: {"receipt_no": "B-ACCESS", "payer_org": "U-001",
                                 "items": [{"declaration_id": d, "amount": 550}]},
         org_chain="declaration"),
    Case("POST", DECL + "/materials", "upload_material",
         owner_or(scoped_roles=("applicant", "unit_reviewer"))),
    Case("GET", DECL + "/materials", "list_materials", owner_or("auditor", "admin",
         scoped_roles=("applicant", "unit_reviewer", "authority_reviewer", "committee"))),
    Case("GET", DECL + "/materials/history", "material_history", owner_or("auditor", "admin",
         scoped_roles=("applicant", "unit_reviewer", "authority_reviewer", "committee"))),
    Case("GET", DECL + "/materials/{material_id}", "read_material", owner_or("auditor", "admin",
         scoped_roles=("applicant", "unit_reviewer", "authority_reviewer", "committee"))),
    Case("GET", "/inbox", "inbox", roles(*ROLES), "access"),
    Case("GET", "/audit/verify?declaration_id={declaration_id}", "verify_chain",
         roles("auditor", "admin"), "access"),
    Case("GET", "/audit/export?campaign_id={campaign_id}&format=csv", "export_trail",
         roles("auditor", "admin"), "access"),
    Case("PUT", "/calendar/{year}", "put_calendar", roles("admin"), "access",
         lambda c, d: {"version": "test-2031", "holidays": ["2031-10-01"], "workdays": []}),
    Case("GET", "/certificates/{number}", "check_certificate", None),
    Case("GET", "/certificates/{number}/pdf", "certificate_pdf",
         roles("applicant", "committee", "admin"), "access"),
    Case("GET", "/campaigns/{campaign_id}/deadline-changes/{change_id}",
         "deadline_change_progress", owner_or("admin", "auditor", scoped_roles=("committee",)),
         "campaign"),
    Case("POST", "/campaigns/{campaign_id}/close-review", "close_review",
         owner_or(scoped_roles=("committee",)), "campaign", lambda c, d: None),
    Case("GET", "/campaigns/{campaign_id}/close-review/{change_id}", "close_review_progress",
         owner_or("admin", "auditor", scoped_roles=("committee",)), "campaign"),
    Case("GET", "/campaigns/{campaign_id}/defenses", "defense_schedule",
         owner_or(scoped_roles=("committee",)), "campaign"),
    Case("GET", "/campaigns/{campaign_id}/publicity-list", "publicity_list", roles(*ROLES),
         "campaign"),
    Case("POST", "/campaigns/{campaign_id}/announcement", "announcement",
         owner_or("admin", scoped_roles=("committee",)), "campaign"),
    Case("GET", "/campaigns/{campaign_id}/report", "campaign_report",
         owner_or("admin", "auditor", scoped_roles=("committee",)), "campaign"),
    Case("POST", "/campaigns/{campaign_id}/meetings", "record_committee_meeting",
         owner_or(scoped_roles=("committee",)), "campaign",
         lambda c, d: {"meeting_id": "M-ACCESS", "held_at": c.declaration_opens_at.isoformat(),
                       "members_present": [f"m{i}" for i in range(20)],
                       "votes": [{"declaration_id": d, "in_favor": 20, "against": 0,
                                  "abstain": 0, "recused": []}]}),
    Case("PUT", "/organisations/{org_id}", "put_organisation", roles("admin"), "access",
         lambda c, d: {"kind": "unit", "name": "访问测试单位", "parent_id": "county-hr"}),
    Case("GET", "/organisations", "read_organisations", roles(*ROLES), "access"),
    Case("GET", "/organisations/{org_id}", "read_organisation", roles(*ROLES), "access"),
    Case("POST", "/organisations/import", "import_organisations", roles("admin"), "access",
         lambda c, d: [{"id": "U-ACCESS-2", "kind": "unit", "name": "访问测试单位二",
                        "parent_id": "county-hr"}]),
    Case("GET", "/audit/public-key", "public_key", None),
    Case("POST", "/codec/decode", "decode", roles("auditor", "admin"), "access",
         lambda c, d: {"payloads": []}),
    Case("POST", "/codec/encode", "encode", roles("auditor", "admin"), "access",
         lambda c, d: {"payloads": []}),
    Case("GET", "/reminders", "my_reminders", roles(*ROLES), "access"),
    Case("GET", "/campaigns/{campaign_id}/deliveries", "campaign_deliveries",
         owner_or("admin", "auditor", scoped_roles=("committee",)), "campaign"),
    Case("POST", "/campaigns/{campaign_id}/deliveries/retry", "retry_deliveries",
         owner_or("admin", scoped_roles=("committee",)), "campaign"),
    Case("GET", "/notification-addresses", "addresses", roles("admin"), "access"),
    Case("PUT", "/notification-addresses/{org_id}", "set_address", roles("admin"), "access",
         lambda c, d: {"email": "renshi@u-access.example.cn"}),
    Case("GET", "/healthz", "healthz", None),
    Case("GET", "/problems/{kind}", "problem_kind", None),
    Case("GET", "/readyz", "readyz", None),
    Case("GET", "/metrics", "metrics", None),
    Case("GET", "/docs", "swagger_ui", None),
    Case("GET", "/docs/oauth2-redirect", "swagger_ui_redirect", None),
    Case("GET", "/docs/assets/{name}", "docs_asset", None),
    Case("GET", "/redoc", "redoc", None),
    # Last: these end the declaration, so later refusals on it take the ended path too.
    Case("POST", DECL + "/withdraw", "withdraw", owner_or(scoped_roles=("applicant",)),
         body=lambda c, d: {"reason": "个人原因"}),
    Case("POST", DECL + "/misconduct", "record_misconduct",
         owner_or(scoped_roles=("committee", "authority_reviewer")),
         body=lambda c, d: {"finding": "材料造假", "unit_at_fault": False}),
]  # fmt: skip


def _template(path: str) -> str:
    return path.split("?")[0]


def test_the_table_names_every_route_of_the_app(app: FastAPI) -> None:
    """Deny by default: create_app refuses a route without an access rule, and this table must
    cover every route there is."""
    routes = {
        (method, route.path) for route in api_routes(app.routes) for method in route.methods or ()
        if not route.path.startswith("/console")  # the browser console: tests/console
    }  # fmt: skip
    assert routes == {(c.method, _template(c.path)) for c in CASES}
    check_access_declared(app)


def test_an_app_with_a_route_that_names_no_roles_is_refused(app: FastAPI) -> None:
    @app.get("/unguarded")
    async def unguarded() -> None:  # pragma: no cover - never served
        return None

    with pytest.raises(RuntimeError, match="/unguarded"):
        check_access_declared(app)


def _path(case: Case, campaign_id: str, declaration_id: str) -> str:
    return case.path.format(campaign_id=campaign_id, declaration_id=declaration_id,
                            objection_id="obj-1", year=2031, number="RC-none-000001",
                            change_id="none", org_id="U-ACCESS", name="swagger-ui.css",
                            kind="conflict", material_id="M-000000000000")  # fmt: skip


def _chain(case: Case, campaign_id: str, declaration_id: str) -> str:
    return {
        "declaration": declaration_id,
        "campaign": f"campaign:{campaign_id}",
        "access": "api:access",
    }[case.chain]


async def _audited_403(
    settings: Settings, chain: str, after_seq: int, actor: Actor, action: str
) -> bool:
    def audited(rows: list[dict[str, Any]]) -> bool:
        return any(
            row["seq"] > after_seq
            and row["outcome"] == "refused"
            and row["actor_id"] == actor.id
            and row["actor_role"] == actor.role
            and row["action"] == action
            and json.loads(row["detail"]).get("status") == 403
            for row in rows
        )

    await eventually(
        lambda: asyncio.to_thread(audit_rows, settings, chain),
        audited,
        within=10,
        what=f"a 403 of {actor.id} ({actor.role}) for {action} audited on {chain}",
    )
    return True


def _last_seq(settings: Settings, chain: str) -> int:
    rows = audit_rows(settings, chain)
    return rows[-1]["seq"] if rows else 0


async def test_every_endpoint_every_role_right_and_wrong_organisation(
    api: Api, settings: Settings
) -> None:
    """docs/rules.md §14-§16: who may call what; every 403 is audited where it belongs."""
    c = await api.campaign()
    d = await api.file(c)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    n = 0
    for case in CASES:
        path = _path(case, c.id, d)
        for role in ROLES:
            for right in (True, False):
                n += 1
                actor = actor_for(role, right, n)
                chain = _chain(case, c.id, d)
                before = await asyncio.to_thread(_last_seq, settings, chain)
                body = case.body(c, d) if case.body else None
                response = await api.call(case.method, path, actor, body, expect=None)
                where = f"{case.method} {path} as {role} ({'right' if right else 'wrong'} org)"
                assert response.status_code < 500, (where, response.text)
                if case.rule is None or case.rule(role, right):
                    assert response.status_code not in (401, 403), (where, response.text)
                    continue
                assert response.status_code == 403, (where, response.text)
                if case.rule(role, True) and case.org_chain:  # the role may, the org may not
                    chain = _chain(
                        Case(case.method, case.path, case.action, None, case.org_chain), c.id, d
                    )
                    before = 0
                assert await _audited_403(settings, chain, before, actor, case.action), where


def _tokens(settings: Settings) -> dict[str, dict[str, str]]:
    good = mint_token(settings, "admin-1", "admin", "")
    forged = jwt.encode({"sub": "admin-1", "role": "admin", "org": ""}, "not-the-secret-but-just-as-long-0123456789",
                        algorithm="HS256")  # fmt: skip
    expired = mint_token(settings, "admin-1", "admin", "", ttl=timedelta(hours=-1))
    unknown_role = jwt.encode({"sub": "x", "role": "superuser", "org": ""}, settings.jwt_secret,
                              algorithm="HS256")  # fmt: skip
    none_alg = jwt.encode({"sub": "admin-1", "role": "admin", "org": ""}, "", algorithm="none")
    assert good
    return {
        "no token": {},
        "not bearer": {"Authorization": f"Basic {good}"},
        "bad signature": {"Authorization": f"Bearer {forged}"},
        "expired": {"Authorization": f"Bearer {expired}"},
        "unknown role": {"Authorization": f"Bearer {unknown_role}"},
        "alg none": {"Authorization": f"Bearer {none_alg}"},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
    }


@pytest.mark.parametrize(
    "kind",
    ["no token", "not bearer", "bad signature", "expired", "unknown role", "alg none", "garbage"],
)
async def test_no_valid_token_is_401_on_every_non_public_endpoint_and_never_audited(
    api: Api, settings: Settings, kind: str
) -> None:
    """docs/rules.md §14: no token or a bad one: 401 (with a Bearer challenge); public endpoints
    answer without one; 401s are not audited (no identity)."""
    c = await api.campaign()
    d = await api.file(c)
    headers = _tokens(settings)[kind]
    trail = await asyncio.to_thread(audit_rows, settings, d)
    for case in CASES:
        path = _path(case, c.id, d)
        body = case.body(c, d) if case.body else None
        response = await api.http.request(case.method, path, json=body, headers=headers)
        if case.rule is None:
            assert response.status_code not in (401, 403), (case.path, response.text)
            continue
        assert response.status_code == 401, (kind, case.path, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert await asyncio.to_thread(audit_rows, settings, d) == trail
    assert await asyncio.to_thread(audit_rows, settings, "api:access") == []
    assert await asyncio.to_thread(audit_rows, settings, f"campaign:{c.id}") == []
