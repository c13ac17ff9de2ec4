"""What the fuzzer holds every answer to (testing/reliability/fuzzing.py): schemathesis' own checks
of one response against the OpenAPI document, run on the answer of the in-process send, plus
one of ours for what a check of theirs would learn by sending requests of its own.

Schemathesis' checks used (``case.validate_response``):

- ``not_a_server_error``: no 5xx;
- ``status_code_conformance``: the status is one the operation documents (a ``default`` or
  ``4XX`` entry would count, and none is used so that every status stays named);
- ``content_type_conformance``: the answer's media type is the one documented for that status
  (``application/problem+json`` for every error);
- ``response_schema_conformance``: the body matches the schema documented for that status (the
  problem-details schema for every error);
- ``response_headers_conformance``: documented headers are present and well-formed;
- ``negative_data_rejection``: a request the schema calls invalid is refused (but a CSV body:
  CSV carries no types, so a value of the wrong JSON type is a valid cell once written; and a
  dry run, which answers 200 naming each problem instead of refusing: :data:`DRY_RUNS`);
- ``positive_data_acceptance``: a request the schema calls valid is never refused as malformed
  (400, 413, 415, 422): a business refusal (401, 403, 404, 409) is an answer, not a rejection.

Ours: ``auth_enforced`` (schemathesis' ``ignored_auth`` idea): an operation that declares a bearer
token never answers 2xx to a request sent without one. ``ignored_auth`` itself re-sends the
request through schemathesis' own transport, which cannot reach an app that lives on another
thread's event loop.

Not used: ``use_after_free``, ``ensure_resource_availability`` and ``object_level_authorization``
follow resources across the requests of a stateful run (the seeded ids stand in for that here);
``missing_required_header``, ``unsupported_method`` and ``allow_header_conformance`` judge only
the coverage phase's probes, with the token left out or an undocumented method or ``OPTIONS``
(the fuzzer draws the case without a token; tests/api/test_openapi.py checks every path's
``OPTIONS`` and 405 answers and their ``Allow`` directly);
``max_response_time`` is about speed, not the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from schemathesis.checks import (
    CheckFunction,
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup

__all__ = ["CHECKS", "CONFIG", "MALFORMED", "Verdict", "judge", "tolerated"]

CHECKS: tuple[CheckFunction, ...] = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance,
)

#: What refusing a request as malformed answers (``positive_data_acceptance`` fails on these).
MALFORMED = frozenset({400, 413, 415, 422})

#: Schemathesis' settings for the checks: an invalid request refused as too large (413: a list
#: past its maxItems can pass the body limit first) is refused too, besides schemathesis' own
#: list of rejections.
_REJECTIONS = [str(s) for s in (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429)]
_REJECTIONS.append("5xx")
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": _REJECTIONS}}}
)

_WINDOWS = "instants of different fields in order: JSON Schema compares no two values"
_REGISTRY = "against the organisation registry: data the schema cannot know"

#: Schema-valid requests the API may still refuse (422; a 415 for a file's content), because the
#: rule compares values of different fields (or items), or holds the request against what the
#: service stores or a file's content, and JSON Schema cannot say it. Keyed by operation and the problem's ``code`` (the rule, also
#: each error's ``type``: api.problems.Unprocessable); each entry says why no schema states it.
#: Every other 422 (or 400, 413, 415) of a schema-valid request is a finding.
TOLERATED: dict[tuple[str, str], str] = {
    ("POST /campaigns", "campaign.windows"): _WINDOWS,
    ("POST /campaigns", "campaign.fee_missing"): "a fee for each level listed: the keys of one "
    "field against the values of another",
    ("POST /campaigns", "campaign.no_defending_level"): "a venue or a sample while none of the "
    "levels reviewed defends: two lists compared",
    ("POST /campaigns", "campaign.unregistered"): _REGISTRY,
    ("POST /campaigns/{campaign_id}/deadlines", "campaign.windows"): "the moved deadlines "
    "against the campaign's stored ones",
    ("POST /campaigns/{campaign_id}/deadlines", "campaign.materials_without_paper"): "a "
    "materials deadline against the stored campaign's paper_materials_required",
    ("POST /declarations", "declaration.filing"): "against the campaign's levels, series and "
    "routes and the registry's units and chains, or the ID number's check digit (GB 11643)",
    ("POST /declarations/{declaration_id}/decisions", "material.kind"): "reason codes naming "
    "material kinds: against the campaign's catalogue",
    ("POST /declarations/{declaration_id}/decisions", "material.reference"): "a publicity "
    "result reference: against the declaration's uploaded files",
    ("POST /declarations/{declaration_id}/materials", "material.kind"): "the kind: against the "
    "campaign's catalogue and the declaration's level and route",
    ("POST /declarations/{declaration_id}/materials", "material.file"): "the file's content: "
    "PDF, JPEG or PNG by its bytes, complete and readable (no schema reads a file), and its "
    "name",
    ("POST /payments", "payment.batch_item"): "an item repeating another's declaration (items "
    "are objects: uniqueItems compares them whole), or naming one the store does not hold",
    ("PUT /organisations/{org_id}", "organisation.registry"): _REGISTRY,
    ("PUT /organisations/{org_id}", "organisation.own_parent"): "parent_id against the path's id",
    ("POST /organisations/import", "organisation.registry"): _REGISTRY + ", and ids unique "
    "across the rows (objects: uniqueItems compares them whole)",
    ("POST /organisations/import", "organisation.own_parent"): "parent_id against the row's id",
    ("PUT /calendar/{year}", "calendar.outside_year"): "the dates against the path's year",
    ("PUT /calendar/{year}", "calendar.holiday_and_workday"): "a date in both lists",
    ("PUT /calendar/{year}", "calendar.workday_not_weekend"): "a date's weekday",
    ("POST /campaigns/{campaign_id}/meetings", "meeting.voted_twice"): "a declaration id "
    "repeated across the votes (objects)",
    ("POST /campaigns/{campaign_id}/meetings", "meeting.recused_absent"): "a vote's recused "
    "members against members_present",
    ("GET /audit/verify", "audit.one_scope"): "exactly one of two query parameters: OpenAPI "
    "cannot make one of several parameters required",
    ("GET /audit/export", "audit.one_scope"): "exactly one of two query parameters: OpenAPI "
    "cannot make one of several parameters required",
}


def tolerated(operation: str, response: httpx.Response) -> str | None:
    """Why a refusal of a schema-valid request is accepted (``"<code>: why"``), or None: only
    a problem whose code, and every error's type, is an allow-listed rule of that operation."""
    if response.status_code not in MALFORMED:
        return None
    try:
        body = response.json()
        rules = {str(e["type"]) for e in body.get("errors", [])} | {str(body["code"])}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    why = [TOLERATED.get((operation, rule)) for rule in sorted(rules)]
    return f"{body['code']}: {why[0]}" if why and all(why) else None


#: Operations that, with this query parameter true, report the problems of their body with 200
#: instead of refusing it (``?dry_run=true`` of an import).
DRY_RUNS = {"POST /organisations/import": "dry_run"}


def _dry_run(case: Any) -> bool:
    name = DRY_RUNS.get(case.operation.label)
    return name is not None and str((case.query or {}).get(name)).lower() == "true"


@dataclass(frozen=True)
class Verdict:
    check: str
    detail: str


def _failure_name(failure: Failure) -> str:
    checks = type(failure).checks
    return checks[0] if checks else type(failure).__name__


def judge(
    case: Any,
    response: httpx.Response,
    *,
    secured: bool,
    anonymous: bool,
    checks: tuple[CheckFunction, ...] = CHECKS,
    on_tolerated: Callable[[str], None] | None = None,
) -> list[Verdict]:
    """Every check ``response`` fails, as ``(check, detail)``."""
    out: list[Verdict] = []
    try:
        response.request.content  # noqa: B018 - whether it was read
    except httpx.RequestNotRead:  # a multipart body streams: the checks read what was sent
        response.request.read()
    if case.media_type == "text/csv" or _dry_run(case):
        # CSV carries no types: a negative case whose fault is a value's JSON type (a number
        # for a name) is a valid row once written, so its acceptance proves nothing. A dry run
        # answers what is wrong rather than refusing it.
        checks = tuple(c for c in checks if c is not negative_data_rejection)
    try:
        case.validate_response(response, checks=list(checks))
    except FailureGroup as group:
        for failure in group.exceptions:
            name = _failure_name(failure)
            if name == "positive_data_acceptance":
                why = tolerated(case.operation.label, response)
                if why is not None:
                    if on_tolerated is not None:
                        on_tolerated(why)
                    continue
            out.append(Verdict(name, f"{failure.title}: {failure.message}"))
    except Failure as failure:
        out.append(Verdict(_failure_name(failure), f"{failure.title}: {failure.message}"))
    if secured and anonymous and 200 <= response.status_code < 300:
        out.append(Verdict("auth_enforced", "answered 2xx without a token"))
    return out
