"""The canonical form of an audit event and its hash (the scheme: :mod:`store.audit`).

``canonical_bytes`` serialises one JSON object holding exactly the fifteen
:data:`CANONICAL_FIELDS` (every column of ``audit_event`` except ``id`` and ``hash``): keys sorted
at every depth, no whitespace, non-ASCII written as itself, UTF-8; ``at`` in UTC as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``; ``reasons`` and ``detail`` as JSON values. An event's hash is the
SHA-256 of those bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from domain.models import AuditEventIn
from store.tables import AuditEvent, utc

__all__ = [
    "CANONICAL_FIELDS",
    "GENESIS_HASH",
    "ChainCheck",
    "canonical_bytes",
    "canonical_instant",
    "event_hash",
    "events_of",
    "row_dict",
]

GENESIS_HASH = "0" * 64

CANONICAL_FIELDS: tuple[str, ...] = (
    "declaration_id",
    "campaign_id",
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "actor_org",
    "action",
    "stage_before",
    "stage_after",
    "outcome",
    "opinion",
    "reasons",
    "detail",
    "prev_hash",
)


class ChainCheck(BaseModel):
    """``GET /audit/verify``: ``ok``, how many events were checked and the first bad one."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_declaration_id: str | None = None


def canonical_instant(at: datetime) -> str:
    """``at`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return utc(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash covers (see the module docstring). ``event`` holds the fifteen
    canonical fields (extra keys such as ``id`` and ``hash`` are ignored); ``at`` may be a
    datetime or already-canonical text, ``reasons``/``detail`` values or their JSON text."""
    missing = [name for name in CANONICAL_FIELDS if name not in event]
    if missing:
        raise ValueError(f"audit event lacks {', '.join(missing)}")
    body = {name: event[name] for name in CANONICAL_FIELDS}
    if isinstance(body["at"], datetime):
        body["at"] = canonical_instant(body["at"])
    for name in ("reasons", "detail"):
        if isinstance(body[name], str):
            body[name] = json.loads(body[name])
    return _dumps(body).encode("utf-8")


def event_hash(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def row_dict(row: Any) -> dict[str, Any]:
    """A stored row (an :class:`AuditEvent` or a plain row of its columns) as the canonical
    mapping (plus ``hash``)."""
    out = {name: getattr(row, name) for name in CANONICAL_FIELDS}
    out["at"] = canonical_instant(row.at)
    out["reasons"] = json.loads(row.reasons)
    out["detail"] = json.loads(row.detail)
    out["hash"] = row.hash
    return out


def _incoming_dict(event: AuditEventIn) -> dict[str, Any]:
    data = event.model_dump(mode="json")
    data["at"] = canonical_instant(event.at)
    return data


def _content(data: Mapping[str, Any]) -> dict[str, Any]:
    """What identifies an event's content: the canonical fields other than ``prev_hash``."""
    return {name: data[name] for name in CANONICAL_FIELDS if name != "prev_hash"}


def events_of(session: Session, declaration_id: str) -> list[AuditEvent]:
    """A declaration's trail, oldest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.declaration_id == declaration_id)
        .order_by(col(AuditEvent.seq))
    )
    return list(session.exec(query))
