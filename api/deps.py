"""FastAPI dependencies as ``Annotated`` aliases, and the role gate every route declares.

**Deny by default.** Every route names the roles it admits with :class:`Allow` (or says it is
:data:`PUBLIC`); :func:`api.app.create_app` refuses to build an app with a route that does
neither. A caller whose role is not admitted gets 403, and the refusal is audited on the
declaration or campaign the path names (else on the API's access chain).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from api.auth import ROLES, unauthorized
from api.problems import Problem
from api.refusals import Refusals
from api.services import Services, in_session
from api.subjects import DeclarationFacts, load_facts
from domain.models import Actor
from settings import Settings
from store.campaigns import campaign_exists
from store.db import Store

__all__ = [
    "PUBLIC",
    "ActorDep",
    "Allow",
    "NowDep",
    "RefusalsDep",
    "ServicesDep",
    "SettingsDep",
    "StoreDep",
    "TemporalDep",
    "forbidden",
    "route_action",
    "route_template",
]

_bearer = HTTPBearer(
    auto_error=False,
    description="JWT (HS256, or RS256/ES256 of the identity provider): claims sub, role, org, exp",
)

# The dependencies below are ``async`` although they never await: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop per dependency per request that profiling showed
# costing more than the work itself (all of it is CPU-light and non-blocking).


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


async def get_store(services: ServicesDep) -> Store:
    return services.store


async def get_temporal(services: ServicesDep) -> Client:
    if services.client is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Temporal is not connected")
    return services.client


async def get_now(services: ServicesDep) -> datetime:
    return await services.clock()


async def get_refusals(services: ServicesDep) -> Refusals:
    return Refusals(services)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
NowDep = Annotated[datetime, Depends(get_now)]
RefusalsDep = Annotated[Refusals, Depends(get_refusals)]


async def authenticate(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The caller, from the bearer token; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("not authenticated")
    return await services.identity.authenticate(credentials.credentials)


ActorDep = Annotated[Actor, Depends(authenticate)]


def route_action(request: Request) -> str:
    """What a refused caller attempted, for the audit trail: the endpoint's name, which for a
    decision is the workflow update's name (``decide``, ``record_vote`` …)."""
    endpoint = request.scope.get("endpoint")
    return str(getattr(endpoint, "__name__", "")) or f"{request.method} {request.url.path}"


def route_template(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


async def forbidden(
    services: Services,
    actor: Actor,
    reason: str,
    *,
    action: str,
    facts: DeclarationFacts | None = None,
    campaign_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> HTTPException:
    """Audit a 403 where it belongs and return the exception to raise."""
    refusals = Refusals(services)
    if facts is not None:
        await refusals.on_declaration(
            actor, facts, action=action, reason=reason, status=403, detail=detail
        )
    elif campaign_id is not None:
        await refusals.on_campaign(
            actor, campaign_id, action=action, reason=reason, status=403, detail=detail
        )
    else:
        await refusals.on_access(actor, action=action, reason=reason, status=403, detail=detail)
    return Problem(status.HTTP_403_FORBIDDEN, reason, code=f"{action}.forbidden")


def unknown(kind: str, value: str) -> HTTPException:
    """404 for an id nobody knows. A refusal about it is not audited: there is nothing it
    concerns, and a chain named after whatever a caller made up would only fill the trail."""
    label = {"declaration": "申报", "campaign": "评审工作"}[kind]
    return HTTPException(
        status.HTTP_404_NOT_FOUND, f"没有编号为 {value[:100]} 的{label} / unknown {kind}"
    )


class Allow:
    """The role gate: ``Depends(Allow("admin", "committee"))`` admits those roles only. A
    refused role is 403, audited on the declaration or campaign the path names; a path naming
    one that does not exist is 404 and writes nothing.

    ``action`` names the attempt in the audit trail (default: method and route template).
    """

    def __init__(self, *roles: str, action: str | None = None) -> None:
        unknown = sorted(set(roles) - set(ROLES))
        if unknown or not roles:
            raise ValueError(f"Allow() needs known roles, got {roles!r}")
        self.roles = frozenset(roles)
        self.action = action

    def __repr__(self) -> str:
        return f"Allow({', '.join(sorted(self.roles))})"

    async def __call__(self, request: Request, actor: ActorDep, services: ServicesDep) -> Actor:
        if actor.role in self.roles:
            return actor
        action = self.action or route_action(request)
        reason = (
            f"角色 {actor.role} 无权执行此操作 / role {actor.role} may not do this "
            f"({', '.join(sorted(self.roles))} may)"
        )
        params = request.path_params
        facts = None
        campaign_id = None
        if "declaration_id" in params:
            facts = await load_facts(services, params["declaration_id"])
            if facts is None:
                raise unknown("declaration", params["declaration_id"])
        elif "campaign_id" in params:
            campaign_id = params["campaign_id"]
            if not await in_session(
                services.store, lambda s: campaign_exists(s, campaign_id), readonly=True
            ):
                raise unknown("campaign", campaign_id)
        raise await forbidden(
            services,
            actor,
            reason,
            action=action,
            facts=facts,
            campaign_id=campaign_id,
            detail={"route": route_template(request), "path": request.url.path},
        )


class Public:
    """Marks a route that needs no identity (certificate check, health, metrics)."""

    def __repr__(self) -> str:
        return "PUBLIC"

    def __call__(self) -> None:
        return None


PUBLIC = Public()
