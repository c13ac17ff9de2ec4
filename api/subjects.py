"""What the API must know about a declaration before it lets a caller near it: its campaign (and
the committee and finance offices acting for it), unit, authority chain and who filed it.

Read from the store first (:func:`store.queries.declarations.declaration_facts`: the read model,
and the first audit event, whose actor filed it); a declaration whose first step is not recorded
yet is read from its workflow's start input. Unknown to both: None (404).
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.services import Services, in_session
from domain.models import DeclarationStart
from gateway import handle_for
from store.queries.declarations import DeclarationFacts, declaration_facts

__all__ = ["DeclarationFacts", "load_facts"]


async def _from_workflow(client: Client, declaration_id: str) -> DeclarationFacts | None:
    handle = handle_for(client, declaration_id)
    try:
        async for event in handle.fetch_history_events():
            attributes = event.workflow_execution_started_event_attributes
            break
        else:
            return None
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return None
        raise
    try:
        decoded = await client.data_converter.decode(attributes.input.payloads, [DeclarationStart])
    except Exception:  # not a start this service wrote (e.g. forged, without its payload key)
        return None
    start = decoded[0] if decoded else None
    if not isinstance(start, DeclarationStart):
        return None
    return DeclarationFacts(
        id=declaration_id,
        campaign_id=start.campaign.id,
        unit_id=start.declaration.unit_id,
        authority_chain=tuple(start.declaration.authority_chain),
        filed_by=start.filed_by.id,
        committee_org=start.campaign.committee_org,
        fee_offices=tuple(start.campaign.fee_offices()),
        confirming_org=start.campaign.confirming_org,
    )


#: Declarations whose facts are kept in memory per API process (a few hundred bytes each).
FACTS_CACHED = 20_000


async def load_facts(
    services: Services, declaration_id: str, *, with_state: bool = False
) -> DeclarationFacts | None:
    """The declaration's facts, or None when it is unknown. What never changes (campaign, unit,
    authority chain, who filed it) is kept in memory once read from the store, so a decision
    reads nothing before it reaches the workflow; ``with_state`` reads the store's current
    ``state`` too."""
    cache = services.facts
    if not with_state and (cached := cache.get(declaration_id)) is not None:
        cache.move_to_end(declaration_id)
        return cast(DeclarationFacts, cached)
    facts = await in_session(
        services.store, lambda s: declaration_facts(s, declaration_id), readonly=True
    )
    if facts is not None:
        cache[declaration_id] = replace(facts, state=None)
        while len(cache) > FACTS_CACHED:
            cache.popitem(last=False)
        return facts
    if services.client is None:
        return None
    return await _from_workflow(services.client, declaration_id)
