"""A declaration's materials (网上申报 uploads, docs/rules.md §19): upload, list, read, and the
checks the unit's decisions make against them. Shared by the JSON routes
(:mod:`api.routes.materials`) and the console, so both answer and audit alike.

**Who uploads what, when.** The applicant who filed the declaration uploads the kinds the
catalogue gives to the applicant, while the declaration is theirs to change: ``draft`` and
``returned`` (not while the unit reviews it: the unit answers for what it saw, 谁审查，谁负责; a
file it finds wrong is returned with a ``material:<kind>`` reason code). The reviewers of the
declaration's unit upload the unit's kinds (the stamped recommendation 推荐意见, the publicity and
its result 公示结果) from ``unit_review`` to ``unit_recommendation``. Anyone else, or another stage:
403 or 409, audited on the declaration's chain.

**Who reads what.** Whoever may read the declaration reads its files; under blind review (001
四(一)3) the committee reads only the files marked masked (遮盖). Every read is an audit event of
the materials chain naming the reader. A PDF or image goes out with the reader's visible
watermark; the untouched original (whose SHA-256 the audit trail names) only to auditors,
administrators and whoever uploaded it.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool
from starlette.responses import FileResponse, Response, StreamingResponse
from temporalio.service import RPCError

from api.commands import not_found
from api.deps import forbidden
from api.documents import inspect_file, stamp, watermark_text
from api.masking import MASK
from api.policy import may_read, org_refusal, sees_masked
from api.refusals import Refusals
from api.services import Services, in_session
from api.subjects import DeclarationFacts, load_facts
from api.uploads import ReceivedUpload, receive_upload, too_large
from domain.materials import (
    CONTENT_TYPES,
    FileType,
    applicable,
    bad_filename,
    incomplete,
    is_material_id,
    missing_kinds,
    missing_refusal,
    reason_kinds,
    sniff,
    unit_kinds_missing_refusal,
)
from domain.models import Actor, Campaign, DecisionCommand, MaterialKind
from gateway import view
from store.campaigns import get_campaign
from store.materials.objects import FileObjects, ObjectStore
from store.materials.records import (
    ANY,
    MaterialSubject,
    NewMaterial,
    ReplacedMeanwhile,
    all_files,
    chain_events,
    current_files,
    material_json,
    missing_materials,
    record_read,
    record_upload,
    subject_of,
)
from store.materials.tables import Material

__all__ = [
    "APPLICANT_STATES",
    "UNIT_STATES",
    "check_decision",
    "download",
    "listing",
    "material_events",
    "upload",
]

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


def _objects(services: Services) -> ObjectStore:
    if services.objects is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no material storage configured")
    return services.objects


async def _target(services: Services, declaration_id: str) -> Target:
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


def _unprocessable(field: str, message: str, value: Any = None) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": value}]
    )


def _party(actor: Actor) -> str:
    return "applicant" if actor.role == "applicant" else "unit"


async def _refuse(
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


# --------------------------------------------------------------------------- upload


def _limit_for(kinds: dict[str, MaterialKind]) -> Callable[[dict[str, str]], int]:
    largest = max((k.max_mb for k in kinds.values()), default=1)

    def limit(fields: dict[str, str]) -> int:
        kind = kinds.get(fields.get("kind", ""))
        return (kind.max_mb if kind is not None else largest) * MB

    return limit


def _flag(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if text in ("", "false", "0", "off", "no"):
        return False
    if text in ("true", "1", "on", "yes"):
        return True
    return None


async def upload(
    services: Services,
    actor: Actor,
    declaration_id: str,
    request: Request,
    *,
    verify: Callable[[dict[str, str]], None] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Receive one file for the declaration; ``(its metadata, whether it is new)``. ``verify``
    checks the form's other fields (the console's CSRF token) before anything is kept."""
    action = "upload_material"
    target = await _target(services, declaration_id)
    reason = org_refusal(actor, target.facts)
    if reason:
        raise await forbidden(services, actor, reason, action=action, facts=target.facts)
    party, state = _party(actor), target.subject.state
    allowed = APPLICANT_STATES if party == "applicant" else UNIT_STATES
    if state not in allowed:
        raise await _refuse(
            services,
            actor,
            target,
            action=action,
            code=status.HTTP_409_CONFLICT,
            reason=(
                f"该申报当前处于「{state}」阶段，{'申报人' if party == 'applicant' else '单位'}不能上传"
                f"材料 / {party} materials are uploaded at {', '.join(sorted(allowed))}, not at "
                f"{state}"
            ),
        )
    objects = _objects(services)
    kinds = target.kinds
    received = await receive_upload(request, objects, limit_for=_limit_for(kinds))
    try:
        return await _accept(services, actor, target, received, verify)
    finally:
        received.discard()


async def _accept(
    services: Services,
    actor: Actor,
    target: Target,
    received: ReceivedUpload,
    verify: Callable[[dict[str, str]], None] | None,
) -> tuple[dict[str, Any], bool]:
    fields = received.fields
    if verify is not None:
        verify(fields)
    kind_name = fields.get("kind", "")
    catalogue = target.campaign.materials_catalogue
    if not kind_name:
        raise _unprocessable("kind", "缺少材料类别 kind / the field kind is missing")
    if kind_name not in catalogue:
        known = (
            ", ".join(catalogue) or "（本评审工作不接收上传材料 / this campaign takes no uploads）"
        )
        raise _unprocessable("kind", f"未知的材料类别 / unknown kind; known: {known}", kind_name)
    kind = target.kinds.get(kind_name)
    if kind is None:
        raise _unprocessable(
            "kind",
            f"材料类别 {kind_name} 不适用于该申报的级别或渠道 / kind {kind_name} does not apply to "
            f"level {target.subject.level} on route {target.subject.route}",
            kind_name,
        )
    if kind.uploader != _party(actor):
        who = "用人单位 unit" if kind.uploader == "unit" else "申报人 applicant"
        raise await _refuse(
            services,
            actor,
            target,
            action="upload_material",
            code=status.HTTP_403_FORBIDDEN,
            reason=f"材料 {kind_name} 由{who}上传 / {kind_name} is uploaded by the {kind.uploader}",
            detail={"kind": kind_name},
        )
    masked = _flag(fields.get("masked"))
    if masked is None:
        raise _unprocessable("masked", "masked 应为 true 或 false / masked is true or false")
    expect: object = ANY
    if "replaces" in fields:
        wanted = fields["replaces"].strip()
        if wanted and not is_material_id(wanted):
            raise _unprocessable("replaces", "不是材料编号 / not a material id", wanted)
        expect = wanted or None
    spool = received.spool
    if spool is None:
        raise _unprocessable("file", "缺少文件 / the field file is missing")
    name = received.filename or ""
    why = bad_filename(name)
    if why:
        raise _unprocessable("file", why, name[:200])
    if spool.size == 0:
        raise _unprocessable("file", "文件为空 / the file is empty")
    if spool.size > kind.max_mb * MB:
        raise too_large(kind.max_mb * MB)
    file_type = sniff(bytes(spool.head[:16]))
    if file_type is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "只接收 PDF、JPEG、PNG 文件（按文件内容判断，不看文件名）/ only PDF, JPEG and PNG are "
            "accepted, judged by the content, not the name",
        )
    if kind.types and file_type not in kind.types:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"材料 {kind_name} 只接收 {', '.join(t.upper() for t in kind.types)}，上传的是 "
            f"{file_type.upper()} / {kind_name} takes {', '.join(kind.types)}, this file is "
            f"{file_type}",
        )
    why = incomplete(file_type, spool.tail)
    pages = None
    if why is None:
        pages, why = await asyncio.to_thread(inspect_file, spool.path, file_type)
    if why:
        raise _unprocessable("file", why)
    new = NewMaterial(
        declaration_id=target.subject.declaration_id,
        campaign_id=target.subject.campaign_id,
        kind=kind_name,
        masked=masked,
        filename=name,
        content_type=CONTENT_TYPES[file_type],
        size=spool.size,
        sha256=received.sha256,
        pages=pages,
    )
    objects = _objects(services)
    at = await services.clock()

    def record(session: Any) -> Any:
        return record_upload(
            session,
            new,
            actor=actor,
            at=at,
            stage=target.subject.state,
            commit=lambda: objects.put(new.sha256, spool.path),
            expect_replaces=expect,
        )

    for attempt in (1, 2):
        try:
            done = await in_session(services.store, record)
            break
        except ReplacedMeanwhile as err:
            current = err.current or "none"
            raise await _refuse(
                services,
                actor,
                target,
                action="upload_material",
                code=status.HTTP_409_CONFLICT,
                reason=(
                    f"该材料已被其他上传替换（当前为 {current}），请刷新后重试 / this kind was "
                    f"replaced meanwhile (the current file is {current}): reload and retry"
                ),
                detail={"kind": kind_name, "expected": expect, "current": current},
            ) from None
        except IntegrityError:
            if attempt == 2:
                raise
    return material_json(done.material), done.created


# --------------------------------------------------------------------------- list and read


def _masked_item(item: dict[str, Any]) -> dict[str, Any]:
    ext = item["content_type"].rsplit("/", 1)[-1].replace("jpeg", "jpg")
    return {
        **item,
        "filename": f"{item['kind']}.{ext}",
        "uploaded_by": MASK,
        "uploader_org": MASK if item["uploader_org"] else "",
    }


async def _readable(services: Services, actor: Actor, declaration_id: str, action: str) -> Target:
    target = await _target(services, declaration_id)
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
    objects = _objects(services)
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


# --------------------------------------------------------------------------- decisions


async def check_decision(
    services: Services, actor: Actor, facts: DeclarationFacts, cmd: DecisionCommand
) -> None:
    """What the unit's decisions must agree with before they are sent (docs/rules.md §19):

    - a return's ``material:<kind>`` reason codes name kinds of the campaign's catalogue (422);
    - a ``publicity_result_ref`` that looks like a material id (``M-…``) names a current file of
      this declaration that the unit uploaded (422);
    - the unit approves at ``unit_review`` only when no required applicant material is missing
      (masked copies too under blind review), and signs its recommendation at
      ``unit_recommendation`` only once its own required material is uploaded: otherwise 409,
      naming the missing kinds, audited.
    """
    named = reason_kinds(cmd.reasons)
    ref = (cmd.publicity_result_ref or "").strip()
    approving_unit = cmd.outcome == "approve" and cmd.stage in (
        "unit_review",
        "unit_recommendation",
    )
    if not named and not ref.startswith("M-") and not approving_unit:
        return
    target = await _target(services, facts.id)
    catalogue = target.campaign.materials_catalogue
    unknown = [k for k in named if k not in catalogue]
    if unknown:
        raise _unprocessable(
            "reasons",
            f"理由代码中的材料类别不存在 / unknown material kinds in reasons: {', '.join(unknown)}",
            unknown,
        )
    if ref.startswith("M-") and cmd.stage == "unit_recommendation":
        files = await in_session(
            services.store, lambda s: current_files(s, facts.id), readonly=True
        )
        mine = {m.id: m for m in files}
        found = mine.get(ref) if is_material_id(ref) else None
        kind = catalogue.get(found.kind) if found is not None else None
        if found is None or kind is None or kind.uploader != "unit":
            raise _unprocessable(
                "publicity_result_ref",
                f"{ref} 不是该申报由单位上传的现行材料 / {ref} is not a current file the unit "
                "uploaded for this declaration",
                ref,
            )
    if not approving_unit or target.subject.state != cmd.stage:
        return  # a stage that is not the current one: the workflow answers that
    kinds = target.kinds
    blind = target.campaign.blind_review
    if cmd.stage == "unit_review":
        missing = await in_session(
            services.store,
            lambda s: missing_materials(
                s, facts.id, target.campaign, target.subject.level, target.subject.route, blind
            ),
            readonly=True,
        )
        reason = missing_refusal(missing, kinds, blind=blind) if missing else ""
    else:
        missing = await in_session(
            services.store,
            lambda s: missing_materials(
                s,
                facts.id,
                target.campaign,
                target.subject.level,
                target.subject.route,
                blind,
                uploaders=("unit",),
            ),
            readonly=True,
        )
        reason = unit_kinds_missing_refusal(missing, kinds) if missing else ""
    if missing:
        await Refusals(services).on_declaration(
            actor,
            facts,
            action="decide",
            reason=reason,
            status=409,
            detail={"code": "decide.materials_missing", "missing": missing, "stage": cmd.stage},
        )
        raise HTTPException(status.HTTP_409_CONFLICT, reason)
