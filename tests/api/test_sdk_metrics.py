"""GET /metrics carries the Temporal SDK's own metrics next to the API's (issue: run it like
production), exported by the process's SDK runtime on ``sdk_metrics_bind_address``."""

from __future__ import annotations

import socket

import httpx
from temporalio.testing import WorkflowEnvironment

import gateway as worker_module
from api.app import create_app
from settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_metrics_include_the_temporal_sdk_metrics(
    env: WorkflowEnvironment, settings: Settings
) -> None:
    configured = settings.model_copy(
        update={
            "sdk_metrics_bind_address": f"127.0.0.1:{free_port()}",
            "temporal_address": env.client.service_client.config.target_host,
        }
    )
    worker_module._runtime = None  # a fresh runtime bound to this test's port
    try:
        client = await worker_module.connect(configured)
        await client.service_client.check_health()  # any call, so the SDK reports something
        app = create_app(configured, temporal_client=client)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            body = (await http.get("/metrics")).text
    finally:
        worker_module._runtime = None
    assert "reviewchain_http_requests_total" in body
    assert "temporal_request" in body
