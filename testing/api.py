"""Driving the API in tests: tokens per actor, the common calls, and reading the audit trail."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from api.auth import mint_token
from domain.models import Actor, Campaign, Organisation
from settings import Settings
from store.db import Store
from store.organisations import apply_registry_change
from testing import factories as f
from testing.declarations import skip_to
from testing.eventually import eventually

AUDITOR = Actor(id="auditor-1", role="auditor")


class Api:
    def __init__(self, http: httpx.AsyncClient, settings: Settings, env: WorkflowEnvironment):
        self.http = http
        self.settings = settings
        self.env = env

    # ------------------------------------------------------------------ plumbing

    def headers(self, actor: Actor, **kw: Any) -> dict[str, str]:
        token = mint_token(self.settings, actor.id, actor.role, actor.org, **kw)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, actor: Actor | None, body: Any = None,
        expect: int | None = 200, **params: Any,
    ) -> httpx.Response:  # fmt: skip
        headers = self.headers(actor) if actor is not None else {}
        response = await self.http.request(
            method, path, json=body, headers=headers, params=params or None
        )
        if expect is not None:
            assert response.status_code == expect, (method, path, response.text)
        return response

    async def post(self, path: str, actor: Actor, body: Any = None, expect: int = 200) -> Any:
        return (await self.call("POST", path, actor, body, expect)).json()

    async def get(self, path: str, actor: Actor | None, expect: int = 200, **params: Any) -> Any:
        return (await self.call("GET", path, actor, None, expect, **params)).json()

    async def now(self) -> datetime:
        return (await self.env.get_current_time()).astimezone(f.BJ)

    # ------------------------------------------------------------------ the chain

    async def campaign(self, **overrides: Any) -> Campaign:
        """A campaign in the shape of notice 001 created through the API, as the API stores it
        (its committee, top authority and finance office from ``f.REGISTRY``)."""
        body = f.campaign_body(f.campaign(await self.now(), **overrides))
        created = await self.post("/campaigns", f.ADMIN, body, expect=201)
        assert created == {"id": body["id"]}
        return Campaign.model_validate(body)

    async def register(self, organisations: list[Organisation]) -> dict[str, Any]:
        """Import ``organisations`` as an administrator (POST /organisations/import)."""
        body = [o.model_dump(mode="json", exclude_none=True) for o in organisations]
        answer: dict[str, Any] = await self.post("/organisations/import", f.ADMIN, body)
        return answer

    async def file(
        self, c: Campaign, applicant: Actor = f.APPLICANT, level: str = "deputy_senior",
        **overrides: Any,
    ) -> str:  # fmt: skip
        body = f.declaration_body(c, level=level, **overrides)
        created = await self.post("/declarations", applicant, body, expect=201)
        assert created["state"] == "draft" and created["id"].startswith("D-")
        await self.recorded(created["id"])
        return str(created["id"])

    async def recorded(self, chain: str, at_least: int = 1, within: float = 10.0) -> list[dict]:
        """The chain's audit rows once at least ``at_least`` are written."""
        return await eventually(
            lambda: asyncio.to_thread(audit_rows, self.settings, chain),
            lambda rows: len(rows) >= at_least,
            within=within,
            what=f"{at_least} audit rows on {chain}",
        )

    async def view(self, declaration_id: str, actor: Actor = f.ADMIN) -> dict[str, Any]:
        result: dict[str, Any] = await self.get(f"/declarations/{declaration_id}", actor)
        return result

    async def wait_state(self, declaration_id: str, state: str, within: float = 15.0) -> dict:
        return await eventually(
            lambda: self.view(declaration_id),
            lambda current: current["state"] == state,
            within=within,
            what=f"{declaration_id} in {state}",
        )

    async def decide(
        self, declaration_id: str, actor: Actor, stage: str, outcome: str = "approve",
        expect: int = 200, **kw: Any,
    ) -> Any:  # fmt: skip
        body = {"stage": stage, "outcome": outcome, **kw}
        return await self.post(f"/declarations/{declaration_id}/decisions", actor, body, expect)

    async def skip_past(self, instant: str) -> None:
        """Move the clock past ``instant``: only the time-skipping server can."""
        if not self.env.supports_time_skipping:
            pytest.skip("needs the time-skipping test server (a publicity must end)")
        await skip_to(self.env, datetime.fromisoformat(instant) + timedelta(minutes=1))

    async def to_committee(self, declaration_id: str, applicant: Actor = f.APPLICANT) -> dict:
        """draft → committee_formal_review through the unit, its publicity and two authorities."""
        await self.post(f"/declarations/{declaration_id}/submit", applicant)
        view = await self.decide(declaration_id, f.UNIT, "unit_review", opinion="材料真实完整")
        assert view["state"] == "unit_publicity"
        await self.skip_past(view["deadlines"]["publicity_ends"])
        await self.wait_state(declaration_id, "unit_recommendation")
        await self.decide(declaration_id, f.UNIT, "unit_recommendation", opinion="同意推荐",
                          publicity_result_ref="公示结果-1")  # fmt: skip
        await self.decide(declaration_id, f.COUNTY, "authority_review")
        view = await self.decide(declaration_id, f.PREFECTURE, "authority_review")
        assert view["state"] == "committee_formal_review"
        return dict(view)

    async def to_committee_review(self, declaration_id: str, receipt: str = "R-1") -> dict:
        """committee_formal_review → committee_review: accept, pay, materials, defense."""
        view = await self.decide(declaration_id, f.COMMITTEE, "committee_formal_review")
        assert view["state"] == "fee_pending"
        form_id = (await self.view(declaration_id))["materials"]["form_id"]
        await self.post(f"/declarations/{declaration_id}/payments", f.FINANCE,
                        {"amount": view["fee"]["due"], "receipt_no": receipt})  # fmt: skip
        view = await self.post(f"/declarations/{declaration_id}/materials-received",
                               f.COMMITTEE, {"form_id": form_id})  # fmt: skip
        if view["state"] == "defense_pending":
            view = await self.post(f"/declarations/{declaration_id}/defense", f.COMMITTEE,
                                   {"passed": True, "mode": "video", "score": None,
                                    "opinion": "答辩合格"})  # fmt: skip
        assert view["state"] == "committee_review"
        return dict(view)


# --------------------------------------------------------------------------- the registry


def register(store: Store, organisations: list[Organisation] | None = None) -> None:
    """Import ``organisations`` (default ``f.REGISTRY``) straight into the store, as an
    administrator's import would (docs/rules.md §11)."""
    with store.session() as session:
        apply_registry_change(
            session, organisations or f.REGISTRY, actor=f.ADMIN, at=datetime.now(UTC)
        )


#: A unit ten authority levels deep: ``A0`` directly above it, ``A9`` at the top, so a campaign
#: whose ``top_authority`` is ``A<n>`` derives a chain of n + 1 levels for it (docs/rules.md §2.4).
DEEP_UNIT = "U-DEEP"
DEEP_REVIEWER = Actor(id="unit-reviewer-deep", role="unit_reviewer", org=DEEP_UNIT)


def deep_registry() -> list[Organisation]:
    levels = [
        Organisation(
            id=f"A{i}",
            kind="authority",
            name=f"第{i}级主管部门",
            parent_id=f"A{i + 1}" if i < 9 else None,
        )
        for i in range(10)
    ]
    return [*levels, Organisation(id=DEEP_UNIT, kind="unit", name="深层单位", parent_id="A0")]


# --------------------------------------------------------------------------- audit trail


def audit_rows(settings: Settings, chain: str) -> list[dict[str, Any]]:
    store = Store(settings.database_url)
    try:
        with store.session(readonly=True) as session:
            rows = session.execute(
                text("SELECT seq, action, outcome, actor_id, actor_role, opinion, detail "
                     "FROM audit_event WHERE declaration_id = :d ORDER BY seq"),
                {"d": chain},
            ).mappings().all()  # fmt: skip
        return [dict(r) for r in rows]
    finally:
        store.dispose()


async def refused_by(
    settings: Settings, chain: str, actor_id: str, within: float = 10.0
) -> list[dict[str, Any]]:
    """The refused events of ``actor_id`` on a chain, waiting for a signal to land."""

    async def found() -> list[dict[str, Any]]:
        rows = await asyncio.to_thread(audit_rows, settings, chain)
        return [r for r in rows if r["outcome"] == "refused" and r["actor_id"] == actor_id]

    return await eventually(found, within=within, what=f"a refusal of {actor_id} on {chain}")
