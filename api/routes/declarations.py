"""Declarations (申报): filing one, reading one, listing, and its history (docs/rules.md §15)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlmodel import Session
from temporalio.service import RPCError

from activities.screening import duplicate_refusal
from api.commands import not_found, present, require_client
from api.deps import Allow, ServicesDep, forbidden
from api.masking import mask_events, mask_view
from api.openapi import problems
from api.policy import ALL_ROLES, read_refusal, read_scope, sees_masked
from api.problems import Unprocessable, rule_error
from api.refusals import Refusals
from api.schemas import MAX_PAGE, CreatedDeclaration, DeclarationBody, Page
from api.services import Services, in_session
from api.subjects import load_facts
from domain.blacklist import bar_refusal
from domain.eligibility import blocking_reason
from domain.models import Actor, Campaign, DeclarationInput, DeclarationStart, DeclarationView
from domain.registry_bindings import file_declaration
from gateway import view
from store import registry
from store.campaigns import blind_review_of, get_campaign
from store.organisations import lineage
from store.queries.declarations import ListFilter, declaration_page, live_declaration_of
from store.queries.history import history
from store.readmodel import get_view
from store.tables import DeclarationRegistry
from workflows.client import start_declaration

router = APIRouter(prefix="/declarations", tags=["declarations"])

Applicant = Annotated[Actor, Depends(Allow("applicant"))]
Reader = Annotated[Actor, Depends(Allow(*ALL_ROLES))]
#: Who may list declarations or read one's history (each sees only what their role may).
_LISTING = ("auditor", "admin", "committee", "unit_reviewer", "authority_reviewer", "applicant")
Lister = Annotated[Actor, Depends(Allow(*_LISTING))]
HistoryReader = Annotated[Actor, Depends(Allow(*_LISTING))]


#: The rule of a declaration that does not fit its campaign (a level, series, specialty or route
#: it does not review) or the registry (an unregistered unit, another chain), or whose ID number
#: fails its check digit (GB 11643): none of it is a schema's to say.
FILING = "declaration.filing"


def new_declaration_id() -> str:
    return f"D-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Registration:
    """What registering a new declaration found: nothing in the way, a bar, or a live rival."""

    refusal: str | None = None
    rival: DeclarationRegistry | None = None


def _register(
    session: Session,
    campaign: Campaign,
    decl: DeclarationInput,
    declaration_id: str,
    at: datetime,
) -> Registration:
    """Under the person's lock: refuse a barred person or a second live declaration for the
    same title and year, else register this one (live)."""
    id_number = decl.applicant.id_number
    series = decl.series_in(campaign)
    registry.person_lock(session, campaign.year, series, decl.level, id_number)
    bar = registry.applicant_bar_at(session, id_number, series, decl.level, at)
    if bar is not None:
        return Registration(refusal=bar_refusal(bar))
    rival = live_declaration_of(
        session, year=campaign.year, series=series, level=decl.level, id_number=id_number
    )
    if rival is not None:
        refusal = duplicate_refusal(
            campaign.year, series, decl.level, rival.declaration_id, rival.state
        )
        return Registration(refusal=refusal, rival=rival)
    registry.register(
        session, declaration_id=declaration_id, campaign=campaign, declaration=decl, at=at
    )
    return Registration()


def _unregister(session: Session, declaration_id: str) -> None:
    row = session.get(DeclarationRegistry, declaration_id)
    if row is not None:
        session.delete(row)


def someone_elses_duplicate(campaign: Campaign, level: str) -> str:
    """The 409 for a duplicate filed by another account: it says that the person may not file
    twice, and nothing about the other file (not its id, state, unit or route), so an ID number
    cannot be probed for someone else's declarations."""
    return (
        f"该身份证号在 {campaign.year} 年度已有同系列、同级别的有效申报，同一年度只能申报一次；"
        "如系本人申报，请使用提交该申报的账号查看 (001) / a live declaration for this person, "
        f"title ({campaign.series} {level}) and year {campaign.year} exists; only the account "
        "that filed it is told which"
    )


async def _refuse_creation(
    services: Services, actor: Actor, campaign: Campaign, reg: Registration, body: DeclarationInput
) -> HTTPException:
    reason = reg.refusal or ""
    detail = {"level": body.level, "route": body.route, "unit_id": body.unit_id}
    rival = reg.rival
    facts = await load_facts(services, rival.declaration_id) if rival is not None else None
    if rival is not None and (facts is None or facts.filed_by != actor.id):
        # Only the account that filed the live declaration learns which one it is.
        reason = someone_elses_duplicate(campaign, body.level)
    refusals = Refusals(services)
    if facts is not None:  # on the existing declaration's own trail
        await refusals.on_declaration(
            actor, facts, action="create_declaration", reason=reason, status=409, detail=detail
        )
    else:
        await refusals.on_campaign(
            actor,
            campaign.id,
            action="create_declaration",
            reason=reason,
            status=409,
            detail=detail,
        )
    return HTTPException(status.HTTP_409_CONFLICT, reason)


async def _filed(
    services: Services, actor: Actor, campaign: Campaign, body: DeclarationBody
) -> DeclarationInput:
    """The declaration as the registry fixes it (docs/rules.md §2.4, §5, §11): its unit's
    derived authority chain (or the route's fixed one) and its unit's region, the applicant's
    ``affiliation`` replaced by that region's name. 422 naming each field at fault (an unregistered
    unit or one of the wrong kind, a chain other than the derived one, a series or specialty the
    campaign does not review at that level, an invalid ID number); 403 (audited) when an applicant
    token names another unit than the one filed through."""
    if actor.org and actor.org != body.unit_id:
        raise await forbidden(
            services,
            actor,
            f"申报人账号所属单位为 {actor.org}，不能通过 {body.unit_id} 申报 / your account files "
            f"through unit {actor.org}",
            action="create_declaration",
            campaign_id=campaign.id,
        )
    found = await in_session(services.store, lambda s: lineage(s, body.unit_id), readonly=True)
    filing = file_declaration(
        campaign, body, found, chain_sent="authority_chain" in body.model_fields_set
    )
    if isinstance(filing, list):
        raise Unprocessable(FILING, [rule_error(FILING, ("body", *p.loc), p.msg) for p in filing])
    data = body.model_dump()
    data["authority_chain"] = filing.authority_chain
    data["region"] = filing.region.model_dump() if filing.region else None
    data["applicant"]["affiliation"] = filing.region.name if filing.region else ""
    return DeclarationInput.model_validate(data)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problems(
        404,
        409,
        s404="unknown campaign",
        s409="a blocked or barred person, or a second live declaration for the same title",
    ),
)
async def create_declaration(
    body: DeclarationBody, actor: Applicant, services: ServicesDep
) -> CreatedDeclaration:
    """File a declaration (draft). 404 unknown campaign; 422 a level, series or specialty the
    campaign does not review, an unregistered unit, an authority chain other than the one derived
    from the registry, an invalid ID number; 409 a blocked or barred person, or a second live
    declaration for the same title and year (naming the existing one only to the account that
    filed it)."""
    client = require_client(services)
    campaign = await in_session(
        services.store, lambda s: get_campaign(s, body.campaign_id), readonly=True
    )
    if campaign is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"没有编号为 {body.campaign_id} 的评审工作 / unknown campaign",
        )
    if body.level not in campaign.levels:
        why = (
            f"评审工作 {campaign.id} 不评审 {body.level} 级别 / the campaign reviews "
            f"{', '.join(campaign.levels)} only"
        )
        raise Unprocessable(FILING, [rule_error(FILING, ("body", "level"), why)])
    decl = await _filed(services, actor, campaign, body)
    now = await services.clock()
    block = blocking_reason(campaign, decl.applicant)
    if block:
        raise await _refuse_creation(services, actor, campaign, Registration(refusal=block), decl)
    declaration_id = new_declaration_id()
    reg = await in_session(
        services.store, lambda s: _register(s, campaign, decl, declaration_id, now)
    )
    if reg.refusal:
        raise await _refuse_creation(services, actor, campaign, reg, decl)
    start = DeclarationStart(
        declaration_id=declaration_id,
        campaign=campaign,
        declaration=decl,
        filed_by=actor,
        created_at=now,
    )
    try:
        await start_declaration(client, services.settings.task_queue, start)
    except Exception:
        await in_session(services.store, lambda s: _unregister(s, declaration_id))
        raise
    return CreatedDeclaration(id=declaration_id, state="draft")


async def _current_view(services: Services, declaration_id: str) -> DeclarationView:
    """The workflow's own view (query); the read model when the workflow cannot answer."""
    client = require_client(services)
    try:
        return await view(client, declaration_id)
    except RPCError:
        stored = await in_session(
            services.store, lambda s: get_view(s, declaration_id), readonly=True
        )
        if stored is None:
            raise
        return stored


@router.get(
    "/{declaration_id}",
    responses=problems(403, s403="not a declaration this account or organisation reads"),
)
async def get_declaration(
    declaration_id: str, actor: Reader, services: ServicesDep
) -> dict[str, Any]:
    facts = await load_facts(services, declaration_id)
    if facts is None:
        raise not_found(declaration_id)
    refusal = read_refusal(actor, facts, finance=True)
    if refusal:
        reason = f"无权查看该申报 / you may not read this declaration: {refusal}"
        raise await forbidden(services, actor, reason, action="get_declaration", facts=facts)
    return await present(services, actor, await _current_view(services, declaration_id))


@router.get("")
async def list_declarations(
    actor: Lister,
    services: ServicesDep,
    campaign_id: str | None = None,
    state: str | None = None,
    org: str | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page:
    """The declarations the caller may see, newest activity first."""
    flt = ListFilter(campaign_id=campaign_id, state=state, org=org)
    rows = await in_session(
        services.store,
        lambda s: declaration_page(s, read_scope(actor), flt, page=page, page_size=page_size),
        readonly=True,
    )
    items = await present_many(services, actor, rows.views)
    return Page(items=items, page=page, page_size=page_size, total=rows.total)


async def present_many(
    services: Services, actor: Actor, views: list[DeclarationView]
) -> list[dict[str, Any]]:
    """Views as this caller may see them (masked for the committee under blind review)."""
    blind: dict[str, bool] = {}
    if actor.role == "committee" and views:
        ids = {v.campaign_id for v in views}
        blind = await in_session(services.store, lambda s: blind_review_of(s, ids), readonly=True)
    return [
        (mask_view(v) if sees_masked(actor, blind.get(v.campaign_id, True)) else v).model_dump(
            mode="json"
        )
        for v in views
    ]


@router.get("/{declaration_id}/history")
async def get_history(
    declaration_id: str, actor: HistoryReader, services: ServicesDep
) -> dict[str, Any]:
    """Every audit event of the declaration, oldest first."""
    facts = await load_facts(services, declaration_id)
    if facts is None:
        raise not_found(declaration_id)
    refusal = read_refusal(actor, facts)
    if refusal:
        reason = f"无权查看该申报的记录 / you may not read this declaration's history: {refusal}"
        raise await forbidden(services, actor, reason, action="get_history", facts=facts)
    events = await in_session(services.store, lambda s: history(s, declaration_id), readonly=True)
    if actor.role == "committee":
        blind = await in_session(
            services.store, lambda s: blind_review_of(s, [facts.campaign_id]), readonly=True
        )
        if sees_masked(actor, blind.get(facts.campaign_id, True)):
            current = await _current_view(services, declaration_id)
            events = mask_events(events, current)
    return {"events": events}
