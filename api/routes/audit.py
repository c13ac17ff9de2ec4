"""The audit trail for auditors (api.md §3, domain.md §8): verify the hash chains of one
declaration or of a whole campaign, and export a campaign's trail as CSV or JSON lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from sqlmodel import col, select

from api.deps import Allow, ServicesDep
from api.services import in_session
from domain.models import Actor
from store.audit import CANONICAL_FIELDS, ChainCheck, canonical_instant, verify
from store.db import Store
from store.tables import AuditEvent

router = APIRouter(prefix="/audit", tags=["audit"])

Auditor = Annotated[Actor, Depends(Allow("auditor", "admin"))]

EXPORT_COLUMNS: tuple[str, ...] = (*CANONICAL_FIELDS, "hash")
CHUNK = 500


@router.get("/verify")
async def verify_chain(
    _: Auditor,
    services: ServicesDep,
    declaration_id: str | None = None,
    campaign_id: str | None = None,
) -> ChainCheck:
    """Recompute every hash and check each ``prev_hash`` link, in ``seq`` order; the first bad
    sequence number is reported."""
    if (declaration_id is None) == (campaign_id is None):
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "declaration_id"), "input": None,
              "msg": "give exactly one of declaration_id and campaign_id"}]
        )  # fmt: skip
    return await in_session(
        services.store,
        lambda s: verify(s, declaration_id=declaration_id, campaign_id=campaign_id),
        readonly=True,
    )


def _rows(store: Store, campaign_id: str) -> Iterator[dict[str, object]]:
    """The campaign's events (every declaration's chain, in ``seq`` order), streamed."""
    with store.session(readonly=True) as session:
        query = (
            select(AuditEvent)
            .where(AuditEvent.campaign_id == campaign_id)
            .order_by(col(AuditEvent.declaration_id), col(AuditEvent.seq))
            .execution_options(yield_per=CHUNK)
        )
        for row in session.exec(query):
            out: dict[str, object] = {name: getattr(row, name) for name in EXPORT_COLUMNS}
            out["at"] = canonical_instant(row.at)
            yield out


def _jsonl(store: Store, campaign_id: str) -> Iterator[bytes]:
    for row in _rows(store, campaign_id):
        row["reasons"] = json.loads(str(row["reasons"]))
        row["detail"] = json.loads(str(row["detail"]))
        yield (json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def _csv(store: Store, campaign_id: str) -> Iterator[bytes]:
    """``reasons`` and ``detail`` as the canonical JSON text the table stores, so every hash can
    be recomputed from the export alone."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in _rows(store, campaign_id):
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


@router.get("/export")
async def export_trail(
    _: Auditor,
    services: ServicesDep,
    campaign_id: Annotated[str, Query(min_length=1)],
    format: Literal["csv", "jsonl"] = "jsonl",
) -> StreamingResponse:
    await in_session(services.store, lambda s: None, readonly=True)  # fail early, not mid-stream
    if format == "csv":
        body, media = _csv(services.store, campaign_id), "text/csv; charset=utf-8"
    else:
        body, media = _jsonl(services.store, campaign_id), "application/x-ndjson"
    filename = f"audit-{campaign_id}.{format}".replace('"', "")
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
