"""Fuzzing the HTTP API from its own OpenAPI document with schemathesis (docs/reliability.md).

The app runs in this process (ASGI, exactly as the API tests build it, around a Temporal
environment and a worker). Schemathesis generates the cases, valid (``positive``) and invalid
(``negative``), for every operation; each case is sent with the token of a role drawn per case
(or no token), and its path parameters are either generated or the ids of a seeded campaign and
declarations, so that the handlers behind the 404s are reached too. Every answer is held to the
checks of testing/reliability/conformance.py (schemathesis' own, against the document): no server
error, no status the operation does not document, no schema-valid request refused as malformed,
no invalid one accepted, every body and media type as documented; and no unhandled exception.

Hypothesis runs in a thread; each request is sent on the event loop that owns the app, its
Temporal client and the worker, so they keep their one loop.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from api.auth import mint_token
from domain.models import Actor
from domain.organisation_files import CSV_COLUMNS
from settings import Settings
from testing import factories as f
from testing.api import Api
from testing.reliability.conformance import CONFIG, judge

#: One actor per role (the organisations match the seeded declarations).
ACTORS: tuple[Actor | None, ...] = (
    f.APPLICANT, f.UNIT, f.OTHER_UNIT, f.COUNTY, f.COMMITTEE, f.FINANCE, f.ANYONE, f.ADMIN, None,
)  # fmt: skip


def _registry_csv(context: Any, value: Any) -> bytes:
    """``text/csv`` as ``POST /organisations/import`` documents it: the organisations of the
    generated list, one a line under the header (schemathesis has no CSV serializer)."""
    if not isinstance(value, list):
        return str(value).encode("utf-8")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in value:
        row = dict(item) if isinstance(item, dict) else {}
        region = row.pop("region", None) or {}
        row.update(region_code=region.get("code"), region_name=region.get("name"))
        writer.writerow(["" if row.get(c) is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue().encode("utf-8")


schemathesis.serializer("text/csv")(_registry_csv)


@dataclass
class Finding:
    operation: str
    status: int | str
    detail: str
    curl: str
    check: str = "not_a_server_error"


@dataclass
class FuzzReport:
    examples: int = 0
    unsendable: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    operations: int = 0
    seconds: float = 0.0
    unsatisfiable: list[str] = field(default_factory=list)
    #: Schema-valid requests refused as malformed for a reason the schema cannot state, by why.
    tolerated: Counter[str] = field(default_factory=Counter)
    #: Statuses per operation, to see how deep the generated requests reach.
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        top = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        out = [
            f"operations {self.operations}, examples {self.examples} "
            f"({self.unsendable} not sendable over HTTP), {self.seconds:.0f} s",
            f"statuses   {top}",
            f"findings   {len(self.findings)}"
            + "".join(f", {check}: {n}" for check, n in sorted(self.by_check().items())),
        ]
        out += [f"tolerated  {n} x {why}" for why, n in sorted(self.tolerated.items())]
        shallow = sorted(
            op for op, seen in self.by_operation.items() if not any(200 <= s < 300 for s in seen)
        )
        out.append(f"never 2xx  {len(shallow)}: {', '.join(shallow)}")
        if self.unsatisfiable:
            out.append(f"no cases   {', '.join(self.unsatisfiable)}")
        seen: set[tuple[str, str, int | str]] = set()
        for finding in self.findings:
            key = (finding.check, finding.operation, finding.status)
            if key not in seen:
                seen.add(key)
                out.append(
                    f"  [{finding.check}] {finding.operation} -> {finding.status}: "
                    f"{finding.detail[:300]}"
                )
                out.append(f"    {finding.curl[:400]}")
        return out

    def by_check(self) -> Counter[str]:
        return Counter(finding.check for finding in self.findings)


@dataclass
class Seeds:
    """Ids that exist, so that generated paths reach past the 404s."""

    campaign_id: str
    declaration_ids: list[str]
    objection_ids: list[str] = field(default_factory=lambda: ["obj-1", "obj-5"])


async def seed(api: Api) -> Seeds:
    """A campaign, a draft, a declaration at unit review and one in its unit publicity."""
    c = await api.campaign()
    ids = []
    for state in ("draft", "unit_review", "unit_publicity"):
        applicant = f.APPLICANT
        d = await api.file(c, applicant)
        if state != "draft":
            await api.post(f"/declarations/{d}/submit", applicant)
        if state == "unit_publicity":
            await api.decide(d, f.UNIT, "unit_review")
        ids.append(d)
    return Seeds(campaign_id=c.id, declaration_ids=[*ids, "D-000000000000"])


#: The token header as the strategies fix it (never generated, so never the invalid part of a
#: negative case); each case is sent with the token of the role drawn for it instead, or none.
DRAWN_TOKEN = {"Authorization": "Bearer <the token of the role drawn for the case>"}


def _request_kwargs(case: Any, token: dict[str, str]) -> dict[str, Any]:
    kwargs = case.as_transport_kwargs(base_url="http://api.test", headers=token)
    sent = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "authorization"}
    out: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": {**sent, **token},  # the drawn role's token, never a generated one
        "params": kwargs.get("params") or None,
    }
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    elif kwargs.get("files"):  # multipart: each part as httpx takes it (text or bytes)
        out["files"] = [
            (name, (filename, value if isinstance(value, str | bytes) else str(value)))
            for name, (filename, value, *_) in kwargs["files"]
        ]
        if isinstance(kwargs.get("data"), dict):
            out["data"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        out["content" if isinstance(data, bytes | str) else "data"] = data
    return out


def fuzz(
    app_openapi: dict[str, Any],
    send: Callable[[dict[str, Any]], httpx.Response],
    jwt: Settings,
    seeds: Seeds,
    *,
    max_examples: int,
    seed: int | None = 20241130,
) -> FuzzReport:
    """Run every operation with ``max_examples`` positive and as many negative examples."""
    schema = schemathesis.openapi.from_dict(app_openapi, config=CONFIG)
    tokens = {
        (a.id if a else None): (
            {"Authorization": f"Bearer {mint_token(jwt, a.id, a.role, a.org)}"} if a else {}
        )
        for a in ACTORS
    }
    report = FuzzReport()
    started = time.monotonic()
    known = {
        "campaign_id": st.sampled_from([seeds.campaign_id]),
        "declaration_id": st.sampled_from(seeds.declaration_ids),
        "objection_id": st.sampled_from(seeds.objection_ids),
    }
    for result in schema.get_all_operations():
        operation: Any = result.ok()  # type: ignore[union-attr]
        report.operations += 1
        names = {p.name for p in operation.path_parameters}
        headers = DRAWN_TOKEN if operation.definition.raw.get("security") else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies = [operation.as_strategy(generation_mode=mode, headers=headers)]
            if names & set(known):
                fixed = st.fixed_dictionaries({n: known[n] for n in names if n in known})

                def with_ids(
                    ids: dict[str, Any], op: Any = operation, m: Any = mode, h: Any = headers
                ) -> Any:
                    return op.as_strategy(generation_mode=m, path_parameters=ids, headers=h)

                strategies.append(fixed.flatmap(with_ids))
            _run(operation, st.one_of(strategies), send, tokens, report, max_examples, seed)
    report.seconds = time.monotonic() - started
    return report


def _run(
    operation: Any,
    cases: st.SearchStrategy[Any],
    send: Callable[[dict[str, Any]], httpx.Response],
    tokens: dict[str | None, dict[str, str]],
    report: FuzzReport,
    max_examples: int,
    seed: int | None,
) -> None:
    secured = bool(operation.definition.raw.get("security"))

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=seed is not None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    # No token last: hypothesis prefers the first choice, and most cases should reach the route.
    @given(case=cases, who=st.sampled_from(sorted(tokens, key=lambda who: (who is None, str(who)))))
    def one(case: Any, who: str | None) -> None:
        report.examples += 1
        token = tokens[who]
        try:
            kwargs = _request_kwargs(case, token)
        except Exception:
            report.unsendable += 1
            return
        try:
            response = send(kwargs)
        except (httpx.InvalidURL, UnicodeEncodeError, httpx.LocalProtocolError):
            report.unsendable += 1  # e.g. a header no HTTP client can send
            return
        except Exception as err:  # the app raised: a server error
            report.findings.append(
                Finding(operation.label, "exception", f"{type(err).__name__}: {err}",
                        case.as_curl_command(headers=token))
            )  # fmt: skip
            return
        report.statuses[response.status_code] += 1
        report.by_operation.setdefault(operation.label, Counter())[response.status_code] += 1
        verdicts = judge(
            case,
            response,
            secured=secured,
            anonymous=not token,
            on_tolerated=lambda why: report.tolerated.update([why]),
        )
        for verdict in verdicts:
            detail = f"{verdict.detail[:400]} | {response.text[:300]}"
            curl = case.as_curl_command(headers=token)
            report.findings.append(
                Finding(operation.label, response.status_code, detail, curl, verdict.check)
            )

    try:
        one()
    except Unsatisfiable:  # nothing to generate, e.g. negative inputs of GET /healthz
        report.unsatisfiable.append(operation.label)


def sender(
    http: httpx.AsyncClient, loop: asyncio.AbstractEventLoop, timeout: float = 60.0
) -> Callable[[dict[str, Any]], httpx.Response]:
    """Send one request on ``loop`` (the app's) from the fuzzing thread."""

    def send(kwargs: dict[str, Any]) -> httpx.Response:
        future = asyncio.run_coroutine_threadsafe(http.request(**kwargs), loop)
        return future.result(timeout=timeout)

    return send
