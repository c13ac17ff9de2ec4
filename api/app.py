"""The HTTP app (docs/rules.md §13): ``create_app(settings=None, temporal_client=None)``.

Given a Temporal client (tests, an embedding process), the app is ready when this returns: the
store is migrated here, so it also works under transports that run no lifespan (httpx's
``ASGITransport``). Without one, start-up (the lifespan) connects to ``temporal_address`` with the
pydantic data converter (``gateway.connect``), migrates the store, and shutdown closes both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client
from temporalio.service import RPCError

from api import console
from api.answers import JSONAnswer
from api.docs import install_docs
from api.headers import SecurityHeaders
from api.limits import RequestLimits
from api.methods import install_allow
from api.metrics import Metrics
from api.observability import RequestObservation
from api.openapi import api_routes, document_problems, gates
from api.problems import install_problem_handlers, problem_response
from api.routes import (
    audit,
    calendar,
    campaign_changes,
    campaign_ops,
    campaigns,
    certificates,
    codec,
    decisions,
    declarations,
    health,
    inbox,
    materials,
    meetings,
    organisations,
    payments,
    reminders,
)
from api.services import Services
from gateway.codec import with_data_converter
from settings import Settings, check_startup, get_settings, tune_gc
from settings.logs import configure_logging
from store.db import Store
from store.materials.objects import open_objects

__all__ = ["api_routes", "check_access_declared", "create_app"]

log = structlog.get_logger("api")


def check_access_declared(app: FastAPI) -> None:
    """Deny by default: every route must name its roles (``Allow``) or say it is ``PUBLIC``."""
    missing = [
        f"{sorted(route.methods or ())} {route.path}"
        for route in api_routes(app.routes)
        if not gates(route.dependant)
    ]
    if missing:
        raise RuntimeError(f"routes without an access rule: {', '.join(missing)}")


async def _temporal_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("temporal.rpc_failed", error=str(exc)[:500])
    return problem_response(
        503, "工作流服务暂不可用，请稍后重试 / Temporal is unavailable, try again"
    )


def create_app(settings: Settings | None = None, temporal_client: Client | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    for problem in check_startup(settings):
        log.warning("api.unsafe_setting", problem=problem)
    metrics = Metrics()
    if temporal_client is not None:
        temporal_client = with_data_converter(temporal_client, settings)
    services = Services(
        settings=settings,
        store=Store.from_settings(settings),
        metrics=metrics,
        client=temporal_client,
        objects=open_objects(settings),
    )
    if temporal_client is not None:
        services.store.migrate()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if services.client is None:
            from gateway import connect

            services.store.migrate()
            services.client = await connect(settings)
            services.owns_client = True
            tune_gc(settings)
            log.info("api.connected", address=settings.temporal_address)
        try:
            yield
        finally:
            await services.refusal_windows.flush()
            services.store.dispose()

    app = FastAPI(
        title="Review Chain",
        version="0.1.0",
        description="职称评审 review chains on Temporal: declarations, decisions, audit.",
        lifespan=lifespan,
        docs_url=None,  # install_docs: Swagger UI and ReDoc from the service, not a CDN
        redoc_url=None,
        default_response_class=JSONAnswer,  # every instant answered at +08:00 (api.answers)
    )
    app.state.services = services
    for module in (
        campaigns,
        declarations,
        decisions,
        payments,
        inbox,
        audit,
        calendar,
        certificates,
        health,
        campaign_ops,
        campaign_changes,
        meetings,
        codec,
        materials,
        organisations,
        reminders,
    ):
        app.include_router(module.router)
    document_problems(app)
    install_docs(app)
    app.include_router(console.router)  # the browser console (api/console), outside the schema
    install_problem_handlers(app)
    install_allow(app)  # after the problem handlers: 405s and OPTIONS name every method
    app.add_exception_handler(RPCError, _temporal_unavailable)
    app.add_middleware(RequestLimits, max_request_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders)  # also on the 413s and 422s of RequestLimits
    app.add_middleware(codec.CodecCors, origins=settings.codec_cors_origins)
    app.add_middleware(RequestObservation, metrics=metrics)  # outermost: counts 413s and 422s
    check_access_declared(app)
    return app
