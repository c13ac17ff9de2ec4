"""Sending one change to many declarations (a campaign's deadlines, a calendar year), through the
same path as any decision, a bounded number at a time. A declaration that refuses is reported,
with the workflow's reason, and audited like any refusal; the others are not held up by it."""

from __future__ import annotations

import asyncio

from fastapi import HTTPException

from api.commands import execute
from api.schemas import FanOut
from api.services import Services
from api.subjects import load_facts
from domain.models import Actor, Command

__all__ = ["CONCURRENCY", "fan_out"]

#: Updates in flight at once.
CONCURRENCY = 16


async def fan_out(
    services: Services, actor: Actor, declaration_ids: list[str], update: str, cmd: Command
) -> FanOut:
    gate = asyncio.Semaphore(CONCURRENCY)
    failed: list[dict[str, str]] = []

    async def one(declaration_id: str) -> bool:
        async with gate:
            facts = await load_facts(services, declaration_id)
            if facts is None:
                failed.append({"declaration_id": declaration_id, "reason": "unknown declaration"})
                return False
            try:
                await execute(services, actor, facts, update, cmd)
            except HTTPException as err:
                failed.append({"declaration_id": declaration_id, "reason": str(err.detail)})
                return False
            return True

    results = await asyncio.gather(*(one(d) for d in declaration_ids))
    failed.sort(key=lambda f: f["declaration_id"])
    return FanOut(declarations=len(declaration_ids), updated=sum(results), failed=failed)
