"""Driving the console as a browser would, over ASGI: sign in with a minted token (the cookie
lands in the client's jar), read pages, post their forms with the CSRF token the page carries."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI

from api.auth import mint_token
from domain.models import Actor
from settings import Settings

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


class Session:
    """One signed-in person (one cookie jar)."""

    def __init__(self, http: httpx.AsyncClient, actor: Actor) -> None:
        self.http = http
        self.actor = actor

    async def get(self, path: str, expect: int | None = 200, **params: Any) -> httpx.Response:
        response = await self.http.get(path, params=params or None)
        if expect is not None:
            assert response.status_code == expect, (path, response.status_code, response.text)
        return response

    async def csrf(self, page: str) -> str:
        found = _CSRF.search((await self.get(page)).text)
        assert found, f"no form on {page}"
        return found.group(1)

    async def post(
        self, page: str, action: str, fields: dict[str, Any] | list[tuple[str, Any]],
        expect: int | None = 303,
    ) -> httpx.Response:  # fmt: skip
        """Post a form of ``page`` (whose CSRF token is read from it) to ``action``."""
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        items.append(("csrf", await self.csrf(page)))
        response = await self.http.post(action, data=_form(items))
        if expect is not None:
            assert response.status_code == expect, (action, response.status_code, response.text)
        return response

    async def act(
        self, declaration_id: str, action: str, fields: dict[str, Any] | None = None,
        expect: int | None = 303,
    ) -> httpx.Response:  # fmt: skip
        """Post one of the declaration page's forms (``action``: ``decisions``, ``vote`` …)."""
        page = f"/console/declarations/{declaration_id}"
        return await self.post(page, f"{page}/{action}", fields or {}, expect)


def _form(items: list[tuple[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in items:
        values = value if isinstance(value, list) else [value]
        out.setdefault(name, []).extend(str(v) for v in values)
    return out


class Console:
    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._clients: list[httpx.AsyncClient] = []

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        # A browser sends its page's origin with every form post; the console checks it.
        http = httpx.AsyncClient(
            transport=transport,
            base_url="http://console.test",
            headers={"Origin": "http://console.test"},
        )
        self._clients.append(http)
        return http

    async def sign_in(self, actor: Actor) -> Session:
        http = self.client()
        token = mint_token(self.settings, actor.id, actor.role, actor.org)
        response = await http.post("/console/login", data={"token": token})
        assert response.status_code == 303, response.text
        return Session(http, actor)

    async def close(self) -> None:
        for http in self._clients:
            await http.aclose()
