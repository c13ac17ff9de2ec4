"""Finding 7, console: no CSP, frame, nosniff or
referrer headers; sign-out had no CSRF check; sign-in accepted posts from any origin.

Now every console page carries a CSP allowing only the console's own files, ``X-Frame-Options:
DENY``, ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy``; every form post, sign-in
and sign-out included, must come from the console's own origin, and sign-out needs the
session's CSRF token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx
from fastapi import FastAPI

from api.auth import mint_token
from api.console.render import HERE
from api.headers import CONSOLE_CSP
from settings import Settings
from testing import factories as f
from testing.api import AUDITOR, Api, audit_rows
from tests.console.helpers import Console
from tests.security.conftest import client_of

OWN = "http://api.test"
EVIL = "https://evil.test"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def test_console_pages_carry_csp_frame_nosniff_and_referrer_headers(
    bare_http: httpx.AsyncClient,
) -> None:
    for path in ("/console/login", "/console/static/console.css", "/console/nowhere"):
        headers = (await bare_http.get(path)).headers
        assert headers["content-security-policy"] == CONSOLE_CSP, path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
    assert "frame-ancestors 'none'" in CONSOLE_CSP and "script-src 'self'" in CONSOLE_CSP
    # The JSON API, its refusals included, is not framed or sniffed either.
    api_answer = await bare_http.get("/audit/verify")
    assert api_answer.status_code == 401
    assert api_answer.headers["x-content-type-options"] == "nosniff"
    assert api_answer.headers["x-frame-options"] == "DENY"


def test_the_templates_hold_nothing_the_csp_would_block() -> None:
    """No inline script, no event-handler attribute, no ``javascript:`` link, no inline style:
    under the CSP they would silently stop working."""
    for template in sorted((HERE / "templates").glob("*.html")):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert "javascript:" not in text, template.name
        assert not re.search(r"\sstyle\s*=|<style", text), template.name


async def test_sign_in_only_from_the_consoles_own_origin(
    make_bare_app: Callable[..., FastAPI],
) -> None:
    app = make_bare_app()
    token = mint_token(Settings(), AUDITOR.id, AUDITOR.role)
    async with client_of(app) as http:
        for headers in ({"Origin": EVIL}, {"Referer": f"{EVIL}/login"}, {"Origin": "null"}, {}):
            answer = await http.post("/console/login", data={"token": token}, headers=headers)
            assert answer.status_code == 403, headers
            assert "set-cookie" not in answer.headers
        for headers in ({"Origin": OWN}, {"Referer": f"{OWN}/console/login"}):
            answer = await http.post("/console/login", data={"token": token}, headers=headers)
            assert answer.status_code == 303, (headers, answer.text)
            assert "reviewchain_console=" in answer.headers["set-cookie"]


async def test_sign_out_needs_the_csrf_token_and_the_own_origin(
    make_bare_app: Callable[..., FastAPI],
) -> None:
    app = make_bare_app(public_origin="https://review.example.cn")
    token = mint_token(Settings(), AUDITOR.id, AUDITOR.role)
    own = {"Origin": "https://review.example.cn"}
    async with client_of(app) as http:
        signed_in = await http.post("/console/login", data={"token": token}, headers=own)
        assert signed_in.status_code == 303
        csrf = csrf_of((await http.get("/console/audit")).text)
        # A page of another site (or one that forgot the token) cannot sign the auditor out.
        for data, headers in (
            ({"next": ""}, own),
            ({"csrf": "0" * 64}, own),
            ({"csrf": csrf}, {"Origin": EVIL}),
            ({"csrf": csrf}, {"Origin": OWN}),  # the address, not the configured public origin
        ):
            refused = await http.post("/console/logout", data=data, headers=headers)
            assert refused.status_code == 403, (data, headers)
            assert (await http.get("/console/audit")).status_code == 200
        out = await http.post("/console/logout", data={"csrf": csrf}, headers=own)
        assert out.status_code == 303
        assert (await http.get("/console/audit")).status_code == 303


async def test_a_decision_form_from_another_origin_changes_nothing(
    api: Api, console: Console, settings: Settings
) -> None:
    c = await api.campaign()
    d = await api.file(c)
    applicant = await console.sign_in(f.APPLICANT)
    page = f"/console/declarations/{d}"
    csrf = csrf_of((await applicant.get(page)).text)
    trail = await asyncio.to_thread(audit_rows, settings, d)
    forged = await applicant.http.post(
        f"{page}/submit", data={"csrf": csrf}, headers={"Origin": EVIL}
    )
    assert forged.status_code == 403 and "其他网站" in forged.text
    assert (await api.view(d))["state"] == "draft"
    assert await asyncio.to_thread(audit_rows, settings, d) == trail
