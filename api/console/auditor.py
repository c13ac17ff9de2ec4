"""The auditor's pages (docs/rules.md §8, §10.5): a campaign's or a declaration's trail with its
verification badge (``store.audit.verify``, through ``GET /audit/verify``'s own function), CSV and
JSONL exports streamed from ``store.export``, the dossier (``store.dossier``), and everything one
actor did across declarations.

Every page is behind ``GET /audit/*``'s gate (auditor, admin). Exports are console routes rather
than links to ``/audit/export`` because a browser link cannot carry the API's bearer token.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterable
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from api.commands import not_found
from api.console.auth import ConsoleAllow
from api.console.render import console_router, render
from api.deps import ServicesDep
from api.headers import content_disposition
from api.routes import audit, declarations
from api.schemas import MAX_PAGE
from api.services import Services, in_session
from domain.models import Actor
from store.audit import events_of
from store.campaigns import get_campaign
from store.dossier import DossierNotFound, build_dossier, dossier_json
from store.export import MEDIA_TYPES, export_trail
from store.materials.dossier import write_bundle
from store.materials.objects import ObjectStore
from store.queries.campaigns import campaigns
from store.queries.history import ActorEvents, event_dict, events_of_actor

__all__ = ["router"]

router = console_router()

Auditor = Annotated[Actor, Depends(ConsoleAllow.like(audit.Auditor, action="audit_console"))]
Exporter = Annotated[Actor, Depends(ConsoleAllow.like(audit.Auditor, action="export_trail"))]
DossierReader = Annotated[Actor, Depends(ConsoleAllow.like(audit.Auditor, action="dossier"))]

PAGE_SIZE = 100


@router.get("/audit")
async def audit_home(request: Request, actor: Auditor, services: ServicesDep) -> Response:
    rows = await in_session(services.store, campaigns, readonly=True)
    return render(request, "audit_home.html", actor, campaigns=rows)


@router.get("/audit/campaigns/{campaign_id}")
async def audit_campaign(
    request: Request,
    campaign_id: str,
    actor: Auditor,
    services: ServicesDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """The campaign's chains verified together, its exports, and its declarations."""
    check = await audit.verify_chain(actor, services, campaign_id=campaign_id)
    listed = await declarations.list_declarations(
        actor,
        services,
        campaign_id=campaign_id,
        state=None,
        org=None,
        page=page,
        page_size=PAGE_SIZE,
    )
    pages = max(1, -(-listed.total // PAGE_SIZE))
    return render(
        request,
        "audit_campaign.html",
        actor,
        campaign_id=campaign_id,
        check=check,
        items=listed.items,
        total=listed.total,
        page=page,
        pages=pages,
    )


@router.get("/audit/declarations/{declaration_id}")
async def audit_declaration(
    request: Request, declaration_id: str, actor: Auditor, services: ServicesDep
) -> Response:
    """The declaration's trail, every hash shown, with its verification badge."""

    def read(session: Session) -> list[dict[str, Any]]:
        return [
            {
                **event_dict(r),
                "prev_hash": r.prev_hash,
                "hash": r.hash,
                "campaign_id": r.campaign_id,
            }
            for r in events_of(session, declaration_id)
        ]

    rows = await in_session(services.store, read, readonly=True)
    if not rows:
        raise not_found(declaration_id)
    check = await audit.verify_chain(actor, services, declaration_id=declaration_id)
    kinds = await _kind_labels(services, (row["campaign_id"] for row in rows))
    return render(
        request,
        "audit_declaration.html",
        actor,
        declaration_id=declaration_id,
        events=rows,
        check=check,
        kinds=kinds,
    )


@router.get("/audit/declaration")
async def find_declaration(_: Auditor, declaration_id: str = "") -> Response:
    """The lookup form on the audit page: go to that declaration's trail."""
    target = f"/console/audit/declarations/{quote(declaration_id.strip(), safe='')}"
    return RedirectResponse(target if declaration_id.strip() else "/console/audit", 303)


@router.get("/audit/export")
async def export(
    actor: Exporter,
    services: ServicesDep,
    format: Literal["csv", "jsonl"] = "csv",
    campaign_id: str | None = None,
    declaration_id: str | None = None,
) -> Response:
    """A campaign's or a declaration's trail as a download (``store.export``)."""
    if bool(campaign_id) == bool(declaration_id):
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "campaign_id"),
                    "input": None,
                    "msg": "give exactly one of campaign_id and declaration_id",
                }
            ]
        )
    await in_session(services.store, lambda s: None, readonly=True)  # fail early, not mid-stream
    chunks = export_trail(
        services.store,
        format=format,
        campaign_id=campaign_id or None,
        declaration_id=declaration_id or None,
    )
    name = f"audit-{campaign_id or declaration_id}.{format}".replace("/", "_")
    return StreamingResponse(
        (chunk.encode("utf-8") for chunk in chunks),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": content_disposition(name)},
    )


@router.get("/audit/declarations/{declaration_id}/dossier")
async def dossier(
    declaration_id: str, actor: DossierReader, services: ServicesDep, files: bool = False
) -> Response:
    """The dossier (§10.5): one JSON file a regulator verifies offline; with ``files=true`` a
    zip that also holds every uploaded material's bytes (§19)."""
    now = await services.clock()
    try:
        built = await in_session(
            services.store,
            lambda s: build_dossier(s, declaration_id, generated_at=now),
            readonly=True,
        )
    except DossierNotFound as err:
        raise not_found(declaration_id) from err
    stem = f"dossier-{declaration_id}".replace('"', "").replace("/", "_")
    if files and services.objects is not None:
        objects = services.objects
        path = await asyncio.to_thread(_bundle, built, objects)
        return FileResponse(
            path,
            media_type="application/zip",
            headers={"Content-Disposition": content_disposition(f"{stem}.zip")},
            background=BackgroundTask(os.unlink, path),
        )
    return Response(
        dossier_json(built).encode("utf-8"),
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": content_disposition(f"{stem}.json")},
    )


async def _kind_labels(services: Services, campaign_ids: Iterable[str]) -> dict[str, str]:
    """The catalogue labels of the material kinds these campaigns name (``material:<kind>``
    reasons and the ``kind`` of upload events are labelled with them)."""

    def read(session: Session) -> dict[str, str]:
        out: dict[str, str] = {}
        for campaign_id in sorted(set(campaign_ids)):
            campaign = get_campaign(session, campaign_id)
            if campaign is not None:
                catalogue = campaign.materials_catalogue.items()
                out.update({kind: info.label for kind, info in catalogue if info.label})
        return out

    return await in_session(services.store, read, readonly=True)


def _bundle(built: dict[str, Any], objects: ObjectStore) -> str:
    handle, path = tempfile.mkstemp(prefix="dossier-", suffix=".zip")
    with os.fdopen(handle, "wb") as out:
        write_bundle(built, objects, out)
    return path


@router.get("/audit/actors")
async def actor_events(
    request: Request,
    actor: Auditor,
    services: ServicesDep,
    actor_id: str = "",
    outcome: Literal["", "accepted", "refused"] = "",
    campaign_id: str = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Everything one reviewer (any account) did, across declarations, oldest first; or, with
    ``outcome=refused``, every refused attempt (of a campaign)."""
    found = ActorEvents(events=[], total=0)
    searched = bool(actor_id or campaign_id or outcome)
    if searched:
        found = await in_session(
            services.store,
            lambda s: events_of_actor(
                s,
                actor_id or None,
                outcome=outcome or None,
                campaign_id=campaign_id or None,
                page=page,
                page_size=PAGE_SIZE,
            ),
            readonly=True,
        )
    pages = max(1, -(-found.total // PAGE_SIZE))
    kinds = await _kind_labels(services, (e["campaign_id"] for e in found.events))
    return render(
        request,
        "audit_actor.html",
        actor,
        searched=searched,
        actor_id=actor_id,
        outcome=outcome,
        campaign_id=campaign_id,
        events=found.events,
        total=found.total,
        page=page,
        pages=pages,
        kinds=kinds,
    )
