"""What every material action starts from: the declaration it concerns (its read-model facts,
its catalogue subject and campaign), the states where each party uploads, and the audited
refusal (403, 409) on the declaration's chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from temporalio.service import RPCError

from api.commands import not_found
from api.deps import forbidden
from api.refusals import Refusals
from api.services import Services, in_session
from api.subjects import DeclarationFacts, load_facts
from domain.materials import (
    applicable,
)
from domain.models import Actor, Campaign, MaterialKind
from gateway import view
from store.campaigns import get_campaign
from store.materials.objects import ObjectStore
from store.materials.records import (
    MaterialSubject,
    subject_of,
)

#: Where the applicant may still change the declaration's files.
APPLICANT_STATES = frozenset({"draft", "returned"})
#: Where the unit uploads its own material (its recommendation, the publicity and its result).
UNIT_STATES = frozenset({"unit_review", "unit_publicity", "unit_recommendation"})
#: Who gets the untouched original (everyone else the watermarked copy).
ORIGINAL_READERS = frozenset({"auditor", "admin"})
MB = 1024 * 1024


@dataclass(frozen=True)
class Target:
    facts: DeclarationFacts
    subject: MaterialSubject
    campaign: Campaign

    @property
    def kinds(self) -> dict[str, MaterialKind]:
        return applicable(self.campaign, self.subject.level, self.subject.route)


def objects_of(services: Services) -> ObjectStore:
    if services.objects is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no material storage configured")
    return services.objects


async def target_of(services: Services, declaration_id: str) -> Target:
    facts = await load_facts(services, declaration_id)
    if facts is None:
        raise not_found(declaration_id)

    def read(session: Any) -> tuple[MaterialSubject | None, Campaign | None]:
        subject = subject_of(session, declaration_id)
        campaign = get_campaign(session, subject.campaign_id) if subject is not None else None
        return subject, campaign

    subject, campaign = await in_session(services.store, read, readonly=True)
    if subject is None and services.client is not None:
        # Filed a moment ago: its first step is not in the read model yet; ask the workflow.
        try:
            current = await view(services.client, declaration_id)
        except RPCError as err:
            raise not_found(declaration_id) from err
        subject = MaterialSubject(
            declaration_id,
            current.campaign_id,
            current.level,
            current.route,
            current.state,
            current.unit_id or facts.unit_id,
        )
        campaign = await in_session(
            services.store, lambda s: get_campaign(s, facts.campaign_id), readonly=True
        )
    if subject is None or campaign is None:
        raise not_found(declaration_id)
    return Target(facts, subject, campaign)


#: The rules of an upload or a unit's decision that no schema states: a kind the campaign's
#: catalogue holds (and that applies to the declaration), a reference to a file the unit uploaded,
#: a file whose content is complete and readable as the type its bytes say.
KIND_RULE = "material.kind"
REFERENCE_RULE = "material.reference"
FILE_RULE = "material.file"


def unprocessable(
    field: str, message: str, value: Any = None, *, rule: str = "value_error"
) -> RequestValidationError:
    """422 naming the body's ``field``; ``rule`` names a rule no schema states."""
    return RequestValidationError(
        [{"type": rule, "loc": ("body", field), "msg": message, "input": value}]
    )


def party_of(actor: Actor) -> str:
    return "applicant" if actor.role == "applicant" else "unit"


async def refuse(
    services: Services,
    actor: Actor,
    target: Target,
    *,
    action: str,
    reason: str,
    code: int,
    detail: dict[str, Any] | None = None,
) -> HTTPException:
    """A refusal of a material action, audited on the declaration's chain (403, 409)."""
    if code == status.HTTP_403_FORBIDDEN:
        return await forbidden(
            services, actor, reason, action=action, facts=target.facts, detail=detail
        )
    await Refusals(services).on_declaration(
        actor, target.facts, action=action, reason=reason, status=code, detail=detail
    )
    return HTTPException(code, reason)
