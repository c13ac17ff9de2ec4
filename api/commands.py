"""One path for every decision the API sends to a declaration.

``target`` finds the declaration (404) and checks the caller's account and organisation (403,
audited); ``build`` turns a body into the domain command with the caller as actor (422 on the
command's own constraints); ``execute`` runs it as the workflow's update through
:func:`gateway.send` and answers with the new view, masked for the committee under blind
review. A refusal answers 409 with the workflow's own reason: a running workflow's validator has
recorded it already (``send`` signals it back); an ended workflow cannot, so the API appends it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.deps import forbidden
from api.masking import mask_view, without_objectors
from api.policy import org_refusal, sees_masked
from api.problems import Problem
from api.refusals import Refusals
from api.services import Services, in_session
from api.subjects import DeclarationFacts, load_facts
from domain.commands import BY_MODEL
from domain.defense import average_onsite_score
from domain.models import Actor, Command, DeclarationView, RefusalRecord
from gateway import DecisionRefused, DeclarationEnded, send
from store.campaigns import blind_review_of, get_campaign
from store.queries.campaigns import campaign_views
from store.queries.history import objection_texts

__all__ = [
    "blind_review",
    "build",
    "execute",
    "not_found",
    "present",
    "require_client",
    "target",
]

C = TypeVar("C", bound=Command)
V = TypeVar("V", bound=DeclarationView)


def not_found(declaration_id: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND, f"没有编号为 {declaration_id} 的申报 / unknown declaration"
    )


def require_client(services: Services) -> Client:
    if services.client is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Temporal is not connected")
    return services.client


async def target(
    services: Services,
    actor: Actor,
    declaration_id: str,
    *,
    action: str,
    org_scoped: bool = True,
) -> DeclarationFacts:
    """The declaration a decision is for: 404 when unknown, 403 (audited) when the caller's
    account or organisation may not act on it."""
    facts = await load_facts(services, declaration_id)
    if facts is None:
        raise not_found(declaration_id)
    if org_scoped:
        reason = org_refusal(actor, facts)
        if reason:
            raise await forbidden(services, actor, reason, action=action, facts=facts)
    return facts


def build(cls: type[C], actor: Actor, **fields: Any) -> C:
    """The domain command, or 422 with the command's own validation errors."""
    try:
        return cls(actor=actor, **fields)
    except ValidationError as err:
        errors = err.errors(include_url=False, include_context=False)
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in errors if e["loc"] != ("actor",)] or errors
        ) from err


async def blind_review(services: Services, campaign_id: str) -> bool:
    """Whether the campaign reviews blind; an unknown campaign counts as blind (fail closed)."""
    known = await in_session(
        services.store, lambda s: blind_review_of(s, [campaign_id]), readonly=True
    )
    return known.get(campaign_id, True)


#: Who reads objectors and objection texts: those who resolve objections, and auditors.
OBJECTION_READERS = frozenset({"unit_reviewer", "committee", "auditor", "admin"})


async def present(services: Services, actor: Actor, view: V) -> dict[str, Any]:
    """The view as this caller may see it (JSON-ready): masked for the committee under blind
    review (docs/rules.md §9); objections with their texts (kept in the audit trail, §10.8) for
    those who resolve them and auditors, with no objector named for anyone else."""
    if view.objections and actor.role in OBJECTION_READERS:
        texts = await in_session(
            services.store, lambda s: objection_texts(s, view.id), readonly=True
        )
        view = view.model_copy(
            update={
                "objections": [
                    o.model_copy(update={"text": o.text or texts.get(o.id, "")})
                    for o in view.objections
                ]
            }
        )
    elif view.objections:
        view = without_objectors(view)
    if view.defense.exemption and not view.defense.required:
        view = await _with_average_score(services, view)
    if actor.role == "committee" and sees_masked(
        actor, await blind_review(services, view.campaign_id)
    ):
        view = mask_view(view)
    return view.model_dump(mode="json")


async def _with_average_score(services: Services, view: V) -> V:
    """docs/rules.md §5 (003): an exempt applicant where defenses are scored is given the
    average of the year's on-site scores of the same specialty, once there is one."""

    def read(session: Any) -> float | None:
        campaign = get_campaign(session, view.campaign_id)
        if campaign is None or not campaign.defense.scored:
            return None
        scored = [
            (v.specialty, v.defense.mode, v.defense.score)
            for v in campaign_views(session, view.campaign_id, DEFENDED)
        ]
        return average_onsite_score(scored, view.specialty)

    average = await in_session(services.store, read, readonly=True)
    defense = view.defense.model_copy(update={"average_score": average})
    return view.model_copy(update={"defense": defense})


#: States in which a declaration's defense has been recorded.
DEFENDED = (
    "committee_review",
    "result_publicity",
    "result_confirmation",
    "certified",
    "not_approved",
    "revoked",
    "defense_failed",
)


async def execute(
    services: Services,
    actor: Actor,
    facts: DeclarationFacts,
    cmd: Command,
    *,
    result_type: type[V] = DeclarationView,  # type: ignore[assignment]
) -> dict[str, Any]:
    """Send ``cmd`` as its command's update (``domain.commands``) and answer the new view."""
    client = require_client(services)
    update = BY_MODEL[type(cmd)].name

    async def report(record: RefusalRecord) -> None:
        """A refusal the validator answered, audited once per caller and target a minute."""
        await Refusals(services).on_declaration(
            actor,
            facts,
            action=update,
            reason=record.reason,
            status=409,
            detail=record.detail,
            code=record.code,
        )

    try:
        view = await send(client, facts.id, update, cmd, result_type=result_type, report=report)
    except DeclarationEnded as err:
        await Refusals(services).on_declaration(
            actor,
            facts,
            action=update,
            reason=err.reason,
            status=409,
            detail={"command": cmd.model_dump(mode="json", exclude={"actor"})},
            ended=True,
        )
        raise Problem(status.HTTP_409_CONFLICT, err.reason, code=err.code) from err
    except DecisionRefused as err:
        services.metrics.refusals.labels("409", update).inc()
        raise Problem(status.HTTP_409_CONFLICT, err.reason, code=err.code or None) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise not_found(facts.id) from err
        raise
    return await present(services, actor, view)
