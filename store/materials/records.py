"""The materials' metadata and their own audit chain (docs/rules.md §19).

Every upload and every download is an accepted event of the declaration's **materials chain**,
``materials:<declaration id>``: hash-chained and verified like any chain of the audit store
(``store.audit``), written by the API in the same transaction as the metadata it describes. It is
a chain of its own because a declaration's chain is written by its workflow alone, and reading a
file is no step of the review: it must not wait for, or wake, the workflow. Refused attempts
(a party that may not upload, a stage that takes no upload) are refusals like any other and go to
the declaration's own chain.

An upload is written in one transaction, serialised per declaration (an advisory lock on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite): the new row, its predecessor marked superseded, the
audit event, and, last, the commit of the object (``commit``); if any of it fails nothing of it
is visible.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.materials import Uploader, applicable, missing_kinds, new_material_id
from domain.models import Actor, AuditEventIn, Campaign
from store.audit import append_events, events_of, row_dict
from store.db import advisory_xact_lock
from store.materials.objects import ObjectStore
from store.materials.tables import Material
from store.tables import AuditEvent, DeclarationRead

__all__ = [
    "MaterialSubject",
    "NewMaterial",
    "ReplacedMeanwhile",
    "Sweep",
    "Uploaded",
    "all_files",
    "chain_events",
    "current_files",
    "material_json",
    "materials_chain",
    "missing_materials",
    "record_read",
    "record_upload",
    "referenced_hashes",
    "subject_of",
    "sweep_orphans",
]

CHAIN_PREFIX = "materials:"


def materials_chain(declaration_id: str) -> str:
    """The audit chain of a declaration's uploads and downloads."""
    return f"{CHAIN_PREFIX}{declaration_id}"


@dataclass(frozen=True)
class MaterialSubject:
    """What the materials routes need to know of a declaration (from the read model)."""

    declaration_id: str
    campaign_id: str
    level: str
    route: str
    state: str
    unit_id: str


def subject_of(session: Session, declaration_id: str) -> MaterialSubject | None:
    table = DeclarationRead.__table__  # type: ignore[attr-defined]
    row = (
        session.connection()
        .execute(
            sa.select(
                table.c.campaign_id, table.c.level, table.c.route, table.c.state, table.c.unit_id
            ).where(table.c.declaration_id == declaration_id)
        )
        .first()
    )
    if row is None:
        return None
    return MaterialSubject(
        declaration_id, row.campaign_id, row.level, row.route, row.state, row.unit_id
    )


def all_files(session: Session, declaration_id: str) -> list[Material]:
    """Every file ever uploaded for the declaration, by kind, oldest first."""
    query = (
        select(Material)
        .where(Material.declaration_id == declaration_id)
        .order_by(col(Material.kind), col(Material.uploaded_at), col(Material.id))
    )
    return list(session.exec(query))


def current_files(session: Session, declaration_id: str) -> list[Material]:
    query = (
        select(Material)
        .where(Material.declaration_id == declaration_id, col(Material.superseded_by).is_(None))
        .order_by(col(Material.kind), col(Material.masked))
    )
    return list(session.exec(query))


def missing_materials(
    session: Session,
    declaration_id: str,
    campaign: Campaign,
    level: str,
    route: str,
    masked_required: bool,
    *,
    uploaders: Sequence[Uploader] = ("applicant",),
) -> list[str]:
    """The required kinds of the campaign's catalogue (for this level and route, uploaded by one
    of ``uploaders``: the applicant's by default) that have no current file; with
    ``masked_required`` (blind review) a required applicant kind with no masked file too."""
    kinds = applicable(campaign, level, route)
    if not any(k.required for k in kinds.values()):
        return []
    held = [(m.kind, m.masked) for m in current_files(session, declaration_id)]
    return missing_kinds(
        kinds,
        held,
        masked_required=masked_required,
        uploaders=uploaders,
    )


def material_json(m: Material) -> dict[str, Any]:
    """A file's metadata as the API answers it."""
    return {
        "material_id": m.id,
        "kind": m.kind,
        "filename": m.filename,
        "content_type": m.content_type,
        "size": m.size,
        "sha256": m.sha256,
        "masked": m.masked,
        "pages": m.pages,
        "uploaded_by": m.uploaded_by,
        "uploader_role": m.uploader_role,
        "uploader_org": m.uploader_org,
        "uploaded_at": m.uploaded_at.isoformat(),
        "stage": m.stage,
        "replaces": m.replaces,
        "current": m.superseded_by is None,
        "superseded_by": m.superseded_by,
        "superseded_at": m.superseded_at.isoformat() if m.superseded_at else None,
    }


# --------------------------------------------------------------------------- the chain


def _append(
    session: Session,
    *,
    declaration_id: str,
    campaign_id: str,
    actor: Actor,
    action: str,
    stage: str | None,
    at: datetime,
    detail: dict[str, Any],
) -> int:
    chain = materials_chain(declaration_id)
    advisory_xact_lock(session, f"audit:{chain}")
    last = session.exec(
        select(func.max(col(AuditEvent.seq))).where(col(AuditEvent.declaration_id) == chain)
    ).one()
    seq = int(last or 0) + 1
    append_events(
        session,
        [
            AuditEventIn(
                declaration_id=chain,
                campaign_id=campaign_id,
                seq=seq,
                at=at,
                actor_id=actor.id,
                actor_role=actor.role,
                actor_org=actor.org,
                action=action,
                stage_before=stage,
                stage_after=stage,
                outcome="accepted",
                detail=detail,
            )
        ],
    )
    return seq


def chain_events(session: Session, declaration_id: str) -> list[dict[str, Any]]:
    """The materials chain, oldest first, each event with its fifteen canonical fields and hash."""
    return [row_dict(row) for row in events_of(session, materials_chain(declaration_id))]


# --------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class NewMaterial:
    """A checked upload, spooled and hashed, waiting to be recorded."""

    declaration_id: str
    campaign_id: str
    kind: str
    masked: bool
    filename: str
    content_type: str
    size: int
    sha256: str
    pages: int | None = None


@dataclass(frozen=True)
class Uploaded:
    material: Material
    #: False when the same file was already the current one (nothing new was written).
    created: bool


class ReplacedMeanwhile(Exception):
    """The caller expected to replace one file, but another is current now."""

    def __init__(self, current: str | None) -> None:
        super().__init__(current or "none")
        #: The id of the file that is current now (None: no file).
        self.current = current


#: ``expect_replaces`` when the caller states no expectation.
ANY = object()


def record_upload(
    session: Session,
    new: NewMaterial,
    *,
    actor: Actor,
    at: datetime,
    stage: str,
    commit: Callable[[], object],
    expect_replaces: object = ANY,
) -> Uploaded:
    """Record an upload: it replaces the current file of its kind (and masked flag), which stays
    on record. The same bytes as the current file record nothing and answer that file. With
    ``expect_replaces`` (a material id, or None for "no file yet"), a different current file
    raises :class:`ReplacedMeanwhile`. ``commit`` writes the object; it runs last, inside the
    transaction."""
    advisory_xact_lock(session, f"materials:{new.declaration_id}")
    current = session.exec(
        select(Material).where(
            Material.declaration_id == new.declaration_id,
            Material.kind == new.kind,
            Material.masked == new.masked,
            col(Material.superseded_by).is_(None),
        )
    ).first()
    if expect_replaces is not ANY and (current.id if current else None) != expect_replaces:
        raise ReplacedMeanwhile(current.id if current else None)
    if current is not None and current.sha256 == new.sha256:
        commit()  # the bytes are the current file's: make sure its object is there
        return Uploaded(current, created=False)
    material = Material(
        id=new_material_id(uuid.uuid4().hex[:12]),
        declaration_id=new.declaration_id,
        campaign_id=new.campaign_id,
        kind=new.kind,
        masked=new.masked,
        filename=new.filename,
        content_type=new.content_type,
        size=new.size,
        sha256=new.sha256,
        pages=new.pages,
        uploaded_by=actor.id,
        uploader_role=actor.role,
        uploader_org=actor.org,
        uploaded_at=at,
        stage=stage,
        replaces=current.id if current else None,
    )
    if current is not None:
        current.superseded_by = material.id
        current.superseded_at = at
        session.add(current)
        session.flush()  # the old row stops being current before the new one is
    session.add(material)
    session.flush()
    detail = {
        "material_id": material.id,
        "kind": material.kind,
        "masked": material.masked,
        "filename": material.filename,
        "content_type": material.content_type,
        "size": material.size,
        "sha256": material.sha256,
        "replaces": material.replaces,
    }
    _append(
        session,
        declaration_id=new.declaration_id,
        campaign_id=new.campaign_id,
        actor=actor,
        action="upload_material",
        stage=stage,
        at=at,
        detail=detail,
    )
    commit()
    return Uploaded(material, created=True)


def record_read(
    session: Session,
    material: Material,
    *,
    actor: Actor,
    at: datetime,
    stage: str | None,
    watermarked: bool,
    via: str,
) -> int:
    """Who read which file when (谁看过): an accepted ``read_material`` event."""
    return _append(
        session,
        declaration_id=material.declaration_id,
        campaign_id=material.campaign_id,
        actor=actor,
        action="read_material",
        stage=stage,
        at=at,
        detail={
            "material_id": material.id,
            "kind": material.kind,
            "sha256": material.sha256,
            "watermarked": watermarked,
            "via": via,
        },
    )


# --------------------------------------------------------------------------- housekeeping


@dataclass(frozen=True)
class Sweep:
    orphans: list[str]
    spools: int


def sweep_orphans(
    referenced: Callable[[Iterable[str]], set[str]],
    objects: ObjectStore,
    *,
    now: datetime,
    grace: timedelta = timedelta(hours=24),
    dry_run: bool = False,
) -> Sweep:
    """Remove objects that no row names and that are older than ``grace`` (an upload whose
    database write failed after its object was committed), and spool files of uploads that never
    finished. ``referenced`` answers which of the given hashes some row names. An object younger
    than ``grace`` may belong to an upload whose row is being written: it is kept."""
    candidates = [sha for sha, written in objects.objects() if written < now - grace]
    orphans: list[str] = []
    for start in range(0, len(candidates), 500):
        batch = candidates[start : start + 500]
        named = referenced(batch)
        orphans.extend(sha for sha in batch if sha not in named)
    spools = objects.stale_spools(now - grace)
    if not dry_run:
        for sha in orphans:
            objects.delete(sha)
        for path in spools:
            path.unlink(missing_ok=True)
    return Sweep(orphans=orphans, spools=len(spools))


def referenced_hashes(session: Session, hashes: Iterable[str]) -> set[str]:
    wanted = sorted(set(hashes))
    if not wanted:
        return set()
    rows = session.exec(select(Material.sha256).where(col(Material.sha256).in_(wanted)))
    return set(rows)
