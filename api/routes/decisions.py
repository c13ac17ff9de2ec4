"""Decisions on one declaration (api.md §3, the table under "Declaration"). Each answers once
the workflow has taken it, with the declaration's new view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from api.commands import build, execute, target
from api.deps import Allow, ServicesDep
from api.policy import ALL_ROLES
from api.schemas import (
    DecisionBody,
    DefenseBody,
    MaterialsReceivedBody,
    MisconductBody,
    ObjectionBody,
    PaymentBody,
    ResolutionBody,
    SubmitBody,
    VoteBody,
    WithdrawBody,
)
from domain.models import (
    Actor,
    DecisionCommand,
    DefenseCommand,
    MaterialsReceivedCommand,
    MisconductCommand,
    ObjectionCommand,
    ObjectionLodged,
    ObjectionResolutionCommand,
    PaymentCommand,
    SubmitCommand,
    VoteCommand,
    WithdrawCommand,
)

router = APIRouter(prefix="/declarations/{declaration_id}", tags=["decisions"])

Applicant = Annotated[Actor, Depends(Allow("applicant"))]
Reviewer = Annotated[Actor, Depends(Allow("unit_reviewer", "authority_reviewer", "committee"))]
Anyone = Annotated[Actor, Depends(Allow(*ALL_ROLES))]
Resolver = Annotated[Actor, Depends(Allow("unit_reviewer", "committee"))]
Finance = Annotated[Actor, Depends(Allow("finance"))]
Committee = Annotated[Actor, Depends(Allow("committee"))]
MisconductFinder = Annotated[Actor, Depends(Allow("committee", "authority_reviewer"))]


@router.post("/submit")
async def submit(
    declaration_id: str,
    actor: Applicant,
    services: ServicesDep,
    body: Annotated[SubmitBody | None, Body()] = None,
) -> dict[str, Any]:
    facts = await target(services, actor, declaration_id, action="submit")
    fields = body.model_dump(exclude_unset=True) if body else {}
    return await execute(services, actor, facts, "submit", build(SubmitCommand, actor, **fields))


@router.post("/withdraw")
async def withdraw(
    declaration_id: str,
    actor: Applicant,
    services: ServicesDep,
    body: Annotated[WithdrawBody | None, Body()] = None,
) -> dict[str, Any]:
    facts = await target(services, actor, declaration_id, action="withdraw")
    cmd = build(WithdrawCommand, actor, reason=body.reason if body else "")
    return await execute(services, actor, facts, "withdraw", cmd)


@router.post("/decisions")
async def decide(
    declaration_id: str, body: DecisionBody, actor: Reviewer, services: ServicesDep
) -> dict[str, Any]:
    facts = await target(services, actor, declaration_id, action="decide")
    cmd = build(DecisionCommand, actor, **body.model_dump())
    return await execute(services, actor, facts, "decide", cmd)


@router.post("/objections")
async def lodge_objection(
    declaration_id: str, body: ObjectionBody, actor: Anyone, services: ServicesDep
) -> dict[str, Any]:
    """Anyone authenticated may object during a publicity (§2.2, §2.9)."""
    facts = await target(services, actor, declaration_id, action="lodge_objection",
                         org_scoped=False)  # fmt: skip
    cmd = build(ObjectionCommand, actor, text=body.text)
    return await execute(
        services, actor, facts, "lodge_objection", cmd, result_type=ObjectionLodged
    )


@router.post("/objections/{objection_id}/resolution")
async def resolve_objection(
    declaration_id: str,
    objection_id: str,
    body: ResolutionBody,
    actor: Resolver,
    services: ServicesDep,
) -> dict[str, Any]:
    facts = await target(services, actor, declaration_id, action="resolve_objection")
    cmd = build(ObjectionResolutionCommand, actor, objection_id=objection_id, **body.model_dump())
    return await execute(services, actor, facts, "resolve_objection", cmd)


@router.post("/payments")
async def record_payment(
    declaration_id: str, body: PaymentBody, actor: Finance, services: ServicesDep
) -> dict[str, Any]:
    """The same receipt for the same declaration twice: no second effect (200, same view)."""
    facts = await target(services, actor, declaration_id, action="record_payment")
    cmd = build(PaymentCommand, actor, amount=body.amount, receipt_no=body.receipt_no,
                payer_org=actor.org)  # fmt: skip
    return await execute(services, actor, facts, "record_payment", cmd)


@router.post("/materials-received")
async def record_materials_received(
    declaration_id: str, body: MaterialsReceivedBody, actor: Committee, services: ServicesDep
) -> dict[str, Any]:
    facts = await target(services, actor, declaration_id, action="record_materials_received")
    cmd = build(MaterialsReceivedCommand, actor, form_id=body.form_id)
    return await execute(services, actor, facts, "record_materials_received", cmd)


@router.post("/defense")
async def record_defense(
    declaration_id: str, body: DefenseBody, actor: Committee, services: ServicesDep
) -> dict[str, Any]:
    facts = await target(services, actor, declaration_id, action="record_defense")
    cmd = build(DefenseCommand, actor, **body.model_dump())
    return await execute(services, actor, facts, "record_defense", cmd)


@router.post("/vote")
async def record_vote(
    declaration_id: str, body: VoteBody, actor: Committee, services: ServicesDep
) -> dict[str, Any]:
    facts = await target(services, actor, declaration_id, action="record_vote")
    cmd = build(VoteCommand, actor, **body.model_dump())
    return await execute(services, actor, facts, "record_vote", cmd)


@router.post("/misconduct")
async def record_misconduct(
    declaration_id: str, body: MisconductBody, actor: MisconductFinder, services: ServicesDep
) -> dict[str, Any]:
    facts = await target(services, actor, declaration_id, action="record_misconduct")
    cmd = build(MisconductCommand, actor, **body.model_dump())
    return await execute(services, actor, facts, "record_misconduct", cmd)
