"""Finding 6, inputs: JSON nested 1,000 deep (2 KB) gave an
unauthenticated 500 with a traceback; NaN/Infinity gave 500; the CSV export was open to formula
injection; a non-Latin-1 export name gave 500; fees had no upper bound; every refused read was a
durable audit write with no rate limit, and refusals about made-up ids created audit chains
named after whatever the caller sent.

Now: bodies over 1 MiB are 413; JSON nested deeper than 32, or holding NaN/Infinity, is 422
before any model sees it; exports quote formula-like cells and name files with RFC 5987
``filename*``; fees and payments are at most 100,000 CNY; unknown ids are 404 and write nothing;
repeated refusals of one caller on one target within a minute are audited once with a count."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from api.auth import mint_token
from api.limits import MAX_JSON_DEPTH
from domain.fees import MAX_FEE
from domain.models import Actor
from settings import Settings
from store.audit import append_events
from store.db import Store
from store.export import export_csv, unguard
from testing import factories as f
from testing.api import AUDITOR, Api, audit_rows, register
from testing.builders import declaration_id, event, trail
from tests.security.conftest import client_of


def bearer(actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(Settings(), actor.id, actor.role, actor.org)}"}


def audit_count(app: FastAPI) -> int:
    store: Store = app.state.services.store
    with store.session(readonly=True) as session:
        return int(session.execute(sa.text("SELECT count(*) FROM audit_event")).scalar_one())


# --------------------------------------------------------------------------- bodies


async def test_deep_json_nan_and_infinity_are_422_before_any_model(
    bare_http: httpx.AsyncClient,
) -> None:
    deep = b"[" * 1000 + b"]" * 1000
    assert len(deep) == 2000
    bodies = {
        "1,000 deep": deep,
        "100,000 deep, unterminated": b"[" * 100_000,
        "33 deep": b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
        "NaN": b'{"text": NaN}',
        "Infinity": b'{"amount": Infinity, "receipt_no": "R"}',
        "-Infinity": b"[-Infinity]",
        "1e999": b'{"score": 1e999}',
        "5,000 digits": b'{"amount": ' + b"9" * 5000 + b"}",
    }
    for name, body in bodies.items():
        for headers in ({"Content-Type": "application/json"}, {}):
            for path in ("/declarations", "/declarations/D-1/objections", "/healthz"):
                answer = await bare_http.post(path, content=body, headers=headers)
                assert answer.status_code == 422, (name, path, headers, answer.text[:200])
                assert "Traceback" not in answer.text
    # 32 deep is still JSON the routes judge for themselves (here: no token, 401).
    fine = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    answer = await bare_http.post(
        "/declarations", content=fine, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 401


async def test_a_body_over_one_mebibyte_is_413(bare_http: httpx.AsyncClient) -> None:
    body = json.dumps({"text": "x" * (1024 * 1024)}).encode()
    answer = await bare_http.post(
        "/declarations", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413


# --------------------------------------------------------------------------- exports


def test_csv_cells_that_begin_like_a_formula_are_quoted(store: Store) -> None:
    d = declaration_id()
    first = trail(d, 1)[0]
    texts = ['=HYPERLINK("https://evil.test","x")', "+1+1", "-2+3", "@SUM(A1)", "'=1", "ok"]
    events = [first] + [
        event(d, seq, first.at, opinion=text) for seq, text in enumerate(texts, start=2)
    ]
    with store.session() as session:
        append_events(session, events)
    rows = list(csv.DictReader(io.StringIO("".join(export_csv(store, declaration_id=d)))))
    opinions = [r["opinion"] for r in rows[1:]]
    assert opinions == ["'" + t for t in texts[:-1]] + ["ok"]
    assert [unguard(o) for o in opinions] == texts
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@")), cell


async def test_a_non_latin_1_export_name_is_a_download_not_a_500(
    bare_http: httpx.AsyncClient,
) -> None:
    campaign = "阿克苏-2024"
    answer = await bare_http.get(
        "/audit/export",
        params={"campaign_id": campaign, "format": "csv"},
        headers=bearer(AUDITOR),
    )
    assert answer.status_code == 200, answer.text
    disposition = answer.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote(f'audit-{campaign}.csv', safe='')}" in disposition
    assert 'filename="audit-___-2024.csv"' in disposition


# --------------------------------------------------------------------------- fees


async def test_fees_and_payments_are_bounded(bare_http: httpx.AsyncClient) -> None:
    body = f.campaign(datetime.now(UTC)).model_dump(mode="json")
    body["fees"] = {level: 10**12 for level in body["fees"]}
    answer = await bare_http.post("/campaigns", json=body, headers=bearer(f.ADMIN))
    assert answer.status_code == 422 and str(MAX_FEE) in answer.text
    for amount in (MAX_FEE + 1, 10**12, 0, -5):
        paid = await bare_http.post(
            "/declarations/D-1/payments",
            json={"amount": amount, "receipt_no": "R-1"},
            headers=bearer(f.FINANCE),
        )
        assert paid.status_code == 422, (amount, paid.text)
        batch = await bare_http.post(
            "/payments",
            json={"receipt_no": "R-1", "items": [{"declaration_id": "D-1", "amount": amount}]},
            headers=bearer(f.FINANCE),
        )
        assert batch.status_code == 422, (amount, batch.text)


# --------------------------------------------------------------------------- refusals


async def test_refusals_about_made_up_ids_are_404_and_write_nothing(
    make_bare_app: Callable[..., FastAPI],
) -> None:
    app = make_bare_app()
    async with client_of(app) as http:
        made_up = ["D-does-not-exist", "x" * 300, "../../etc", "api:access", "评审"]
        for value in made_up:
            for path in (f"/declarations/{value}/history", f"/campaigns/{value}/report"):
                answer = await http.get(path, headers=bearer(f.FINANCE))
                assert answer.status_code == 404, (path, answer.text)
    assert audit_count(app) == 0


async def test_repeated_refusals_within_the_window_are_audited_once_with_a_count(
    make_bare_app: Callable[..., FastAPI],
) -> None:
    app = make_bare_app(refusal_window_seconds=0.5)
    register(app.state.services.store)  # the bodies the campaign names (docs/rules.md §11)
    async with client_of(app) as http:
        campaign = f.campaign(datetime.now(UTC))
        created = await http.post(
            "/campaigns", json=f.campaign_body(campaign), headers=bearer(f.ADMIN)
        )
        assert created.status_code == 201
        chain = f"campaign:{campaign.id}"
        for _ in range(25):
            answer = await http.get(f"/campaigns/{campaign.id}/report", headers=bearer(f.FINANCE))
            assert answer.status_code == 403
        settings = app.state.services.settings
        rows = await asyncio.to_thread(audit_rows, settings, chain)
        assert len(rows) == 1 and rows[0]["actor_id"] == f.FINANCE.id
        # Another caller is another window.
        answer = await http.get(f"/campaigns/{campaign.id}/report", headers=bearer(f.APPLICANT))
        assert answer.status_code == 403
        await asyncio.sleep(0.8)
        rows = await asyncio.to_thread(audit_rows, settings, chain)
    finance = [r for r in rows if r["actor_id"] == f.FINANCE.id]
    assert len(finance) == 2 and len(rows) == 3
    summary: dict[str, Any] = json.loads(finance[1]["detail"])
    assert summary["repeated"] == 24 and summary["status"] == 403
    assert "repeated 24 more times" in finance[1]["opinion"]


async def test_repeated_refusals_on_a_running_declaration_are_signalled_once(
    api: Api, app: FastAPI, settings: Settings
) -> None:
    app.state.services.refusal_windows.seconds = 0.5
    c = await api.campaign()
    d = await api.file(c)
    before = len(await asyncio.to_thread(audit_rows, settings, d))
    for _ in range(10):
        await api.call("GET", f"/declarations/{d}", f.OTHER_UNIT, expect=403)
    rows = await api.recorded(d, at_least=before + 1)
    await asyncio.sleep(0.8)
    rows = await api.recorded(d, at_least=before + 2)
    refused = [r for r in rows if r["outcome"] == "refused"]
    assert [r["actor_id"] for r in refused] == [f.OTHER_UNIT.id] * 2
    assert json.loads(refused[1]["detail"])["repeated"] == 9
