"""Operations (docs/rules.md §18, "Operations"; logs are events): health, readiness naming what
failed, Prometheus metrics by route template, and one structured log event per request with the
request id (echoed as ``X-Request-ID``) and the declaration it concerns."""

from __future__ import annotations

import logging
import uuid

import httpx
import structlog
from fastapi import FastAPI
from structlog.testing import LogCapture
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from api.auth import mint_token
from api.metrics import Metrics
from api.observability import RequestObservation
from settings import Settings
from store.db import Store
from testing import factories as f
from testing.api import Api


async def test_healthz_and_readyz_answer_when_temporal_and_the_database_do(api: Api) -> None:
    assert await api.get("/healthz", None) == {"status": "ok"}
    ready = await api.get("/readyz", None)
    assert ready == {"ready": True, "checks": {"temporal": "ok", "database": "ok"}, "failed": []}


async def test_readyz_is_503_naming_what_failed(settings: Settings) -> None:
    app = create_app(settings)  # no client and no lifespan run: Temporal is not connected
    app.state.services.store = Store("postgresql://nobody@127.0.0.1:9/nothing")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        response = await client.get("/readyz")
        assert (await client.get("/healthz")).status_code == 200
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False and body["failed"] == ["temporal", "database"]
    assert body["checks"]["temporal"] == "not connected"


async def test_metrics_count_requests_by_route_template_and_status(api: Api) -> None:
    c = await api.campaign()
    d = await api.file(c)
    await api.view(d)
    await api.get("/declarations/D-unknown", f.ADMIN, expect=404)
    response = await api.call("GET", "/metrics", None)
    text = response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        'reviewchain_http_requests_total{method="GET",route="/declarations/{declaration_id}",'
        'status="200"} 1.0' in text
    )
    assert 'route="/declarations/{declaration_id}",status="404"} 1.0' in text
    assert "reviewchain_http_request_duration_seconds_bucket" in text
    assert 'reviewchain_declarations{state="draft"} 1.0' in text
    assert d not in text, "raw paths never become labels"


async def test_request_id_is_echoed_or_made_up(api: Api) -> None:
    given = await api.http.get("/healthz", headers={"X-Request-ID": "req-123"})
    assert given.headers["x-request-id"] == "req-123"
    made = await api.http.get("/healthz")
    assert uuid.UUID(made.headers["x-request-id"]).version == 4
    unsafe = await api.http.get("/healthz", headers={"X-Request-ID": "a b\tc"})
    assert unsafe.headers["x-request-id"] != "a b\tc"


async def test_one_log_event_per_request_with_the_declaration_bound() -> None:
    capture = LogCapture()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(),
        processors=[structlog.contextvars.merge_contextvars, capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    inner = FastAPI()

    @inner.get("/declarations/{declaration_id}/history")
    async def history(declaration_id: str) -> dict[str, str]:
        logger.info("inside")
        return {"id": declaration_id}

    app = RequestObservation(inner, Metrics(), logger=logger)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        response = await client.get(
            "/declarations/D-abc/history", headers={"X-Request-ID": "req-9"}
        )
    assert response.status_code == 200
    inside, done = capture.entries
    for entry in (inside, done):
        assert entry["request_id"] == "req-9"
        assert entry["declaration_id"] == "D-abc"
        assert entry["workflow_id"] == "declaration-D-abc"
        assert entry["method"] == "GET" and entry["path"] == "/declarations/D-abc/history"
    assert done["event"] == "http.request" and done["status"] == 200
    assert done["route"] == "/declarations/{declaration_id}/history"
    assert done["duration_ms"] >= 0


async def test_without_a_client_start_up_connects_and_migrates(
    env: WorkflowEnvironment, worker: Worker, settings: Settings
) -> None:
    """docs/rules.md §13: with no client, the app connects to ``temporal_address`` at start-up (the
    lifespan), with the pydantic data converter, and serves decisions through it."""
    address = env.client.service_client.config.target_host
    app = create_app(settings.model_copy(update={"temporal_address": address}))
    assert app.state.services.client is None
    async with app.router.lifespan_context(app):
        client = app.state.services.client
        assert client is not None and client.data_converter is pydantic_data_converter
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            assert (await http.get("/readyz")).status_code == 200
            token = mint_token(settings, f.ADMIN.id, "admin", "")
            admin = {"Authorization": f"Bearer {token}"}
            registry = [o.model_dump(mode="json") for o in f.REGISTRY]
            imported = await http.post("/organisations/import", json=registry, headers=admin)
            assert imported.status_code == 200, imported.text
            c = f.campaign((await env.get_current_time()).astimezone(f.BJ))
            created = await http.post("/campaigns", json=f.campaign_body(c), headers=admin)
            assert created.status_code == 201


async def test_the_openapi_document_lists_every_route_with_bearer_auth(api: Api) -> None:
    document = await api.get("/openapi.json", None)
    assert "/declarations/{declaration_id}/decisions" in document["paths"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
