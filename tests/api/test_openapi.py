"""The OpenAPI document states what the API answers (docs/rules.md §16, §17): every operation
documents each status its route can answer by what it is made of, every error is a problem
document, every string refuses NUL; and every path answers ``OPTIONS`` (and a method it does not
serve) with all of its methods in ``Allow``.

The statuses are derived from the routes in one place (``api.openapi``); these tests hold the
document against the routes independently, so a route added without them, or a change to the
derivation, fails here rather than in a client."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from api.app import create_app
from api.auth import mint_token
from api.deps import Allow, Public
from api.openapi import api_routes, gates
from api.policy import ALL_ROLES
from api.problems import MEDIA_TYPE
from api.routes.decisions import BINDINGS
from domain.commands import COMMANDS
from domain.models import Campaign
from settings import Settings
from testing import factories as f

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    path = tmp_path_factory.mktemp("openapi") / "db.sqlite3"
    app = create_app(Settings(database_url=f"sqlite:///{path.as_posix()}"))
    app.state.services.store.migrate()  # no lifespan runs here (nor Temporal is needed)
    return app


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method in HTTP_METHODS:
                yield method.upper(), path, operation


def by_operation_id(app: FastAPI) -> dict[str, Any]:
    return {route.unique_id: route for route in api_routes(app.routes) if route.include_in_schema}


def test_every_operation_documents_the_statuses_its_route_can_answer(
    app: FastAPI, document: dict[str, Any]
) -> None:
    """401 where a token is required; 403 where the role gate admits fewer than every role;
    404 where the path names something; 400, 413 and 422 where there is a body; 422 everywhere
    (a NUL in any path or query); never FastAPI's own 422 body."""
    routes = by_operation_id(app)
    missing: list[str] = []
    for method, path, operation in operations(document):
        documented = set(operation["responses"])
        route = routes[operation["operationId"]]
        found = gates(route.dependant)
        assert found, f"{method} {path}: no access rule"
        wanted = {"422"}
        if operation.get("security"):
            wanted |= {"401"}
            assert any(isinstance(g, Allow) for g in found), f"{method} {path}: token, no gate"
        else:
            assert all(isinstance(g, Public) for g in found), f"{method} {path}: a gate, no token"
        if any(isinstance(g, Allow) and g.roles < frozenset(ALL_ROLES) for g in found):
            wanted |= {"403"}
        if "{" in path:
            wanted |= {"404"}
        if "requestBody" in operation:
            wanted |= {"400", "413", "422"}
        missing += [f"{method} {path}: {status}" for status in sorted(wanted - documented)]
    assert missing == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_error_is_documented_as_a_problem(document: dict[str, Any]) -> None:
    """Each 4xx and 5xx is ``application/problem+json`` with the problem-details schema, but
    the readiness probe's 503, which answers the same body as its 200."""
    wrong = []
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400 or (path, status) == ("/readyz", "503"):
                continue
            schema = response.get("content", {}).get(MEDIA_TYPE, {}).get("schema", {})
            if schema.get("$ref") != "#/components/schemas/ProblemDetails":
                wrong.append(f"{method} {path} {status}")
            if not response.get("description"):
                wrong.append(f"{method} {path} {status}: no description")
    assert wrong == []
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])


def test_routes_declare_the_refusals_only_they_answer(document: dict[str, Any]) -> None:
    """409s, 415s and the 404 of a body's id are the route's own; spot-check that they are
    documented where the API answers them."""
    expected = {
        ("POST", "/campaigns"): {"409"},
        ("POST", "/declarations"): {"404", "409"},
        ("GET", "/declarations/{declaration_id}"): {"403"},
        ("POST", "/payments"): {"409"},
        ("PUT", "/calendar/{year}"): {"202", "409"},
        ("POST", "/organisations/import"): {"415"},
        ("POST", "/declarations/{declaration_id}/materials"): {"409", "413", "415"},
        ("POST", "/campaigns/{campaign_id}/close-review"): {"202", "409"},
        ("POST", "/codec/decode"): {"404"},
        ("GET", "/certificates/{number}/pdf"): {"409"},
    }
    for binding in BINDINGS.values():
        expected[("POST", f"/declarations/{{declaration_id}}{binding.path}")] = {"409"}
    documented = {(m, p): set(o["responses"]) for m, p, o in operations(document)}
    assert {k: v - documented[k] for k, v in expected.items() if v - documented[k]} == {}


def _strings(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        if schema.get("type") == "string" and "format" not in schema and "enum" not in schema:
            yield schema
        for key, value in schema.items():
            if key not in ("not", "propertyNames", "default", "examples"):
                yield from _strings(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _strings(item)


def test_every_request_string_refuses_nul(document: dict[str, Any]) -> None:
    """The request limits refuse NUL in any text (422); the document says so for every string
    of a parameter or a body (``not: {pattern: "\\u0000"}``)."""
    schemas = [p["schema"] for _, _, o in operations(document) for p in o.get("parameters", [])] + [
        media["schema"]
        for _, _, o in operations(document)
        for media in o.get("requestBody", {}).get("content", {}).values()
    ]
    components = document["components"]["schemas"]
    schemas += [s for name, s in components.items() if not name.startswith("Problem")]
    strings = [s for schema in schemas for s in _strings(schema)]
    assert len(strings) > 100
    assert [s for s in strings if s.get("not") != {"pattern": "\\u0000"}] == []


def test_decision_bodies_state_their_commands_constraints(document: dict[str, Any]) -> None:
    """Each decision route's body carries the bounds its command enforces when it is built
    (api.commands.build), so a schema-valid body is never refused there."""
    keywords = ["maxLength", "minLength", "maximum", "minimum", "exclusiveMinimum"]
    keywords += ["maxItems", "minItems", "pattern", "enum"]
    loose = []
    for name, binding in BINDINGS.items():
        command = COMMANDS[name].model.model_json_schema()["properties"]
        body = binding.body.model_json_schema()["properties"]
        for field, schema in body.items():
            for keyword in keywords:
                theirs = _keyword(command.get(field, {}), keyword)
                if theirs is not None and _keyword(schema, keyword) is None:
                    loose.append(f"{name}.{field}: {keyword}")
    assert loose == []


def _keyword(schema: dict[str, Any], keyword: str) -> Any:
    if keyword in schema:
        return schema[keyword]
    for option in schema.get("anyOf", []):
        if keyword in option:
            return option[keyword]
    items = schema.get("items")
    return _keyword(items, keyword) if isinstance(items, dict) else None


async def test_options_names_every_method_of_the_path(
    http: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    """``OPTIONS /declarations`` said ``Allow: POST`` (the first route that matched): every path
    now answers 204 with each method it serves, and a method it does not serve is 405 with the
    same ``Allow``, as a problem document."""
    answer = await http.options("/declarations")
    assert answer.status_code == 204
    assert answer.headers["allow"] == "GET, POST, OPTIONS"
    templates = {
        re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"): methods
        for path, methods in document["paths"].items()
    }
    for path in document["paths"]:
        concrete = path.replace("{year}", "2025").replace("{", "").replace("}", "")
        # Every documented path the concrete one fits (``/organisations/import`` is also
        # ``/organisations/{org_id}``: an organisation may be called "import").
        served = {
            m.upper()
            for pattern, methods in templates.items()
            if pattern.match(concrete)
            for m in methods
            if m in HTTP_METHODS
        }
        answer = await http.options(concrete)
        assert answer.status_code == 204, path
        assert set(answer.headers["allow"].split(", ")) == served | {"OPTIONS"}, path
        unserved = next(m for m in ("DELETE", "PATCH", "PUT", "POST") if m not in served)
        refused = await http.request(unserved, concrete)
        assert refused.status_code == 405, (unserved, path)
        assert refused.headers["allow"] == answer.headers["allow"]
        assert refused.headers["content-type"] == MEDIA_TYPE
        assert refused.json()["type"] == "/problems/method-not-allowed"
    assert (await http.options("/no-such-path")).status_code == 404


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/audit/verify", "audit.one_scope"),
        ("/audit/export?format=csv", "audit.one_scope"),
    ],
)
async def test_a_rule_no_schema_states_names_itself(
    http: httpx.AsyncClient, path: str, code: str
) -> None:
    """A 422 the document cannot foresee (one of two query parameters) carries its rule as
    ``code`` and as each error's ``type``; its kind stays ``invalid-input``."""
    settings = Settings()
    token = mint_token(settings, f.ANYONE.id, f.ANYONE.role, f.ANYONE.org)
    answer = await http.get(path, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == code and body["type"] == "/problems/invalid-input"
    assert {e["type"] for e in body["errors"]} == {code}


@pytest.mark.parametrize(
    ("amount", "taken"),
    [(550, 550), (550.0, 550), (5.5e2, 550), (True, None), ("550", None), (550.5, None)],
)
def test_an_integer_is_what_json_schema_calls_one(amount: Any, taken: int | None) -> None:
    """``"type": "integer"`` admits 550.0 (a number without a fraction), so the API takes it as
    550; ``true`` and ``"550"`` are no integers to JSON Schema, nor to the API (reliability:
    ``true`` was an amount of 1)."""
    body = {"amount": amount, "receipt_no": "R-1"}
    binding = BINDINGS["record_payment"].body
    if taken is None:
        with pytest.raises(ValidationError):
            binding.model_validate_json(json.dumps(body))
    else:
        assert binding.model_validate_json(json.dumps(body)).model_dump()["amount"] == taken


@pytest.mark.parametrize(
    ("case", "rule"),
    [
        ("opens after it closes", "campaign.windows"),
        ("a fee deadline before the close", "campaign.windows"),
        ("a level without a fee", "campaign.fee_missing"),
        ("a sample without a rate", "campaign.sample_rate"),
    ],
)
def test_a_campaign_rule_between_fields_names_itself(case: str, rule: str) -> None:
    """The campaign's rules that compare fields are errors of their own type, which the API
    answers as the 422's ``code`` (the fuzzer's allow-list names them)."""
    c = f.campaign(datetime(2024, 7, 20, tzinfo=UTC))
    later = (c.declaration_closes_at + timedelta(days=1)).isoformat()
    earlier = (c.declaration_closes_at - timedelta(days=1)).isoformat()
    changes: dict[str, dict[str, Any]] = {
        "opens after it closes": {"declaration_opens_at": later},
        "a fee deadline before the close": {"fee_deadline": earlier},
        "a level without a fee": {"fees": {"junior": 200}},
        "a sample without a rate": {"defense": {"remote_selection": "sample"}},
    }
    with pytest.raises(ValidationError) as refused:
        Campaign.model_validate(c.model_dump(mode="json") | changes[case])
    assert [e["type"] for e in refused.value.errors()] == [rule]
