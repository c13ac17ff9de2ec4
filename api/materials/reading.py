"""Listing and reading a declaration's files (docs/rules.md §19): every read is audited on the
materials chain; under blind review the committee sees only masked files and no names; a PDF
or image goes out watermarked with its reader, the original only to auditors, administrators
and whoever uploaded it."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, status
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool
from starlette.responses import FileResponse, Response, StreamingResponse

from api.deps import forbidden
from api.documents import stamp, watermark_text
from api.masking import MASK
from api.materials.target import (
    ORIGINAL_READERS,
    Target,
    objects_of,
    target_of,
)
from api.policy import may_read, sees_masked
from api.services import Services, in_session
from domain.materials import (
    CONTENT_TYPES,
    FileType,
    missing_kinds,
)
from domain.models import Actor
from store.materials.objects import FileObjects, ObjectStore
from store.materials.records import (
    all_files,
    chain_events,
    material_json,
    record_read,
)
from store.materials.tables import Material


def _masked_item(item: dict[str, Any]) -> dict[str, Any]:
    ext = item["content_type"].rsplit("/", 1)[-1].replace("jpeg", "jpg")
    return {
        **item,
        "filename": f"{item['kind']}.{ext}",
        "uploaded_by": MASK,
        "uploader_org": MASK if item["uploader_org"] else "",
    }


async def _readable(services: Services, actor: Actor, declaration_id: str, action: str) -> Target:
    target = await target_of(services, declaration_id)
    if not may_read(actor, target.facts):
        raise await forbidden(
            services,
            actor,
            "无权查看该申报的材料 / you may not read this declaration's materials",
            action=action,
            facts=target.facts,
        )
    return target


async def listing(services: Services, actor: Actor, declaration_id: str) -> dict[str, Any]:
    """Every file of the declaration (current and replaced) and the catalogue's completeness."""
    target = await _readable(services, actor, declaration_id, "list_materials")
    rows = await in_session(services.store, lambda s: all_files(s, declaration_id), readonly=True)
    blind = target.campaign.blind_review
    masked_reader = sees_masked(actor, blind)
    items = [material_json(m) for m in rows if m.masked or not masked_reader]
    if masked_reader:
        items = [_masked_item(i) for i in items]
    current = [(m.kind, m.masked) for m in rows if m.superseded_by is None]
    kinds = target.kinds
    missing = missing_kinds(kinds, current, masked_required=blind)
    catalogue = [
        {
            "kind": name,
            "label": kind.label,
            "required": kind.required,
            "uploader": kind.uploader,
            "max_mb": kind.max_mb,
            "types": list(kind.types) or list(CONTENT_TYPES),
            "present": any(k == name for k, _ in current),
            "masked_present": any(k == name and m for k, m in current),
            "missing": name in missing,
        }
        for name, kind in kinds.items()
    ]
    return {
        "declaration_id": declaration_id,
        "state": target.subject.state,
        "blind_review": blind,
        "items": items,
        "missing_required": missing,
        "catalogue": catalogue,
    }


async def material_events(
    services: Services, actor: Actor, declaration_id: str
) -> list[dict[str, Any]]:
    """The materials chain (uploads and reads), oldest first; under blind review the committee
    sees no file name and no account of the applicant or the unit."""
    target = await _readable(services, actor, declaration_id, "material_history")
    events = await in_session(
        services.store, lambda s: chain_events(s, declaration_id), readonly=True
    )
    if not sees_masked(actor, target.campaign.blind_review):
        return events
    out = []
    for event in events:
        event = dict(event)
        if event["actor_role"] in ("applicant", "unit_reviewer"):
            event["actor_id"] = MASK
            event["actor_org"] = MASK if event["actor_org"] else ""
        if "filename" in event["detail"]:
            event["detail"] = {**event["detail"], "filename": MASK}
        out.append(event)
    return out


def _disposition(name: str) -> str:
    ascii_name = "".join(ch if 32 < ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name)
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


async def download(
    services: Services,
    actor: Actor,
    declaration_id: str,
    material_id: str,
    *,
    watermark: bool | None = None,
    via: str = "api",
) -> Response:
    """One file: audited as read, then sent (watermarked unless the original is asked for by a
    reader who may have it)."""
    action = "read_material"
    target = await _readable(services, actor, declaration_id, action)
    material = await in_session(
        services.store, lambda s: s.get(Material, material_id), readonly=True
    )
    if material is None or material.declaration_id != declaration_id:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"该申报没有编号为 {material_id} 的材料 / no material {material_id} on {declaration_id}",
        )
    masked_reader = sees_masked(actor, target.campaign.blind_review)
    if masked_reader and not material.masked:
        raise await forbidden(
            services,
            actor,
            "盲评：评审委员会只能查看已遮盖的材料 (001 四(一)3) / under blind review the committee "
            "reads masked files only",
            action=action,
            facts=target.facts,
            detail={"material_id": material_id},
        )
    may_have_original = actor.role in ORIGINAL_READERS or actor.id == material.uploaded_by
    stamped = watermark if watermark is not None else not may_have_original
    if not stamped and not may_have_original:
        raise await forbidden(
            services,
            actor,
            "只有审计、管理员和上传者可以下载未加水印的原件 / only auditors, administrators and "
            "the uploader get the original without a watermark",
            action=action,
            facts=target.facts,
            detail={"material_id": material_id},
        )
    at = await services.clock()
    await in_session(
        services.store,
        lambda s: record_read(
            s,
            material,
            actor=actor,
            at=at,
            stage=target.subject.state,
            watermarked=stamped,
            via=via,
        ),
    )
    file_type: FileType = (
        "pdf"
        if material.content_type == "application/pdf"
        else ("jpeg" if material.content_type == "image/jpeg" else "png")
    )
    name = material.filename
    if masked_reader:
        name = f"{material.kind}-{material.id}.{'jpg' if file_type == 'jpeg' else file_type}"
    headers = {
        "Content-Disposition": _disposition(name),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Material-SHA256": material.sha256,
        "X-Watermarked": "true" if stamped else "false",
    }
    objects = objects_of(services)
    if not stamped:
        headers["Content-Length"] = str(material.size)
        return StreamingResponse(
            iterate_in_threadpool(_chunks(objects, material.sha256)),
            media_type=material.content_type,
            headers=headers,
        )
    text = watermark_text(actor, at, declaration_id)
    out = await asyncio.to_thread(_stamped_copy, objects, material.sha256, file_type, text)
    return FileResponse(
        out,
        media_type=material.content_type,
        headers=headers,
        background=BackgroundTask(os.unlink, out),
    )


def _chunks(objects: ObjectStore, sha256: str) -> Iterator[bytes]:
    yield from objects.read(sha256)


def _stamped_copy(objects: ObjectStore, sha256: str, file_type: FileType, text: str) -> str:
    """The watermarked copy in a temporary file (removed once sent)."""
    source: Path | None = objects.local_path(sha256) if isinstance(objects, FileObjects) else None
    fetched: str | None = None
    if source is None:
        handle, fetched = tempfile.mkstemp(prefix="material-", suffix=".orig")
        with os.fdopen(handle, "wb") as out:
            for block in objects.read(sha256):
                out.write(block)
        source = Path(fetched)
    handle, target = tempfile.mkstemp(prefix="material-", suffix=".stamped")
    try:
        with os.fdopen(handle, "wb") as out:
            stamp(source, out, file_type, text)
    except BaseException:
        os.unlink(target)
        raise
    finally:
        if fetched:
            os.unlink(fetched)
    return target
