"""Deny by default, for the console too: every console route is in this table with the roles it
admits, and each form admits exactly whom the API endpoint it stands for admits (the console's
gates are copied from the API routes', never written twice). Public: the sign-in page, signing
out and the static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.app import api_routes, create_app
from api.console.auth import roles_of
from api.deps import Allow, Public
from api.routes import meetings
from settings import Settings

ALL = frozenset(
    {"applicant", "unit_reviewer", "authority_reviewer", "committee", "finance", "auditor", "admin"}
)
READERS = frozenset({"committee", "auditor", "admin"})
AUDITORS = frozenset({"auditor", "admin"})
ADMIN = frozenset({"admin"})
DECL = "/declarations/{declaration_id}"
#: POST /campaigns/{id}/meetings, by its route's actor alias (the route may not be mounted yet).
MEETINGS = meetings.Committee

#: (method, console path) -> (roles or None for public, the API route it stands for: its method
#: and path, or its actor alias; or None).
TABLE: dict[tuple[str, str], tuple[frozenset[str] | None, Any]] = {
    ("GET", "/console/login"): (None, None),
    ("POST", "/console/login"): (None, None),
    ("POST", "/console/logout"): (None, None),
    ("GET", "/console/static/{name}"): (None, None),
    ("GET", "/console"): (ALL, None),
    ("GET", "/console/inbox"): (ALL, ("GET", "/inbox")),
    ("GET", f"/console{DECL}"): (ALL, ("GET", DECL)),
    ("POST", f"/console{DECL}/submit"): (frozenset({"applicant"}), ("POST", f"{DECL}/submit")),
    ("POST", f"/console{DECL}/withdraw"): (frozenset({"applicant"}), ("POST", f"{DECL}/withdraw")),
    ("POST", f"/console{DECL}/decisions"): (
        frozenset({"unit_reviewer", "authority_reviewer", "committee"}),
        ("POST", f"{DECL}/decisions"),
    ),
    ("POST", f"/console{DECL}/objections"): (ALL, ("POST", f"{DECL}/objections")),
    ("POST", f"/console{DECL}/objections/{{objection_id}}/resolution"): (
        frozenset({"unit_reviewer", "committee"}),
        ("POST", f"{DECL}/objections/{{objection_id}}/resolution"),
    ),
    ("POST", f"/console{DECL}/payments"): (frozenset({"finance"}), ("POST", f"{DECL}/payments")),
    ("POST", f"/console{DECL}/materials-received"): (
        frozenset({"committee"}),
        ("POST", f"{DECL}/materials-received"),
    ),
    ("POST", f"/console{DECL}/defense"): (frozenset({"committee"}), ("POST", f"{DECL}/defense")),
    ("POST", f"/console{DECL}/vote"): (frozenset({"committee"}), ("POST", f"{DECL}/vote")),
    ("POST", f"/console{DECL}/misconduct"): (
        frozenset({"committee", "authority_reviewer"}),
        ("POST", f"{DECL}/misconduct"),
    ),
    ("POST", f"/console{DECL}/materials"): (
        frozenset({"applicant", "unit_reviewer"}),
        ("POST", f"{DECL}/materials"),
    ),
    ("GET", f"/console{DECL}/materials/{{material_id}}"): (
        ALL,
        ("GET", f"{DECL}/materials/{{material_id}}"),
    ),
    ("GET", "/console/campaigns"): (READERS, None),
    ("GET", "/console/campaigns/{campaign_id}"): (READERS, None),
    ("GET", "/console/campaigns/{campaign_id}/publicity"): (READERS, None),
    ("GET", "/console/campaigns/{campaign_id}/meeting"): (frozenset({"committee"}), MEETINGS),
    ("POST", "/console/campaigns/{campaign_id}/meeting"): (frozenset({"committee"}), MEETINGS),
    ("GET", "/console/campaigns/{campaign_id}/deadlines"): (
        frozenset({"admin", "committee"}),
        ("POST", "/campaigns/{campaign_id}/deadlines"),
    ),
    ("POST", "/console/campaigns/{campaign_id}/deadlines"): (
        frozenset({"admin", "committee"}),
        ("POST", "/campaigns/{campaign_id}/deadlines"),
    ),
    ("GET", "/console/campaigns/{campaign_id}/reminders"): (
        READERS,
        ("GET", "/campaigns/{campaign_id}/deliveries"),
    ),
    ("POST", "/console/campaigns/{campaign_id}/reminders/retry"): (
        frozenset({"admin", "committee"}),
        ("POST", "/campaigns/{campaign_id}/deliveries/retry"),
    ),
    ("GET", "/console/dev/mail"): (ALL, None),
    ("GET", "/console/audit"): (AUDITORS, ("GET", "/audit/verify")),
    ("GET", "/console/audit/campaigns/{campaign_id}"): (AUDITORS, ("GET", "/audit/verify")),
    ("GET", f"/console/audit{DECL}"): (AUDITORS, ("GET", "/audit/verify")),
    ("GET", "/console/audit/declaration"): (AUDITORS, ("GET", "/audit/verify")),
    ("GET", "/console/audit/export"): (AUDITORS, ("GET", "/audit/export")),
    ("GET", f"/console/audit{DECL}/dossier"): (AUDITORS, ("GET", "/audit/export")),
    ("GET", "/console/audit/actors"): (AUDITORS, ("GET", "/audit/export")),
    ("GET", "/console/organisations"): (ADMIN, None),
    ("GET", "/console/organisations/new"): (ADMIN, ("PUT", "/organisations/{org_id}")),
    ("POST", "/console/organisations/new"): (ADMIN, ("PUT", "/organisations/{org_id}")),
    ("GET", "/console/organisations/{org_id}/edit"): (ADMIN, ("PUT", "/organisations/{org_id}")),
    ("POST", "/console/organisations/{org_id}/edit"): (ADMIN, ("PUT", "/organisations/{org_id}")),
    ("GET", "/console/organisations/import"): (ADMIN, ("POST", "/organisations/import")),
    ("POST", "/console/organisations/import"): (ADMIN, ("POST", "/organisations/import")),
}


@pytest.fixture
def bare_app(tmp_path: Path) -> FastAPI:
    """The app as built, without Temporal (nothing here reaches it)."""
    return create_app(Settings(database_url=f"sqlite:///{(tmp_path / 's.sqlite3').as_posix()}"))


def _gate(route: APIRoute) -> Allow | Public:
    def walk(dependant: object) -> list[Allow | Public]:
        found = [d.call for d in dependant.dependencies if isinstance(d.call, Allow | Public)]  # type: ignore[attr-defined]
        for sub in dependant.dependencies:  # type: ignore[attr-defined]
            found.extend(walk(sub))
        return found

    (gate,) = walk(route.dependant)
    return gate


def _routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    return {(m, r.path): r for r in api_routes(app.routes) for m in r.methods or ()}


def test_every_console_route_is_in_the_table_with_its_roles(bare_app: FastAPI) -> None:
    routes = _routes(bare_app)
    console = {key: route for key, route in routes.items() if key[1].startswith("/console")}
    assert set(console) == set(TABLE)
    for key, route in console.items():
        roles, _ = TABLE[key]
        gate = _gate(route)
        if roles is None:
            assert isinstance(gate, Public), key
        else:
            assert isinstance(gate, Allow) and gate.roles == roles, (key, gate)


def test_each_console_form_admits_whom_its_api_endpoint_admits(bare_app: FastAPI) -> None:
    routes = _routes(bare_app)
    for key, (roles, api) in TABLE.items():
        if api is None or roles is None:
            continue
        wanted = _gate(routes[api]).roles if isinstance(api, tuple) else roles_of(api)  # type: ignore[union-attr]
        assert _gate(routes[key]).roles == wanted, (key, api)  # type: ignore[union-attr]


def test_the_console_stays_out_of_the_api_schema(bare_app: FastAPI) -> None:
    paths = bare_app.openapi()["paths"]
    assert "/declarations/{declaration_id}/decisions" in paths
    assert not [p for p in paths if p.startswith("/console")]


async def test_static_files_are_served_and_nothing_beside_them(bare_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=bare_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as http:
        css = await http.get("/console/static/console.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        js = await http.get("/console/static/console.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        for probe in ("../auth.py", "..%2Fauth.py", "%2e%2e/render.py", "missing.css"):
            assert (await http.get(f"/console/static/{probe}")).status_code == 404, probe
