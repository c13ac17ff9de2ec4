"""Custom search attributes, so that Temporal's UI and ``temporal workflow list --query`` find
declarations by campaign, state, unit, level and who must act:

    temporal workflow list --query "ReviewCampaign = 'aks-2024' AND ReviewState = 'unit_review'"

They are registered on the namespace the first time a client starts a declaration (the dev
server and a cluster alike); a workflow started without them simply does not upsert.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from domain.models import DeclarationView

CAMPAIGN = SearchAttributeKey.for_keyword("ReviewCampaign")
STATE = SearchAttributeKey.for_keyword("ReviewState")
UNIT = SearchAttributeKey.for_keyword("ReviewUnit")
LEVEL = SearchAttributeKey.for_keyword("ReviewLevel")
PENDING_ROLE = SearchAttributeKey.for_keyword("ReviewPendingRole")
KEYS = (CAMPAIGN, STATE, UNIT, LEVEL, PENDING_ROLE)


def attributes(view: DeclarationView) -> TypedSearchAttributes:
    """The search attributes of a declaration as its view stands."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(CAMPAIGN, view.campaign_id),
            SearchAttributePair(STATE, view.state),
            SearchAttributePair(UNIT, view.unit_id),
            SearchAttributePair(LEVEL, view.level),
            SearchAttributePair(PENDING_ROLE, view.pending.role if view.pending else ""),
        ]
    )


_registered: set[tuple[int, str]] = set()


async def ensure_registered(client: Client) -> bool:
    """Register the keys on the client's namespace once per process; True when they exist."""
    marker = (id(client), client.namespace)
    if marker in _registered:
        return True
    operator = client.operator_service
    try:
        existing = await operator.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        missing = {
            key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
            for key in KEYS
            if key.name not in existing.custom_attributes
        }
        if missing:
            await operator.add_search_attributes(
                AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
            )
    except Exception:  # an older server or no operator permission: run without them
        return False
    _registered.add(marker)
    return True
