"""Liveness, readiness, metrics (docs/rules.md §18, "Operations") and what each problem type means
(§16)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import text
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

from api.answers import JSONAnswer
from api.deps import PUBLIC, ServicesDep
from api.metrics import CONTENT_TYPE_LATEST
from api.problems import describe
from api.services import Services, in_session
from store.delivery import outbox_figures
from store.queries.declarations import states_count

router = APIRouter(tags=["health"], dependencies=[Depends(PUBLIC)])

#: Seconds each dependency gets to answer a readiness probe.
PROBE_TIMEOUT = 3.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/problems/{kind}")
async def problem_kind(kind: str) -> dict[str, str]:
    """What a problem's ``type`` means (docs/rules.md §16)."""
    return describe(kind)


async def _temporal(services: Services) -> str | None:
    client = services.client
    if client is None:
        return "not connected"
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=client.namespace),
            timeout=timedelta(seconds=PROBE_TIMEOUT),
        )
    except Exception as err:
        return f"{type(err).__name__}: {err}"[:300]
    return None


async def _database(services: Services) -> str | None:
    try:
        await asyncio.wait_for(
            in_session(
                services.store,
                lambda s: s.connection().execute(text("SELECT 1")).scalar_one(),
                readonly=True,
            ),
            PROBE_TIMEOUT,
        )
    except Exception as err:
        return f"{type(err).__name__}: {err}"[:300]
    return None


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]
    failed: list[str]


@router.get(
    "/readyz",
    response_model=None,
    responses={
        200: {"model": Readiness, "description": "Temporal and the database answer"},
        503: {"model": Readiness, "description": "not ready: `failed` names what did not answer"},
    },
)
async def readyz(services: ServicesDep) -> JSONAnswer:
    """200 when Temporal and the database both answer, else 503 naming what failed."""
    temporal, database = await asyncio.gather(_temporal(services), _database(services))
    checks: dict[str, Any] = {
        "temporal": "ok" if temporal is None else temporal,
        "database": "ok" if database is None else database,
    }
    ready = temporal is None and database is None
    code = status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE
    failed = [name for name, value in checks.items() if value != "ok"]
    return JSONAnswer({"ready": ready, "checks": checks, "failed": failed}, status_code=code)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(services: ServicesDep) -> Response:
    try:
        counts = await in_session(services.store, states_count, readonly=True)
    except Exception:  # metrics must answer even when the database does not
        counts = None
    if counts is not None:
        services.metrics.set_declarations(counts)
    now = await services.clock()
    try:
        outbox = await in_session(
            services.store, lambda s: outbox_figures(s, now=now), readonly=True
        )
    except Exception:
        outbox = None
    if outbox is not None:
        services.metrics.set_outbox(*outbox)
    body = services.metrics.render() + await _sdk_metrics(services)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


async def _sdk_metrics(services: Services) -> bytes:
    """The Temporal SDK's own metrics (client and worker side), served by the SDK runtime on
    ``sdk_metrics_bind_address``; empty when that is off or does not answer."""
    address = services.settings.sdk_metrics_bind_address
    if not address:
        return b""
    try:
        async with httpx.AsyncClient(timeout=1.0) as http:
            answer = await http.get(f"http://{address}/metrics")
        return answer.content if answer.status_code == 200 else b""
    except httpx.HTTPError:
        return b""
