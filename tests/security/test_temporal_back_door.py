"""Finding 4, Temporal as a back door (docs/audit.md, README "Run it like production"): the
workflows trusted the actor written inside a command, so a plain Temporal client forged a unit
approval and a refusal "by" an auditor, and /audit/verify still said ok; the Temporal UI showed
ID numbers in clear.

Now, with ``REVIEWCHAIN_PAYLOAD_KEYS`` set, every payload is encrypted and authenticated
(AES-GCM, key id in the metadata), and a command the worker cannot authenticate changes nothing:
a forged update is rejected, a forged signal dropped, and neither wedges the declaration. The
tests forge with the plain client of the time-skipping server, exactly what anyone reaching
Temporal's frontend has."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml
from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from domain.models import DecisionCommand, RefusalRecord, SubmitCommand
from gateway import workflow_id
from gateway.codec import ENCRYPTED, KEY_ID, EncryptionCodec, PayloadKeys, new_payload_key
from settings import Settings
from store.audit import append_events, check_chains
from store.db import Store, normalize_url
from store.roles import grant_service_role
from testing import factories as f
from testing.api import AUDITOR, Api, audit_rows, register
from testing.builders import trail
from tests.fixtures_db import PostgresServer
from worker import build_worker

ROOT = Path(__file__).resolve().parents[2]
OLD_KEY = new_payload_key("k-2024")
NEW_KEY = new_payload_key("k-2025")
UI = "https://temporal-ui.example.cn"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings, with payload keys (the newest first) and the UI's origin."""
    return settings.model_copy(
        update={"payload_keys": f"{NEW_KEY},{OLD_KEY}", "codec_cors_origins": UI}
    )


def forged_handle(env: WorkflowEnvironment, declaration_id: str) -> WorkflowHandle[Any, Any]:
    """What anyone who reaches Temporal has: a plain client, no payload key."""
    assert env.client.data_converter is pydantic_data_converter
    return env.client.get_workflow_handle(workflow_id(declaration_id))


async def trail_of(api: Api, d: str) -> list[dict[str, Any]]:
    return await asyncio.to_thread(audit_rows, api.settings, d)


async def verified(api: Api, d: str) -> bool:
    report = await api.get("/audit/verify", AUDITOR, declaration_id=d)
    return bool(report["ok"])


async def test_a_forged_approval_is_refused_and_changes_nothing(
    api: Api, env: WorkflowEnvironment
) -> None:
    c = await api.campaign()
    d = await api.file(c)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    before = await trail_of(api, d)
    forged = DecisionCommand(actor=f.UNIT, stage="unit_review", outcome="approve", opinion="同意")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await forged_handle(env, d).execute_update("decide", forged)
    # The SDK rejects an update whose argument it cannot convert, before the validator.
    assert "Failed decoding arguments" in str(refused.value.cause)
    assert (await api.view(d))["state"] == "unit_review"
    assert await trail_of(api, d) == before
    assert await verified(api, d)
    # The honest path still works, through the API.
    view = await api.decide(d, f.UNIT, "unit_review", opinion="材料真实完整")
    assert view["state"] == "unit_publicity"


async def test_a_forged_refusal_record_is_dropped_and_does_not_wedge_the_workflow(
    api: Api, env: WorkflowEnvironment
) -> None:
    c = await api.campaign()
    d = await api.file(c)
    before = await trail_of(api, d)
    handle = forged_handle(env, d)
    record = RefusalRecord(actor=AUDITOR, action="decide", reason="伪造 / forged", detail={})
    await handle.signal("record_refusal", record)
    await handle.signal("submit_signal", SubmitCommand(actor=f.APPLICANT))
    # Signals and updates with no argument at all, or a null one, need no decoding: the
    # worker's guard drops (signal) or rejects (update) them.
    await handle.signal("record_refusal")
    await handle.signal("decide_signal", None)
    for args in ([], [None]):
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update("submit", args=args)
    # Nothing entered the trail, and the declaration answers honest commands as before.
    await asyncio.sleep(0.5)
    assert await trail_of(api, d) == before
    assert (await api.view(d))["state"] == "draft"
    view = await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    assert view["state"] == "unit_review"
    assert AUDITOR.id not in {r["actor_id"] for r in await trail_of(api, d)}
    assert await verified(api, d)


async def test_a_command_under_another_key_is_refused(api: Api, env: WorkflowEnvironment) -> None:
    c = await api.campaign()
    d = await api.file(c)
    stranger = EncryptionCodec(PayloadKeys.parse(new_payload_key("k-2025")))  # same id, other key
    converter = dataclasses.replace(pydantic_data_converter, payload_codec=stranger)
    config = env.client.config()
    config["data_converter"] = converter
    client = Client(**config)
    handle = client.get_workflow_handle(workflow_id(d))
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update("submit", SubmitCommand(actor=f.APPLICANT))
    assert (await api.view(d))["state"] == "draft"


async def _start_event_payload(env: WorkflowEnvironment, d: str) -> Payload:
    async for event in forged_handle(env, d).fetch_history_events():
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        return payloads[0]
    raise AssertionError("no history")


async def test_payloads_are_ciphertext_in_temporal(api: Api, env: WorkflowEnvironment) -> None:
    c = await api.campaign()
    d = await api.file(c)
    id_number = (await api.view(d))["applicant"]["id_number"]
    payload = await _start_event_payload(env, d)
    assert payload.metadata["encoding"] == ENCRYPTED
    assert payload.metadata[KEY_ID] == b"k-2025"
    assert id_number.encode() not in payload.data and "张三".encode() not in payload.data
    # The plain client can no more read the workflow's answers than write its commands.
    with pytest.raises(Exception, match="encoding"):
        await forged_handle(env, d).query("view")


@pytest.fixture
async def codec_http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


async def test_the_ui_codec_endpoint_decodes_for_auditors_only(
    api: Api, env: WorkflowEnvironment, codec_http: httpx.AsyncClient
) -> None:
    c = await api.campaign()
    d = await api.file(c)
    id_number = (await api.view(d))["applicant"]["id_number"]
    payload = await _start_event_payload(env, d)
    body = {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
                "data": base64.b64encode(payload.data).decode(),
            },
            {"metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
             "data": base64.b64encode(b'{"forged": true}').decode()},
        ]
    }  # fmt: skip
    ui = {"Origin": UI, "X-Namespace": "default"}
    answer = await codec_http.post(
        "/codec/decode", json=body, headers={**ui, **api.headers(AUDITOR)}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == UI
    opened, untouched = answer.json()["payloads"]
    assert base64.b64decode(opened["metadata"]["encoding"]) == b"json/plain"
    start = json.loads(base64.b64decode(opened["data"]))
    assert start["declaration"]["applicant"]["id_number"] == id_number
    assert untouched == body["payloads"][1]  # not the service's: returned as it came

    for actor, status in ((f.UNIT, 403), (f.COMMITTEE, 403), (None, 401)):
        headers = ui if actor is None else {**ui, **api.headers(actor)}
        refused = await codec_http.post("/codec/decode", json=body, headers=headers)
        assert refused.status_code == status, actor
        assert id_number not in refused.text
    # Encoding gives nobody the power to write commands: the payloads come back unchanged.
    encoded = await codec_http.post(
        "/codec/encode", json={"payloads": body["payloads"][1:]}, headers=api.headers(f.ADMIN)
    )
    assert encoded.status_code == 200 and encoded.json() == {"payloads": body["payloads"][1:]}
    # The UI's preflight: allowed for its origin only.
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,x-namespace"}  # fmt: skip
    ok = await codec_http.options("/codec/decode", headers={"Origin": UI, **preflight})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == UI
    assert "Authorization" in ok.headers["access-control-allow-headers"]
    other = await codec_http.options(
        "/codec/decode", headers={"Origin": "https://evil.test", **preflight}
    )
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers


async def test_rotated_keys_still_decrypt_what_the_old_key_encrypted(
    env: WorkflowEnvironment, settings: Settings
) -> None:
    """A declaration filed under the old key alone continues after the new key is put first:
    its history (old key) is still read, and new payloads use the new key."""
    settings = settings.model_copy(update={"graceful_shutdown_seconds": 0.2})
    # No cache (so no sticky queue the test server would keep routing to once it stops).
    old = settings.model_copy(update={"payload_keys": OLD_KEY, "max_cached_workflows": 0})
    async with build_worker(env.client, old):
        app = create_app(old, temporal_client=env.client)
        register(app.state.services.store)  # the bodies the campaign names (docs/rules.md §11)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        ) as http:
            api = Api(http, old, env)
            c = await api.campaign()
            d = await api.file(c)
    assert (await _start_event_payload(env, d)).metadata[KEY_ID] == b"k-2024"

    async with build_worker(env.client, settings):  # a fresh worker: replays the history
        app = create_app(settings, temporal_client=env.client)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        ) as http:
            api = Api(http, settings, env)
            view = await api.post(f"/declarations/{d}/submit", f.APPLICANT)
            assert view["state"] == "unit_review"
            assert await verified(api, d)
    keys: list[bytes] = []
    async for event in forged_handle(env, d).fetch_history_events():
        accepted = event.workflow_execution_update_accepted_event_attributes
        if accepted.accepted_request.input.args.payloads:
            keys.append(accepted.accepted_request.input.args.payloads[0].metadata[KEY_ID])
    assert keys == [b"k-2025"]


def test_the_worker_is_built_on_the_services_converter(
    env: WorkflowEnvironment, settings: Settings, worker: Worker
) -> None:
    """build_worker applies the converter to the plain client it is given."""
    assert worker.client is not env.client
    assert isinstance(worker.client.data_converter.payload_codec, EncryptionCodec)


# --------------------------------------------------------------------------- the database role


@pytest.fixture
def roles(pg_server: PostgresServer) -> Iterator[tuple[str, str]]:
    """A database owned by an owner role that migrated it, and a service role with the service's
    grants (store/roles.py), as compose sets them up; dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    owner, service = f"rc_owner_{suffix}", f"rc_app_{suffix}"
    admin = create_engine(
        normalize_url(pg_server.admin_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    name = f"{pg_server.prefix}_roles_{suffix}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE ROLE "{owner}" LOGIN'))
        connection.execute(sa.text(f'CREATE ROLE "{service}" LOGIN'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}" OWNER "{owner}"'))
    as_owner = Store(_as(pg_server.url(name), owner))
    try:
        as_owner.migrate()
        with as_owner.engine.begin() as connection:
            grant_service_role(connection, service)
        as_owner.dispose()
        yield _as(pg_server.url(name), service), service
    finally:
        as_owner.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'DROP ROLE IF EXISTS "{service}"'))
            connection.execute(sa.text(f'DROP ROLE IF EXISTS "{owner}"'))
        admin.dispose()


def _as(url: str, role: str) -> str:
    return make_url(url).set(username=role).render_as_string(hide_password=False)


def test_the_service_role_cannot_alter_the_audit_table_or_its_triggers(
    roles: tuple[str, str],
) -> None:
    url, _ = roles
    store = Store(url)
    try:
        store.migrate()  # at head already: the service only reads alembic_version
        d = "D-roles-1"
        with store.session() as session:
            append_events(session, trail(d, 3))
        with store.session(readonly=True) as session:
            assert len(session.execute(sa.text("SELECT * FROM audit_event")).all()) == 3
            assert check_chains(session, declaration_id=d).ok
        refused = [
            "DROP TRIGGER audit_event_no_update_delete ON audit_event",
            "ALTER TABLE audit_event DISABLE TRIGGER USER",
            "ALTER TABLE audit_event DROP COLUMN opinion",
            "DROP TABLE audit_event",
            "DELETE FROM audit_event",
            "UPDATE audit_event SET opinion = 'forged'",
            "TRUNCATE audit_event",
            "DELETE FROM audit_head",
            "DROP TRIGGER audit_head_forward_only ON audit_head",
            "SET session_replication_role = replica",
            "CREATE TRIGGER t BEFORE INSERT ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
        ]
        for statement in refused:
            with pytest.raises(DBAPIError) as error, store.session() as session:
                session.connection().execute(sa.text(statement))
            assert "permission denied" in str(error.value) or "must be owner" in str(error.value), (
                statement
            )
        with store.session(readonly=True) as session:
            assert check_chains(session, declaration_id=d).ok
    finally:
        store.dispose()


def test_compose_keeps_temporal_internal_and_runs_the_service_as_a_plain_role() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services, networks = compose["services"], compose["networks"]
    for name in ("temporal", "temporal-ui", "postgresql"):
        assert "ports" not in services[name], f"{name} publishes a port"
        assert "backend" in services[name]["networks"]
    assert networks["backend"]["internal"] is True
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert (
        ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true" and ui["TEMPORAL_AUTH_ENABLED"] == "true"
    )
    superuser = services["postgresql"]["environment"]["POSTGRES_USER"]
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["REVIEWCHAIN_ENV"] == "production"
        user = make_url(env["REVIEWCHAIN_DATABASE_URL"].replace("${", "").replace("}", "")).username
        assert user == "reviewchain_app" != superuser
    migrate = services["migrate"]
    assert "reviewchain_owner" in migrate["environment"]["REVIEWCHAIN_DATABASE_URL"]
    assert "--service-role" in migrate["command"] and "reviewchain_app" in migrate["command"]
    init = (ROOT / "deploy" / "postgres-init.sh").read_text()
    assert "CREATE DATABASE reviewchain OWNER reviewchain_owner" in init
    assert "CREATE ROLE reviewchain_app LOGIN NOSUPERUSER" in init
