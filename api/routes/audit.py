"""The audit trail for auditors (docs/rules.md §8, §18): verify the hash chains of one declaration
or of a whole campaign, and export a campaign's or a declaration's trail as CSV or JSON lines, with
exactly the audit store's columns (:mod:`store.export`, which the CLI's ``audit export`` uses
too)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from api.deps import PUBLIC, Allow, ServicesDep
from api.headers import content_disposition
from api.problems import Unprocessable, rule_error
from api.services import in_session
from domain.models import Actor
from store.audit import ChainCheck, verify
from store.export import MEDIA_TYPES
from store.export import export_trail as export_rows

router = APIRouter(prefix="/audit", tags=["audit"])

Auditor = Annotated[Actor, Depends(Allow("auditor", "admin"))]


#: The rule of :func:`_one_scope`: OpenAPI cannot say that one of two parameters is required.
ONE_SCOPE = "audit.one_scope"


def _one_scope(declaration_id: str | None, campaign_id: str | None) -> None:
    """422 unless exactly one of the two scopes is given."""
    if (declaration_id is None) == (campaign_id is None):
        where = ("query", "declaration_id")
        why = "give exactly one of declaration_id and campaign_id"
        raise Unprocessable(ONE_SCOPE, [rule_error(ONE_SCOPE, where, why)])


@router.get("/public-key", dependencies=[Depends(PUBLIC)])
async def public_key(services: ServicesDep) -> dict[str, Any]:
    """The service's audit signing key (Ed25519, base64 of the 32 raw bytes): what a dossier's
    signature and every chain's checkpoint verify with (``python -m store.dossier_verify
    DOSSIER.json --public-key KEY``). ``trusted`` adds earlier keys still accepted, by id."""
    signer = services.store.signer
    return {
        "algorithm": "Ed25519",
        "key_id": signer.key_id,
        "public_key": signer.public_key,
        "trusted": signer.trusted_keys(),
    }


@router.get("/verify")
async def verify_chain(
    _: Auditor,
    services: ServicesDep,
    declaration_id: str | None = None,
    campaign_id: str | None = None,
) -> ChainCheck:
    """Recompute every hash and check each ``prev_hash`` link, in ``seq`` order; the first bad
    sequence number is reported."""
    _one_scope(declaration_id, campaign_id)
    return await in_session(
        services.store,
        lambda s: verify(s, declaration_id=declaration_id, campaign_id=campaign_id),
        readonly=True,
    )


def _encoded(chunks: Iterator[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the trail, CSV with a header row or one JSON object per line",
            "content": {
                media.split(";")[0]: {"schema": {"type": "string"}}
                for media in MEDIA_TYPES.values()
            },
        }
    },
)
async def export_trail(
    _: Auditor,
    services: ServicesDep,
    campaign_id: Annotated[str | None, Query(min_length=1)] = None,
    declaration_id: Annotated[str | None, Query(min_length=1)] = None,
    format: Literal["csv", "jsonl"] = "jsonl",
) -> StreamingResponse:
    """A campaign's or one declaration's whole trail, streamed: the columns of the audit store
    (docs/rules.md §18) in order (``declaration_id`` … ``prev_hash``, ``hash``), CSV with a header
    row or one JSON object per line (``store.export``)."""
    _one_scope(declaration_id, campaign_id)
    await in_session(services.store, lambda s: None, readonly=True)  # fail early, not mid-stream
    chunks = export_rows(
        services.store, format=format, declaration_id=declaration_id, campaign_id=campaign_id
    )
    scope = campaign_id if campaign_id is not None else declaration_id
    return StreamingResponse(
        _encoded(chunks),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": content_disposition(f"audit-{scope}.{format}")},
    )
